"""Invoked by an operator: re-drive a dead-letter queue (or all of them) to the functions that failed.

Event: {"queue": "on_upload" | "sweeper" | "monthly_grant" | "batch_dispatcher" | "all", "limit": 100}.
"""

import json
from dataclasses import asdict
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from imagestudio.config import Settings
from imagestudio.event_handler import event_handler
from imagestudio.redrive import dead_letter_queues, pick, redrive


@cache
def _clients() -> tuple[Any, Any]:
    return boto3.client("sqs"), boto3.client("lambda")


def _invoke(function: str, event: Any) -> tuple[bool, Any]:
    response = _clients()[1].invoke(
        FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
    )
    answer = json.loads(response["Payload"].read() or b"null")
    return "FunctionError" not in response, answer


@event_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    queues = pick(dead_letter_queues(Settings.from_env().dead_letter_queues), event.get("queue"))
    limit = int(event.get("limit") or 100)
    sqs = _clients()[0]
    return {"queues": [asdict(redrive(sqs, _invoke, name, url, limit=limit)) for name, url in queues.items()]}
