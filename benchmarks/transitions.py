"""`make bench-transitions`: Step Functions state transitions per provider job, measured on the real
provider-job ASL executed by moto, for jobs of 1, 5 and 10 minutes of provider time.

The poll schedule decides how many polls a job of T seconds needs (the waits add up to T); the
offline provider is set to finish after exactly that many polls, waits are scaled to 0 so the run
is quick, and the transitions are counted from the execution history (StateEntered events, which
is what AWS bills for Standard workflows).
"""

from __future__ import annotations

import base64
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PRICE_PER_1000_TRANSITIONS = 0.025  # US$, Standard workflows (us-east-1)


ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "imagestudio" / "python"), str(ROOT)]


def polls_for(seconds: int) -> int:
    from imagestudio.operations.transform import wait_seconds

    waited, polls = 0, 0
    while waited < seconds:
        waited += wait_seconds(polls, None, 1.0)
        polls += 1
    return max(polls, 1)


def main() -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from PIL import Image

    from imagestudio.providers import registry
    from local.stack import LOCAL_PARAMETERS
    from tests.conftest import TEMPLATE, ApiClient, deploy

    image = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(image, "PNG")
    body = {"image": base64.b64encode(image.getvalue()).decode()}
    rows = []
    for minutes in (1, 5, 10):
        polls = polls_for(minutes * 60)
        for deployed in deploy(TEMPLATE, {**LOCAL_PARAMETERS, "PollWaitScale": "0", "LogLevel": "WARNING"}):
            os.environ["LOCAL_PROVIDER_POLLS"] = str(polls - 1)
            registry.reset()
            client = ApiClient(deployed, Path(tempfile.mkdtemp()))
            _, job = client.call("POST", "/api/image-studio/transform/image-to-3d", user="bench", body=body)
            sfn = deployed.session.client("stepfunctions")
            arn = deployed.plan.outputs["ProviderJobStateMachineArn"].replace(":stateMachine:", ":execution:")
            execution = f"{arn}:{job['id']}"
            while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
                time.sleep(0.02)
            events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
            transitions = sum(1 for e in events if e["type"].endswith("StateEntered"))
            status = sfn.describe_execution(executionArn=execution)["status"]
            rows.append((minutes, polls, transitions, status))
    callback = callback_transitions(body)
    print("Provider-job state machine (measured on the real ASL in moto)")
    print(
        f"{'provider time':>14}{'polls':>7}{'transitions':>13}{'x 1 min':>9}"
        f"{'US$ per 1,000 jobs':>20}  status"
    )
    base = rows[0][2]
    for minutes, polls, transitions, status in rows:
        cost = transitions * 1000 * PRICE_PER_1000_TRANSITIONS / 1000
        print(
            f"{minutes:>11} min{polls:>7}{transitions:>13}{transitions / base:>9.2f}{cost:>20.3f}"
            f"  {status} (polling)"
        )
    cost = callback * PRICE_PER_1000_TRANSITIONS
    print(
        f"{'any length':>14}{0:>7}{callback:>13}{callback / base:>9.2f}{cost:>20.3f}"
        "  callback mode (signed webhook)"
    )


def callback_transitions(body: dict[str, str]) -> int:
    """One job in callback mode: the provider finishes, then its signed webhook resumes the machine."""
    import json

    from imagestudio.providers import registry
    from local.stack import LOCAL_PARAMETERS
    from tests.conftest import TEMPLATE, ApiClient, deploy
    from tests.integration.test_callback_mode import offline_secret, signed

    params = {
        **LOCAL_PARAMETERS,
        "PollWaitScale": "0.005",
        "LogLevel": "WARNING",
        "CallbackProviders": "stability",
    }
    for deployed in deploy(TEMPLATE, params):
        os.environ["LOCAL_PROVIDER_POLLS"] = "3"
        registry.reset()
        client = ApiClient(deployed, Path(tempfile.mkdtemp()))
        _, job = client.call("POST", "/api/image-studio/transform/image-to-3d", user="bench", body=body)
        sfn = deployed.session.client("stepfunctions")
        arn = deployed.plan.outputs["ProviderJobStateMachineArn"].replace(":stateMachine:", ":execution:")
        execution = f"{arn}:{job['id']}"

        def entered(sfn: Any = sfn, execution: str = execution) -> list[str]:
            events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
            return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]

        while "WaitForCallback" not in entered():
            time.sleep(0.02)
        provider_job = client.call("GET", f"/api/image-studio/jobs/{job['id']}", user="bench")[1][
            "provider_job_id"
        ]
        for _ in range(3):
            registry.provider("stability").poll(provider_job)
        payload = json.dumps({"id": provider_job}).encode()
        headers = {"host": "bench", **signed(payload, "bench-1", secret=offline_secret(client))}
        status, _, answer = client.api.handle(
            "POST", "/api/image-studio/webhooks/stability", headers, payload
        )
        if status != 200:
            raise RuntimeError(f"the webhook was refused ({status}): {answer!r}")
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
            time.sleep(0.02)
        return len(entered())
    raise RuntimeError("no deployment")


if __name__ == "__main__":
    main()
