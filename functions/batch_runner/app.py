"""The batch state machine's tasks: begin, run_row, check_row, settle_row, finish."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from imagestudio.batches.runner import handle
from imagestudio.event_handler import event_handler
from imagestudio.ports import current_ports as ports


@event_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    p = ports()
    return handle(p, p.settings, event)
