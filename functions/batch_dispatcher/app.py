"""Scheduled every minute: start every due batch exactly once."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from imagestudio.batches.dispatch import dispatch_due
from imagestudio.event_handler import event_handler
from imagestudio.ports import current_ports as ports


@event_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    p = ports()
    started = dispatch_due(p, p.settings)
    return {"started": len(started), "runs": started}
