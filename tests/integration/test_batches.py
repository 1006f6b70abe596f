"""Batches on the real batch ASL (and the provider-job ASL for long rows) executed by moto."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from typing import Any

import pytest
from PIL import Image

from tests.conftest import ApiClient

P = "/api/image-studio"
ENDED = {"succeeded", "partial", "failed", "canceled"}


def png(colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (256, 320)) -> str:
    out = io.BytesIO()
    im = Image.new("RGB", size, colour)
    im.paste((20, 20, 20), (60, 80, 180, 220))
    im.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def saved_asset(client: ApiClient, user: str = "alice") -> str:
    status, body = client.call(
        "POST", f"{P}/save-to-library", user=user, body={"image": png(), "title": "in"}
    )
    assert status == 200, body
    return str(body["assets"][0]["id"])


def balance(client: ApiClient, user: str = "alice") -> tuple[int, int]:
    body = client.call("GET", f"{P}/credits", user=user)[1]
    return body["available"], body["reserved"]


def wait_ended(client: ApiClient, batch_id: str, user: str = "alice", timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, batch = client.call("GET", f"{P}/batches/{batch_id}", user=user)
        assert status == 200, batch
        if batch["status"] in ENDED:
            return batch
        time.sleep(0.1)
    raise AssertionError(f"batch {batch_id} did not end: {batch}")


def manifest(
    client: ApiClient, domain: Any, batch: dict[str, Any]
) -> tuple[list[dict[str, str]], dict[str, Any]]:
    base = f"batches/alice/{batch['id']}/manifest"
    rows = list(csv.DictReader(io.StringIO(domain.blobs.get(f"{base}.csv").decode())))
    return rows, json.loads(domain.blobs.get(f"{base}.json"))


@pytest.fixture(autouse=True)
def pro_alice(domain: Any) -> None:
    domain.ledger.account("alice")
    domain.ledger.set_plan("alice", "pro")
    domain.ledger.grant("alice", "batch-tests", 2000, "batches need more than the signup grant")


def test_templates_describe_every_operation(client: ApiClient) -> None:
    status, body = client.call("GET", f"{P}/batches/templates", user="alice")
    assert status == 200
    ops = {t["operation"] for t in body["templates"]}
    assert {"create", "edit", "upscale", "control", "social", "image-to-video"} <= ops
    status, text = client.call("GET", f"{P}/batches/templates/create", user="alice")
    assert status == 200 and text.decode().splitlines()[0].startswith("operation,")
    assert client.call("GET", f"{P}/batches/templates/paint", user="alice")[0] == 422


def test_preview_then_run_charges_only_what_succeeded(
    client: ApiClient, domain: Any, monkeypatch: Any
) -> None:
    asset = saved_asset(client)
    lines = ["operation,prompt,num_variations,quality,asset_id,edit_operation,control_operation,platforms"]
    lines += [f"create,red sneakers on a beach {i},1,draft,,,," for i in range(4)]
    lines += [f"edit,,,,{asset},remove_background,,", f"upscale,,,,{asset},,,"]
    lines += [f"control,a sketch {i},,,{asset},,sketch," for i in range(2)]
    lines += [f"social,,,,{asset},,,instagram|tiktok"]
    text = "\n".join(lines) + "\n"
    before = balance(client)

    status, dry = client.call("POST", f"{P}/batches", user="alice", body={"csv": text, "dry_run": True})
    assert status == 200, dry
    preview = dry["preview"]
    assert preview["rows_valid"] == 9 and preview["rows_invalid"] == 0 and preview["allowed"] is True, (
        preview["problems"]
    )
    assert preview["total_credits"] == sum(r["credits"] for r in preview["rows"]) > 0
    assert [r["operation"] for r in preview["rows"]][-1] == "social" and preview["rows"][-1]["credits"] == 0
    assert dry["batch"] is None and balance(client) == before
    assert client.call("GET", f"{P}/batches", user="alice")[1]["batches"] == []

    monkeypatch.setenv("LOCAL_PROVIDER_FAULTS", "control:moderation")  # fails only at run time
    status, sent = client.call("POST", f"{P}/batches", user="alice", body={"csv": text, "name": "launch"})
    assert status == 202, sent
    batch = wait_ended(client, sent["batch"]["id"])
    assert batch["status"] == "partial", batch
    assert (batch["succeeded"], batch["failed"], batch["total"]) == (7, 2, 9)
    assert batch["percent"] == 100 and batch["manifest_csv_url"] and batch["manifest_json_url"]

    rows, summary = manifest(client, domain, batch)
    assert [int(r["row"]) for r in rows] == list(range(2, 11))
    failed = [r for r in rows if r["status"] == "failed"]
    assert {r["operation"] for r in failed} == {"control"} and all(r["error_message"] for r in failed)
    assert all(r["output_asset_ids"] for r in rows if r["status"] == "succeeded")
    assert summary["batch"]["succeeded"] == 7 and len(summary["rows"]) == 9

    charged = sum(int(r["credits_charged"]) for r in rows)
    assert charged == batch["credits_charged"] > 0
    assert all(int(r["credits_charged"]) == 0 for r in failed)
    after = balance(client)
    assert after == (before[0] - charged, 0)  # failed rows were released; nothing stays reserved

    status, items = client.call("GET", f"{P}/batches/{batch['id']}/items?status=failed", user="alice")
    assert status == 200 and len(items["items"]) == 2
    assert client.call("GET", f"{P}/batches/{batch['id']}", user="bob")[0] == 404
    assert client.call("GET", f"{P}/batches/{batch['id']}/items", user="bob")[0] == 404


def test_bad_rows_are_reported_before_anything_runs(client: ApiClient, domain: Any) -> None:
    asset = saved_asset(client)
    rows = [f"create,poster {i},1,draft," for i in range(50)]
    rows[4] = "create,,1,draft,"  # no prompt
    rows[19] = "paint,poster,1,draft,"  # unknown operation
    rows[33] = "upscale,,,,01NOPE"  # not in the library
    rows[40] = f"upscale,,,,{asset}"
    text = "operation,prompt,num_variations,quality,asset_id\n" + "\n".join(rows)
    before = balance(client)
    status, err = client.call("POST", f"{P}/batches", user="alice", body={"csv": text})
    assert status == 422, err
    errors = err["error"]["details"]["errors"]
    assert sorted({e["row"] for e in errors}) == [6, 21, 35]
    by_row = {e["row"]: e for e in errors}
    assert by_row[6]["column"] == "prompt" and by_row[21]["column"] == "operation"
    assert by_row[35]["column"] == "asset_id" and "01NOPE" in by_row[35]["message"]
    assert balance(client) == before and client.call("GET", f"{P}/batches", user="alice")[1]["batches"] == []

    status, sent = client.call("POST", f"{P}/batches", user="alice", body={"csv": text, "skip_invalid": True})
    assert status == 202, sent
    batch = wait_ended(client, sent["batch"]["id"])
    assert batch["total"] == 47 and batch["succeeded"] == 47 and batch["status"] == "partial"
    rows_out, _ = manifest(client, domain, batch)
    assert [r["row"] for r in rows_out if r["status"] == "invalid"] == ["6", "21", "35"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"csv": "prompt,quality\nhello,draft\n"}, "operation"),
        ({"csv": 'operation,prompt\ncreate,=HYPERLINK("http://x")\n'}, "formula"),
        ({"csv": 'operation,prompt\ncreate,"unclosed\n'}, "quote"),
        ({"csv": "operation,prompt\n" + "create,x\n" * 1001}, "1000"),
        ({"items": [{"operation": "upscale", "image": "data:..."}]}, "asset_id"),
        ({"csv": "operation,prompt\ncreate,x\n", "items": []}, "exactly one"),
    ],
)
def test_malformed_batches_are_refused_clearly(client: ApiClient, body: dict[str, Any], words: str) -> None:
    status, err = client.call("POST", f"{P}/batches", user="alice", body=body)
    assert status == 422, err
    assert words in json.dumps(err), err


def test_a_csv_upload_that_is_not_utf8_is_explained(client: ApiClient, domain: Any) -> None:
    from imagestudio.csvtext import decode_csv
    from imagestudio.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        decode_csv("operation,prompt\ncreate,café\n".encode("latin-1"))
    assert "UTF-8" in caught.value.message


def video_rows(asset: str, n: int) -> list[dict[str, Any]]:
    return [
        {"operation": "image-to-video", "asset_id": asset, "prompt": f"slow pan {i}", "resolution": "480p"}
        for i in range(n)
    ]


def test_long_rows_run_the_provider_job_machine_and_wait_for_it(client: ApiClient, domain: Any) -> None:
    asset = saved_asset(client)
    before = balance(client)
    status, sent = client.call("POST", f"{P}/batches", user="alice", body={"items": video_rows(asset, 2)})
    assert status == 202, sent
    batch = wait_ended(client, sent["batch"]["id"])
    assert batch["status"] == "succeeded" and batch["succeeded"] == 2, batch
    items = client.call("GET", f"{P}/batches/{batch['id']}/items", user="alice")[1]["items"]
    for item in items:
        job = client.call("GET", f"{P}/jobs/{item['job_id']}", user="alice")[1]
        assert job["status"] == "succeeded" and [o["asset_id"] for o in job["outputs"]] == item["outputs"]
        video = client.call("GET", f"{P}/assets/{item['outputs'][0]}", user="alice")[1]
        assert video["type"] == "video" and video["parent_id"] == asset
    assert balance(client) == (before[0] - batch["credits_charged"], 0)
    assert batch["credits_charged"] == batch["credits_estimated"] > 0


def dispatcher_env(client: ApiClient) -> Any:
    from imagestudio.config import environment_view

    return environment_view(client.deployed.plan.function("BatchDispatcherFunction").environment)


def test_a_scheduled_batch_starts_once_even_if_the_dispatcher_runs_twice(
    client: ApiClient, domain: Any
) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime, timedelta

    at = datetime.now(UTC) + timedelta(seconds=1)
    body = {
        "items": [{"operation": "create", "prompt": "poster", "quality": "draft"}],
        "schedule_at": at.isoformat(),
    }
    status, sent = client.call("POST", f"{P}/batches", user="alice", body=body)
    assert status == 202, sent
    assert sent["batch"]["status"] == "scheduled" and sent["batch"]["next_run_at"]
    assert client.deployed.invoke("BatchDispatcherFunction", {}).payload["started"] == 0  # not yet
    time.sleep(1.2)
    with ThreadPoolExecutor(2) as pool:
        runs = list(
            pool.map(lambda _: client.deployed.invoke("BatchDispatcherFunction", {}).payload, range(2))
        )
    assert sorted(r["started"] for r in runs) == [0, 1], runs
    batch = wait_ended(client, sent["batch"]["id"])
    assert batch["status"] == "succeeded" and batch["executions"] == 1
    again = client.deployed.invoke("BatchDispatcherFunction", {}).payload
    assert again["started"] == 0
    jobs = client.call("GET", f"{P}/jobs", user="alice")[1]["jobs"]
    assert len(jobs) == 1, jobs  # one run, one job


def test_a_recurring_batch_makes_a_run_per_due_time(client: ApiClient, domain: Any) -> None:
    from datetime import timedelta

    from imagestudio.api.context import ports
    from imagestudio.batches.dispatch import dispatch_due

    body = {
        "items": [{"operation": "create", "prompt": "daily post", "quality": "draft"}],
        "schedule": "rate(1 day)",
        "name": "daily",
    }
    status, sent = client.call("POST", f"{P}/batches", user="alice", body=body)
    assert status == 202, sent
    schedule = sent["batch"]
    assert schedule["kind"] == "schedule" and schedule["status"] == "scheduled"
    assert (
        client.call("POST", f"{P}/batches", user="alice", body={**body, "schedule": "rate(1 minute)"})[0]
        == 422
    )
    due = domain.batches.get("alice", schedule["id"]).next_run_at
    with dispatcher_env(client):
        p = ports()
        (first,) = dispatch_due(p, p.settings, now=due + timedelta(seconds=1))
        assert dispatch_due(p, p.settings, now=due + timedelta(seconds=2)) == []
        (second,) = dispatch_due(p, p.settings, now=due + timedelta(days=1, seconds=1))
    for run_id in (first, second):
        run = wait_ended(client, run_id)
        assert run["run_of"] == schedule["id"] and run["status"] == "succeeded"
    assert [wait_ended(client, r)["name"] for r in (first, second)] == ["daily #1", "daily #2"]
    after = client.call("GET", f"{P}/batches/{schedule['id']}", user="alice")[1]
    assert after["run_count"] == 2 and after["status"] == "scheduled"

    # pause keeps it out of the dispatcher; cancel ends it
    assert client.call("POST", f"{P}/batches/{schedule['id']}/pause", user="alice")[1]["status"] == "paused"
    with dispatcher_env(client):
        assert dispatch_due(p, p.settings, now=due + timedelta(days=30)) == []
    assert (
        client.call("POST", f"{P}/batches/{schedule['id']}/resume", user="alice")[1]["status"] == "scheduled"
    )
    assert (
        client.call("POST", f"{P}/batches/{schedule['id']}/cancel", user="alice")[1]["status"] == "canceled"
    )
    assert client.call("POST", f"{P}/batches/{schedule['id']}/resume", user="alice")[0] == 409


def test_cancel_mid_run_refunds_what_did_not_run(client: ApiClient, domain: Any, monkeypatch: Any) -> None:
    asset = saved_asset(client)
    before = balance(client)
    monkeypatch.setenv("LOCAL_PROVIDER_FAULTS", "video:never_finish")
    monkeypatch.setattr("imagestudio.operations.transform.MAX_POLLS", 10**6)  # polls spin with no waits here
    status, sent = client.call(
        "POST", f"{P}/batches", user="alice", body={"items": video_rows(asset, 4), "concurrency": 1}
    )
    assert status == 202, sent
    batch_id = sent["batch"]["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the first row is at the provider, the others wait
        items = client.call("GET", f"{P}/batches/{batch_id}/items", user="alice")[1]["items"]
        if items[0]["status"] == "running" and items[0]["job_id"]:
            break
        time.sleep(0.05)
    assert balance(client)[1] > 0  # the running row holds its credits
    status, canceled = client.call("POST", f"{P}/batches/{batch_id}/cancel", user="alice")
    assert status == 200, canceled
    batch = wait_ended(client, batch_id)
    items = client.call("GET", f"{P}/batches/{batch_id}/items", user="alice")[1]["items"]
    assert [i["status"] for i in items] == ["canceled"] * 4, [(i["status"], i["error"]) for i in items]
    assert batch["status"] == "canceled" and batch["canceled"] == 4 and batch["credits_charged"] == 0
    assert balance(client) == before  # everything reserved came back
    items = client.call("GET", f"{P}/batches/{batch_id}/items", user="alice")[1]["items"]
    assert {i["status"] for i in items} == {"canceled"}
    assert client.call("GET", f"{P}/jobs/{items[0]['job_id']}", user="alice")[1]["status"] == "canceled"
    assert client.call("POST", f"{P}/batches/{batch_id}/cancel", user="alice")[0] == 409


def test_a_csv_can_come_as_an_upload(client: ApiClient, domain: Any) -> None:
    s3 = client.deployed.session.client("s3")
    bucket = client.deployed.plan.physical["MediaBucket"]

    def upload(data: bytes) -> str:
        status, ticket = client.call(
            "POST", f"{P}/uploads", user="alice", body={"content_type": "text/csv", "filename": "rows.csv"}
        )
        assert status == 200, ticket
        s3.put_object(Bucket=bucket, Key=ticket["form"]["fields"]["key"], Body=data)
        return str(ticket["upload"]["id"])

    good = upload("\ufeffoperation;prompt;quality\ncreate;poster;draft\n".encode())
    status, dry = client.call("POST", f"{P}/batches", user="alice", body={"upload_id": good, "dry_run": True})
    assert status == 200, dry
    assert dry["preview"]["delimiter"] == ";" and dry["preview"]["rows_valid"] == 1

    bad = upload("operation,prompt\ncreate,café\n".encode("latin-1"))
    upload_status = client.call("GET", f"{P}/uploads/{bad}", user="alice")[1]["upload"]
    assert upload_status.get("status") == "rejected" and "UTF-8" in upload_status["reason"], upload_status
    status, err = client.call("POST", f"{P}/batches", user="alice", body={"upload_id": bad})
    assert status == 422 and "UTF-8" in err["error"]["message"]
    assert client.call("POST", f"{P}/batches", user="bob", body={"upload_id": good})[0] == 404


def test_the_local_scheduler_tick_starts_a_scheduled_batch(client: ApiClient, domain: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from local.scheduler import Scheduler

    now = [datetime.now(UTC)]
    scheduler = Scheduler(
        client.deployed.plan, client.deployed.runtime, start_execution=lambda *a: None, clock=lambda: now[0]
    )
    at = now[0] + timedelta(seconds=1)
    body = {
        "items": [{"operation": "create", "prompt": "poster", "quality": "draft"}],
        "schedule_at": at.isoformat(),
    }
    status, sent = client.call("POST", f"{P}/batches", user="alice", body=body)
    assert status == 202, sent
    assert scheduler.tick() == []  # nothing is due yet
    time.sleep(1.1)
    now[0] += timedelta(seconds=61)
    fired = scheduler.tick()
    assert [f.schedule for f in fired] == ["image-studio-local-batch-dispatcher"]
    assert wait_ended(client, sent["batch"]["id"])["status"] == "succeeded"


def test_a_finished_batch_notifies_the_bus_the_email_topic_and_the_webhook(
    client: ApiClient, domain: Any, monkeypatch: Any
) -> None:
    from moto.sns.models import sns_backends

    from imagestudio.notify.webhooks import DeliveryResult

    delivered: list[dict[str, Any]] = []

    def fake_deliver(url: str, payload: dict[str, Any], **kwargs: Any) -> DeliveryResult:
        delivered.append({"url": url, "payload": payload, "message_id": kwargs["message_id"]})
        return DeliveryResult(status="delivered", attempts=1, last_status=200, error=None)

    monkeypatch.setattr("imagestudio.notify.jobs.deliver", fake_deliver)
    monkeypatch.setattr("imagestudio.providers.http.check_output_url", lambda url: None)
    published: list[dict[str, Any]] = []
    monkeypatch.setattr(
        "imagestudio.notify.jobs._events",
        lambda: type("Bus", (), {"put_events": lambda self, Entries: published.extend(Entries)})(),
    )
    body = {
        "items": [{"operation": "create", "prompt": "poster", "quality": "draft"}],
        "notify_email": "marketing@example.com",
        "webhook_url": "https://hooks.example.com/batches",
        "name": "weekly",
    }
    status, sent = client.call("POST", f"{P}/batches", user="alice", body=body)
    assert status == 202, sent
    batch = wait_ended(client, sent["batch"]["id"])
    deadline = time.monotonic() + 10  # notifications go out just after the status is written
    while not any(d["payload"]["type"] == "batch.ended" for d in delivered) and time.monotonic() < deadline:
        time.sleep(0.05)

    topic_arn = client.deployed.plan.function("BatchRunnerFunction").environment["BATCH_TOPIC_ARN"]
    sns = client.deployed.session.client("sns")
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert subscription["Endpoint"] == "marketing@example.com" and subscription["Protocol"] == "email"
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])[
        "Attributes"
    ]
    assert json.loads(attributes["FilterPolicy"]) == {"owner": ["alice"]}
    topic = sns_backends["123456789012"]["us-east-1"].topics[topic_arn]
    (_, message, subject, attrs, _) = topic.sent_notifications[-1]
    assert "weekly" in (subject or "") and json.loads(message)["batch_id"] == batch["id"]
    assert attrs["owner"]["Value"] == "alice" or attrs["owner"].get("StringValue") == "alice"

    ended = [e for e in published if e["DetailType"] == "Batch Ended"]
    assert json.loads(ended[0]["Detail"])["status"] == "succeeded"
    (hook,) = [d for d in delivered if d["payload"]["type"] == "batch.ended"]
    assert hook["url"] == body["webhook_url"] and hook["payload"]["data"]["succeeded"] == 1


def test_pause_keeps_rows_waiting_and_resume_runs_them(client: ApiClient, domain: Any) -> None:
    asset = saved_asset(client)
    status, sent = client.call(
        "POST", f"{P}/batches", user="alice", body={"items": video_rows(asset, 3), "concurrency": 1}
    )
    assert status == 202, sent
    batch_id = sent["batch"]["id"]
    status, paused = client.call("POST", f"{P}/batches/{batch_id}/pause", user="alice")
    assert status == 200 and paused["status"] == "paused", paused
    deadline = time.monotonic() + 60
    resumed: dict[str, Any] = {}
    while time.monotonic() < deadline:  # rows already running finish; then resume starts the rest
        status, resumed = client.call("POST", f"{P}/batches/{batch_id}/resume", user="alice")
        if status == 200:
            break
        assert status == 409 and "still finishing" in resumed["error"]["message"], resumed
        time.sleep(0.1)
    assert resumed["executions"] == 2, resumed
    batch = wait_ended(client, batch_id)
    assert batch["status"] == "succeeded" and batch["succeeded"] == 3, batch
    assert batch["credits_charged"] == batch["credits_estimated"]
    assert client.call("POST", f"{P}/batches/{batch_id}/pause", user="alice")[0] == 409


def test_a_batch_beyond_the_plan_is_refused_with_the_plan_figures(client: ApiClient) -> None:
    rows = [{"operation": "create", "prompt": f"poster {i}", "quality": "draft"} for i in range(12)]
    status, dry = client.call("POST", f"{P}/batches", user="bob", body={"items": rows, "dry_run": True})
    assert status == 200 and dry["preview"]["allowed"] is False
    assert "10 images" in dry["preview"]["problems"][0]
    status, err = client.call("POST", f"{P}/batches", user="bob", body={"items": rows})
    assert status == 429 and "10 images" in err["error"]["message"], err
    assert client.call("GET", f"{P}/batches", user="bob")[1]["batches"] == []
    too_many = [{"operation": "create", "prompt": "x"}] * 26
    status, err = client.call("POST", f"{P}/batches", user="bob", body={"items": too_many})
    assert status == 422 and "25" in err["error"]["message"], err
