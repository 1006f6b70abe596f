"""The provider-job state machine's tasks: submit, poll (store and settle when done), fail (release)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from imagestudio.event_handler import event_handler
from imagestudio.operations import transform
from imagestudio.ports import current_ports as ports


@event_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    p = ports()
    scale = p.settings.poll_wait_scale
    action, owner, job_id = event["action"], event["owner"], event["job_id"]
    if action == "submit":
        return transform.submit(p, owner, job_id, scale)
    if action == "poll":
        return transform.poll(p, owner, job_id, int(event.get("polls", 0)), scale)
    if action == "await":
        return transform.await_callback(p, owner, job_id, event["token"])
    if action == "fail":
        return transform.fail(p, owner, job_id, event.get("error"))
    raise ValueError(f"unknown action {action!r}")
