"""Work whose execution did not survive a restart of the offline stack (imagestudio.batches.recovery):
re-driven where it can be, otherwise failed with the reason and its credits released; never charged
twice, and running the recovery again changes nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest

from imagestudio.operations.jobs import open_job
from imagestudio.store.workflows import Workflows
from local.stack import INTERRUPTED, recover_after_restart
from tests.conftest import ApiClient, Deployed
from tests.integration.test_batches import balance, png, saved_asset, wait_ended

P = "/api/image-studio"


@pytest.fixture(autouse=True)
def pro_alice(domain: Any) -> None:
    domain.ledger.account("alice")
    domain.ledger.set_plan("alice", "pro")
    domain.ledger.grant("alice", "recovery-tests", 2000, "room for a few jobs")


def lost_executions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Executions that are started but never run: what a restart of the emulator leaves behind."""
    started: list[str] = []

    def start(self: Workflows, machine: str, name: str, payload: dict[str, Any]) -> str:
        started.append(name)
        return f"{machine.replace(':stateMachine:', ':execution:')}:{name}"

    monkeypatch.setattr(Workflows, "start", start)
    return started


def job_ended(client: ApiClient, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.call("GET", f"{P}/jobs/{job_id}", user="alice")[1]
        if job["status"] not in ("queued", "running"):
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} is still open: {job}")


def test_open_jobs_are_redriven_or_failed_and_released(
    client: ApiClient, deployed: Deployed, domain: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = balance(client)
    with monkeypatch.context() as patched:
        lost = lost_executions(patched)
        status, video = client.call(
            "POST", f"{P}/transform/image-to-video", user="alice", body={"image": png(), "resolution": "480p"}
        )
    assert status == 202 and lost == [video["id"]], video
    # A synchronous create that was inside its function when the process died: reserved, never ended.
    orphan = open_job(domain, "alice", operation="generate", credits=7, usd="0.07", inputs={})
    assert balance(client)[1] == video["estimated_credits"] + 7

    recovered = recover_after_restart(deployed.plan)
    assert recovered.jobs_redriven == [video["id"]] and recovered.jobs_failed == [orphan.id]

    failed = client.call("GET", f"{P}/jobs/{orphan.id}", user="alice")[1]
    assert failed["status"] == "failed" and failed["error"]["message"] == INTERRUPTED, failed
    done = job_ended(client, video["id"])  # the provider-job machine ran it from the start
    assert done["status"] == "succeeded" and done["outputs"], done
    assert balance(client) == (before[0] - video["estimated_credits"], 0)

    again = recover_after_restart(deployed.plan)
    assert vars(again) == {k: [] for k in vars(again)}
    entries = client.call("GET", f"{P}/credits/ledger?limit=100", user="alice")[1]["entries"]
    kinds = sorted((e["kind"], e["ref"]) for e in entries if e["ref"] in (orphan.id, video["id"]))
    assert kinds == sorted(
        [("reserve", orphan.id), ("release", orphan.id), ("reserve", video["id"]), ("capture", video["id"])]
    )


def test_a_batch_in_flight_is_resumed_and_an_interrupted_row_is_not_charged(
    client: ApiClient, deployed: Deployed, domain: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asset = saved_asset(client)
    before = balance(client)
    rows = [{"operation": "create", "prompt": f"poster {i}", "quality": "draft"} for i in range(3)]
    rows.append({"operation": "upscale", "asset_id": asset, "mode": "fast"})
    with monkeypatch.context() as patched:
        lost = lost_executions(patched)
        status, sent = client.call("POST", f"{P}/batches", user="alice", body={"items": rows})
    assert status == 202 and len(lost) == 1, sent
    batch_id = sent["batch"]["id"]
    # The machine had begun and was running the first row (a short one, inside its function) at the stop.
    batch = domain.batches.get("alice", batch_id)
    domain.batches.replace(batch.model_copy(update={"status": "running"}), expected_status={"queued"})
    first = next(domain.batches.all_rows(batch_id))
    domain.batches.update_row(first.model_copy(update={"status": "running"}), expected={"pending"})

    recovered = recover_after_restart(deployed.plan)
    assert recovered.batches_redriven == [batch_id], vars(recovered)

    ended = wait_ended(client, batch_id)
    assert (ended["status"], ended["succeeded"], ended["failed"]) == ("partial", 3, 1), ended
    assert ended["executions"] == 2
    items = client.call("GET", f"{P}/batches/{batch_id}/items?status=failed", user="alice")[1]["items"]
    assert [(i["row"], i["credits_charged"], i["error"]["message"]) for i in items] == [
        (first.row, 0, INTERRUPTED)
    ]
    assert balance(client) == (before[0] - ended["credits_charged"], 0)
    assert ended["credits_charged"] > 0
