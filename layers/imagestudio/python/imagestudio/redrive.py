"""Re-driving dead letters: what an asynchronous invocation left in its function's OnFailure queue
goes back to that function.

Each message is Lambda's destination record: `requestContext.functionArn` names the function and
`requestPayload` is the event it failed on. A message is deleted only once its function handled the
event; one that fails again stays in the queue (visible again at the end of the run) for the next
re-drive. Safe because the functions behind the queues are idempotent: an upload is verified into one
asset, a month's grant is granted once per user, a sweep or a dispatch repeats nothing already done.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from imagestudio.errors import InvalidInput, unknown_choice

# (function ARN or name, event) -> (handled?, the function's answer)
Invoke = Callable[[str, Any], tuple[bool, Any]]


@dataclass
class Redriven:
    queue: str
    redriven: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def dead_letter_queues(spec: str) -> dict[str, str]:
    """`name=url,name=url` (the DEAD_LETTER_QUEUES variable) -> {name: queue url}."""
    queues = {}
    for pair in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, url = pair.partition("=")
        if not sep or not url:
            raise ValueError(f"DEAD_LETTER_QUEUES takes name=url pairs, got {pair!r}")
        queues[name.strip()] = url.strip()
    return queues


def pick(queues: dict[str, str], name: str | None) -> dict[str, str]:
    """The queues to re-drive: one by name, or all of them when no name (or "all") is given."""
    if name in (None, "", "all"):
        return queues
    if name not in queues:
        raise unknown_choice("queue", str(name), [*queues, "all"], status=422)
    return {name: queues[name]}


def target(record: dict[str, Any]) -> str:
    """The unqualified ARN of the function a destination record is about."""
    arn = str(record["requestContext"]["functionArn"])
    head, sep, tail = arn.partition(":function:")
    if not sep:
        raise InvalidInput(f"{arn!r} is not a function ARN")
    return f"{head}:function:{tail.split(':')[0]}"


def redrive(sqs: Any, invoke: Invoke, name: str, queue_url: str, *, limit: int = 100) -> Redriven:
    """Move up to `limit` messages of one queue back through their functions."""
    out = Redriven(queue=name)
    retry: list[str] = []
    while out.redriven + out.failed + out.skipped < limit:
        batch = min(10, limit - (out.redriven + out.failed + out.skipped))
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=batch, WaitTimeSeconds=0, VisibilityTimeout=300
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            try:
                record = json.loads(message["Body"])
                function, event = target(record), record["requestPayload"]
            except (ValueError, KeyError, TypeError, InvalidInput) as exc:
                out.skipped += 1
                out.errors.append(f"{message['MessageId']}: not a Lambda failure record ({exc})")
                retry.append(message["ReceiptHandle"])
                continue
            handled, answer = invoke(function, event)
            if handled:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                out.redriven += 1
            else:
                out.failed += 1
                out.errors.append(f"{message['MessageId']}: {json.dumps(answer, default=str)[:300]}")
                retry.append(message["ReceiptHandle"])
    for handle in retry:  # visible again now: the queue shows what is still waiting
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return out
