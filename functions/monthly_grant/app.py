"""Scheduled on the 1st of each month: every user gets their plan's monthly credits, once."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from imagestudio.event_handler import event_handler
from imagestudio.ports import current_ports as ports


@event_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The period comes from the event's time, so a late or repeated run grants the same month once.
    when = (
        datetime.fromisoformat(event["time"].replace("Z", "+00:00")) if "time" in event else datetime.now(UTC)
    )
    period = when.strftime("%Y-%m")
    return {"period": period, "granted": ports().ledger.monthly_grant(period)}
