"""`make bench-batches`: how a batch's concurrency pays off, and what the batch machine costs per row.

The template is provisioned in moto (decorator mode, as the integration tests do) with the offline
provider; PollWaitScale 0. 20 create rows (draft, one variation each) run as one batch at concurrency
1, 4 and 10, and the same 20 creates are called one after the other through the API. Each is timed
once per round, 3 rounds, the median reported. The offline provider answers after
LOCAL_PROVIDER_LATENCY seconds (1.0 here, a remote provider's order of magnitude; set it to 0 to see
the machine's own CPU cost, which two cores cannot parallelise). Last line:
`speedup_c4=X.X speedup_c10=Y.Y overhead_c1_vs_direct=Z.Z`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ROWS = 20
ROUNDS = 3
P = "/api/image-studio"


def _env() -> None:
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(key, None)
    os.environ |= {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "LOG_LEVEL": "WARNING",
        "LOCAL_PROVIDER_LATENCY": os.environ.get("LOCAL_PROVIDER_LATENCY", "1.0"),
    }


def _wait(client: Any, user: str, batch_id: str) -> dict[str, Any]:
    while True:
        batch = client.call("GET", f"{P}/batches/{batch_id}", user=user)[1]
        if batch["status"] in ("succeeded", "partial", "failed", "canceled"):
            return dict(batch)
        time.sleep(0.02)


def main() -> None:
    _env()
    from local.stack import LOCAL_PARAMETERS
    from tests.conftest import TEMPLATE, ApiClient, deploy

    rows = [{"operation": "create", "prompt": f"spring poster {i}", "quality": "draft"} for i in range(ROWS)]
    times: dict[str, list[float]] = {"direct": [], "c1": [], "c4": [], "c10": []}
    for deployed in deploy(TEMPLATE, {**LOCAL_PARAMETERS, "PollWaitScale": "0"}):
        client = ApiClient(deployed, Path(tempfile.mkdtemp()))
        for n in range(ROUNDS):
            user = f"bench{n}"
            client.call("GET", f"{P}/credits", user=user)
            from imagestudio.api.context import ports
            from imagestudio.config import environment_view

            with environment_view(deployed.plan.function("JobsFunction").environment):
                ledger = ports().ledger
                ledger.set_plan(user, "enterprise")
                ledger.grant(user, f"bench-{n}", 100_000, "benchmark")
            start = time.perf_counter()
            for row in rows:
                body = {k: v for k, v in row.items() if k != "operation"}
                status, _ = client.call("POST", f"{P}/create", user=user, body=body)
                assert status == 200
            times["direct"].append(time.perf_counter() - start)
            for concurrency in (1, 4, 10):
                start = time.perf_counter()
                status, sent = client.call(
                    "POST", f"{P}/batches", user=user, body={"items": rows, "concurrency": concurrency}
                )
                assert status == 202, sent
                batch = _wait(client, user, sent["batch"]["id"])
                assert batch["succeeded"] == ROWS, batch
                times[f"c{concurrency}"].append(time.perf_counter() - start)
    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"{ROWS} create rows, median of {ROUNDS} rounds (seconds; rows per second):")
    for name, label in (
        ("direct", f"{ROWS} POST create, one after the other"),
        ("c1", "batch, concurrency 1"),
        ("c4", "batch, concurrency 4"),
        ("c10", "batch, concurrency 10"),
    ):
        print(f"  {label:<38} {median[name]:7.2f} s  {ROWS / median[name]:6.1f} rows/s")
    print(
        f"speedup_c4={median['c1'] / median['c4']:.1f} speedup_c10={median['c1'] / median['c10']:.1f} "
        f"overhead_c1_vs_direct={median['c1'] / median['direct']:.1f}"
    )


if __name__ == "__main__":
    main()
