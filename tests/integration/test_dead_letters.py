"""Asynchronous paths honour the template's EventInvokeConfig offline: an event that fails every
attempt lands in the function's dead-letter queue (moto's SQS), and RedriveFunction takes it back.
Re-driving is safe: an upload becomes one asset, a month's grant is granted once per user."""

from __future__ import annotations

import json
from typing import Any

import pytest

from imagestudio.credits.ledger import Ledger
from imagestudio.operations import uploads
from tests.conftest import ApiClient, Deployed
from tests.integration.test_uploads import photo_with_gps, put, start

P = "/api/image-studio"


def waiting(deployed: Deployed, logical: str) -> list[dict[str, Any]]:
    """The failure records in a dead-letter queue (left in it: received with no visibility timeout)."""
    sqs = deployed.session.client("sqs")
    url = sqs.get_queue_url(QueueName=deployed.plan.queue_name(logical))["QueueUrl"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def test_every_async_function_has_its_queue_and_retry_policy(deployed: Deployed) -> None:
    configs = {f.logical_id: f.async_config for f in deployed.plan.functions if f.async_config.on_failure}
    assert set(configs) == {
        "OnUploadFunction",
        "SweeperFunction",
        "MonthlyGrantFunction",
        "BatchDispatcherFunction",
    }
    assert configs["OnUploadFunction"].max_retries == 2
    assert configs["SweeperFunction"].max_retries == 0  # the next run retries: a failed one is recorded


def test_a_failing_upload_lands_in_the_dead_letter_queue_and_a_redrive_makes_one_asset(
    client: ApiClient, deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    verify = uploads.verify_image

    def broken(data: bytes, **kwargs: Any) -> Any:
        calls.append(1)
        raise RuntimeError("the disk is full")

    ticket = start(client, "alice")
    upload_id = ticket["upload"]["id"]
    with monkeypatch.context() as patched:
        patched.setattr(uploads, "verify_image", broken)
        put(client, ticket, photo_with_gps())
        assert len(calls) == 3  # the first attempt and MaximumRetryAttempts (2) retries
        [record] = waiting(deployed, "OnUploadDeadLetterQueue")
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert (
            record["requestContext"]["functionArn"].split(":")[6]
            == deployed.plan.function("OnUploadFunction").name
        )
        assert record["responsePayload"]["errorMessage"] == "the disk is full"
        assert (
            client.call("GET", f"{P}/uploads/{upload_id}", user="alice")[1]["upload"]["status"] == "pending"
        )

        # Re-driven while the cause is still there: it fails again and stays in the queue.
        still = deployed.invoke("RedriveFunction", {"queue": "on_upload"})
        assert still.payload["queues"][0]["failed"] == 1, still.payload
        assert len(waiting(deployed, "OnUploadDeadLetterQueue")) == 1

    assert uploads.verify_image is verify
    done = deployed.invoke("RedriveFunction", {"queue": "on_upload"})
    assert done.payload["queues"] == [
        {"queue": "on_upload", "redriven": 1, "failed": 0, "skipped": 0, "errors": []}
    ]
    assert waiting(deployed, "OnUploadDeadLetterQueue") == []
    body = client.call("GET", f"{P}/uploads/{upload_id}", user="alice")[1]
    assert body["upload"]["status"] == "ready" and body["asset"]["id"] == upload_id
    assets = client.call("GET", f"{P}/assets", user="alice")[1]["assets"]
    assert [a["id"] for a in assets] == [upload_id]
    # Nothing left: a second re-drive does nothing.
    again = deployed.invoke("RedriveFunction", {})
    assert all(q["redriven"] == 0 for q in again.payload["queues"])
    assert deployed.invoke("RedriveFunction", {"queue": "nope"}).payload["errorType"] == "InvalidInput"


def test_an_upload_delivered_again_after_its_bytes_became_the_asset_is_finished(
    client: ApiClient, deployed: Deployed, domain: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first delivery made the asset and removed the upload's bytes, then failed before marking the
    upload ready: the next delivery (a retry or a re-drive) finishes it instead of leaving it pending."""
    settle = domain.uploads.settle
    ticket = start(client, "alice")
    upload_id = ticket["upload"]["id"]
    failures: list[int] = []

    def settle_fails_once(upload: Any, **kwargs: Any) -> bool:
        if not failures:
            failures.append(1)
            raise RuntimeError("DynamoDB throttled")
        return bool(settle(upload, **kwargs))

    monkeypatch.setattr(type(domain.uploads), "settle", lambda self, u, **kw: settle_fails_once(u, **kw))
    put(client, ticket, photo_with_gps())
    assert failures == [1]  # the first attempt failed; the retry finished it
    body = client.call("GET", f"{P}/uploads/{upload_id}", user="alice")[1]
    assert body["upload"]["status"] == "ready" and body["asset"]["id"] == upload_id
    assert waiting(deployed, "OnUploadDeadLetterQueue") == []


def test_a_redriven_monthly_grant_grants_each_user_once(
    deployed: Deployed, domain: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for user in ("ann", "ben", "cy"):
        domain.ledger.account(user)
    grant = Ledger.grant
    seen: list[str] = []

    def grant_fails_for_ben(self: Ledger, user: str, grant_id: str, credits: int, reason: str) -> Any:
        if user == "ben" and grant_id.startswith("monthly-"):
            seen.append(user)
            raise RuntimeError("throttled")
        return grant(self, user, grant_id, credits, reason)

    event = {"time": "2027-03-01T00:05:00Z", "detail-type": "Scheduled Event", "source": "aws.events"}
    with monkeypatch.context() as patched:
        patched.setattr(Ledger, "grant", grant_fails_for_ben)
        deployed.runtime.invoke_event(deployed.plan.function("MonthlyGrantFunction").name, event)
    assert len(seen) == 3
    [record] = waiting(deployed, "MonthlyGrantDeadLetterQueue")
    assert record["requestPayload"]["time"] == event["time"]

    done = deployed.invoke("RedriveFunction", {"queue": "monthly_grant"})
    assert done.payload["queues"][0]["redriven"] == 1, done.payload
    for user in ("ann", "ben", "cy"):
        entries, _ = domain.ledger.entries(user, limit=50)
        grants = [e for e in entries if e.kind == "grant" and "2027-03" in e.reason]
        assert len(grants) == 1, (user, entries)


def test_a_message_that_is_not_a_failure_record_is_reported_and_kept(deployed: Deployed) -> None:
    sqs = deployed.session.client("sqs")
    url = sqs.get_queue_url(QueueName=deployed.plan.queue_name("SweeperDeadLetterQueue"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hand-written, not from Lambda")
    result = deployed.invoke("RedriveFunction", {"queue": "sweeper"}).payload["queues"][0]
    assert (result["redriven"], result["failed"], result["skipped"]) == (0, 0, 1)
    assert "not a Lambda failure record" in result["errors"][0]
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "1"
    )  # kept, visible again for whoever looks next
