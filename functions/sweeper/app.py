"""Scheduled: expire open jobs past their deadline and release their credits."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from imagestudio.event_handler import event_handler
from imagestudio.operations.jobs import sweep_overdue
from imagestudio.ports import current_ports as ports


@event_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    expired = sweep_overdue(ports())
    return {"expired": len(expired), "jobs": expired}
