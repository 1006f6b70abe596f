"""The sample events under events/<function>/: one or more for every function, each shaped as its
trigger sends it (HTTP API route, S3 notification, EventBridge schedule, Step Functions task), and
each answered sensibly by its handler on the stack provisioned in moto."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imagestudio.operations.jobs import open_job
from local.provision import StackPlan, plan_stack
from local.stack import LOCAL_PARAMETERS
from tests.conftest import EVENTS, ROOT, TEMPLATE, ApiClient, Deployed
from tests.images import encode

P = "/api/image-studio"
SAMPLES = sorted(p.relative_to(EVENTS).with_suffix("").as_posix() for p in EVENTS.glob("*/*.json"))


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def kind(event: dict[str, Any]) -> str:
    if "routeKey" in event:
        return "api"
    if event.get("detail-type") == "Scheduled Event":
        return "schedule"
    if [r.get("eventSource") for r in event.get("Records", [])] == ["aws:s3"]:
        return "s3"
    if "action" in event:
        return "task"
    if "queue" in event:
        return "operator"  # invoked by hand (make redrive, the console): no trigger sends it
    raise AssertionError(f"not an event any trigger of the template sends: {sorted(event)}")


def of_kind(wanted: str) -> list[str]:
    return [name for name in SAMPLES if kind(sample(name)) == wanted]


@pytest.fixture(scope="module")
def plan() -> StackPlan:
    return plan_stack(TEMPLATE, parameters=LOCAL_PARAMETERS)


def function_of(plan: StackPlan, name: str) -> Any:
    """The template function whose CodeUri is functions/<the sample's folder>/."""
    folder = name.split("/")[0]
    (spec,) = [f for f in plan.functions if f.code_dir.name == folder]
    return spec


# ---------------------------------------------------------------- the samples match their triggers


def test_every_function_has_a_sample_event(plan: StackPlan) -> None:
    folders = {p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file()}
    assert {f.code_dir.name for f in plan.functions} == folders
    assert {name.split("/")[0] for name in SAMPLES} == folders


def _task_parameters(plan: StackPlan, function_arn: str) -> list[dict[str, Any]]:
    """The Parameters of every Task state (Map iterations included) that invokes `function_arn`."""

    def states(machine: dict[str, Any]) -> list[dict[str, Any]]:
        found = []
        for state in machine["States"].values():
            found.append(state)
            for key in ("Iterator", "ItemProcessor"):
                if key in state:
                    found += states(state[key])
        return found

    tasks = []
    for machine in plan.state_machines:
        for state in states(json.loads(machine.definition)):
            params = state.get("Parameters") or {}
            if state.get("Resource") == function_arn:
                tasks.append(params)
            elif params.get("FunctionName") == function_arn:  # lambda:invoke(.waitForTaskToken)
                tasks.append(params["Payload"])
    return tasks


@pytest.mark.parametrize("name", SAMPLES)
def test_the_sample_is_what_its_trigger_sends(plan: StackPlan, name: str) -> None:
    event, spec = sample(name), function_of(plan, name)
    if kind(event) == "api":
        routes = {r.route_key: r for r in plan.routes if r.function == spec.name}
        assert event["routeKey"] in routes, (event["routeKey"], sorted(routes))
        route = routes[event["routeKey"]]
        http = event["requestContext"]["http"]
        if event["routeKey"] == "$default":  # any method, any path no other route matches
            assert http["path"] == event["rawPath"]
        else:
            assert (http["method"], http["path"]) == (route.method, event["rawPath"])
        assert event["requestContext"]["routeKey"] == event["routeKey"]
        assert ("authorizer" in event["requestContext"]) == (route.authorizer is not None)
        if "body" in event:
            json.loads(event["body"])
    elif kind(event) == "schedule":
        assert [s for s in plan.schedules if s.target == spec.name], f"{spec.logical_id} has no schedule"
        assert event["source"] == "aws.events" and event["resources"][0].startswith("arn:aws:events:")
        datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    elif kind(event) == "operator":
        assert spec.code_dir.name == "redrive" and event["queue"] in (
            "all",
            "on_upload",
            "sweeper",
            "monthly_grant",
            "batch_dispatcher",
        )
    elif kind(event) == "s3":
        (notification,) = [n for n in plan.notifications if n.function_arn == spec.arn]
        (record,) = event["Records"]
        assert any(record["eventName"].startswith(e.split(":")[1]) for e in notification.events)
        prefix = dict(notification.filter_rules).get("prefix", "")
        assert record["s3"]["object"]["key"].startswith(prefix)
    else:
        tasks = [t for t in _task_parameters(plan, spec.arn) if t.get("action") == event["action"]]
        assert tasks, f"no state machine task sends {spec.logical_id} the action {event['action']!r}"
        sent = {key.removesuffix(".$") for key in tasks[0]}
        assert set(event) == sent, (name, sorted(sent))


# ---------------------------------------------------------------- each sample, answered on moto

# A sample that does not answer 200, and why that is the right answer for it.
API_STATUS = {
    "collections/create": 201,
    "public_shares/get": 404,  # nobody shared anything under the sample's token
    "webhooks/wavespeed": 401,  # its timestamp is long past: a replayed webhook is refused
    "health/unknown_route": 404,  # the $default route: our 404 naming the docs, with `detail`
}


@pytest.mark.usefixtures("pro_users")
@pytest.mark.parametrize("name", of_kind("api"))
def test_api_samples_get_their_routes_answer(deployed: Deployed, name: str) -> None:
    event = sample(name)
    result = deployed.invoke(function_of(deployed.plan, name).logical_id, event)
    assert not result.error, result.payload
    status, headers = result.payload["statusCode"], result.payload.get("headers") or {}
    assert status == API_STATUS.get(name, 200), result.payload.get("body")
    if headers.get("Content-Type", "").startswith("application/json"):
        body = json.loads(result.payload["body"])
        if status >= 400:
            assert body["error"]["message"]


def test_the_upload_sample_makes_an_asset(client: ApiClient) -> None:
    (name,) = of_kind("s3")
    s3 = client.deployed.session.client("s3")
    bucket = client.deployed.plan.physical["MediaBucket"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})  # we deliver it
    status, ticket = client.call(
        "POST", f"{P}/uploads", user="user-alice", body={"content_type": "image/png", "filename": "beach.png"}
    )
    assert status == 200, ticket
    key = ticket["form"]["fields"]["key"]
    s3.put_object(Bucket=bucket, Key=key, Body=encode(Image.new("RGB", (320, 400), (200, 40, 40)), "PNG"))
    event = sample(name)
    event["Records"][0]["s3"]["bucket"]["name"] = bucket
    event["Records"][0]["s3"]["object"]["key"] = key.replace("/", "%2F")  # S3 sends keys URL-encoded
    result = client.deployed.invoke("OnUploadFunction", event)
    assert not result.error, result.payload
    assert [answer.split(":")[0] for answer in result.payload] == ["ready"], result.payload
    upload_id = ticket["upload"]["id"]
    status, asset = client.call("GET", f"{P}/assets/{upload_id}", user="user-alice")
    assert status == 200 and (asset["width"], asset["height"]) == (320, 400), asset
    # the same notification again (S3 delivers at least once) changes nothing
    assert client.deployed.invoke("OnUploadFunction", event).payload == ["ignored: upload already ready"]


def test_the_sweeper_sample_expires_an_overdue_job(deployed: Deployed, domain: Any) -> None:
    late = open_job(
        domain, "user-alice", operation="generate", credits=20, usd="0.20", inputs={}, deadline=timedelta(0)
    )
    result = deployed.invoke("SweeperFunction", sample("sweeper/scheduled"))
    assert not result.error, result.payload
    assert result.payload == {"expired": 1, "jobs": [late.id]}
    assert domain.ledger.account("user-alice").reserved == 0


@pytest.mark.usefixtures("pro_users")
def test_the_monthly_grant_sample_grants_its_month_once(deployed: Deployed, domain: Any) -> None:
    before = domain.ledger.account("alice").available
    first = deployed.invoke("MonthlyGrantFunction", sample("monthly_grant/scheduled"))
    again = deployed.invoke("MonthlyGrantFunction", sample("monthly_grant/scheduled"))
    assert not first.error, first.payload
    assert first.payload == {"period": "2026-12", "granted": 3}  # alice, bob and user-alice
    assert again.payload == {"period": "2026-12", "granted": 0}
    assert domain.ledger.account("alice").available > before


def wait_batch_ended(client: ApiClient, batch_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, batch = client.call("GET", f"{P}/batches/{batch_id}", user="user-alice")
        assert status == 200, batch
        if batch["status"] in ("succeeded", "partial", "failed", "canceled"):
            return dict(batch)
        time.sleep(0.1)
    raise AssertionError(f"batch {batch_id} did not end")


def start_batch(client: ApiClient, **fields: Any) -> dict[str, Any]:
    body = {"items": [{"operation": "create", "prompt": "poster", "quality": "draft"}], **fields}
    status, sent = client.call("POST", f"{P}/batches", user="user-alice", body=body)
    assert status == 202, sent
    return dict(sent["batch"])


@pytest.mark.usefixtures("pro_users")
def test_the_dispatcher_sample_starts_a_due_batch(client: ApiClient) -> None:
    batch = start_batch(client, schedule_at=(datetime.now(UTC) + timedelta(seconds=1)).isoformat())
    assert batch["status"] == "scheduled"
    time.sleep(1.2)
    result = client.deployed.invoke("BatchDispatcherFunction", sample("batch_dispatcher/scheduled"))
    assert not result.error, result.payload
    assert result.payload["started"] == 1, result.payload
    assert wait_batch_ended(client, batch["id"])["status"] == "succeeded"


@pytest.mark.usefixtures("pro_users")
def test_batch_task_samples_repeated_after_the_run_change_nothing(client: ApiClient, domain: Any) -> None:
    """The machine retries a task whose answer was lost; after the batch ended every task is a no-op."""
    batch = wait_batch_ended(client, start_batch(client)["id"])
    assert batch["status"] == "succeeded"
    account = domain.ledger.account("user-alice")
    answers = {}
    for name in of_kind("task"):
        if not name.startswith("batch_runner/"):
            continue
        event = json.loads(json.dumps(sample(name)).replace(sample(name)["batch_id"], batch["id"]))
        result = client.deployed.invoke("BatchRunnerFunction", event)
        assert not result.error, (name, result.payload)
        answers[event["action"]] = result.payload
    assert answers == {
        "begin": {"status": "succeeded"},
        "run_row": {"status": "done"},
        "check_row": {"status": "done"},
        "settle_row": {"status": "done"},
        "finish": {"status": "succeeded", "batch_id": batch["id"]},
    }
    assert domain.ledger.account("user-alice") == account
    again = wait_batch_ended(client, batch["id"])
    # presigned URLs are re-signed on every read; a repeated finish re-stamps the batch (see below)
    volatile = {"updated_at", "finished_at", "manifest_csv_url", "manifest_json_url"}
    assert {k: v for k, v in again.items() if k not in volatile} == {
        k: v for k, v in batch.items() if k not in volatile
    }


@pytest.mark.usefixtures("pro_users")
def test_a_repeated_finish_keeps_the_batch_as_it_ended(client: ApiClient) -> None:
    batch = wait_batch_ended(client, start_batch(client)["id"])
    finish = json.loads(
        json.dumps(sample("batch_runner/finish")).replace(
            sample("batch_runner/finish")["batch_id"], batch["id"]
        )
    )
    assert not client.deployed.invoke("BatchRunnerFunction", finish).error
    assert wait_batch_ended(client, batch["id"])["finished_at"] == batch["finished_at"]


@pytest.mark.usefixtures("pro_users")
def test_provider_job_task_samples(client: ApiClient, domain: Any) -> None:
    """fail releases the job's credits with the error the Catch passed; submit, poll and await for a
    job that already ended answer its status and change nothing."""
    fail = sample("provider_job/fail")
    owner, job_id = fail["owner"], fail["job_id"]
    open_job(domain, owner, operation="image-to-video", credits=40, usd="0.40", inputs={}, job_id=job_id)
    assert domain.ledger.account(owner).reserved == 40
    result = client.deployed.invoke("ProviderJobFunction", fail)
    assert not result.error, result.payload
    assert result.payload == {"status": "failed"}
    status, job = client.call("GET", f"{P}/jobs/{job_id}", user=owner)
    assert status == 200 and job["status"] == "failed", job
    assert "too small" in json.dumps(job["error"])
    assert domain.ledger.account(owner).reserved == 0
    after = domain.ledger.account(owner)
    answers = {}
    for name in ("provider_job/submit", "provider_job/poll", "provider_job/await"):
        result = client.deployed.invoke("ProviderJobFunction", sample(name))
        assert not result.error, (name, result.payload)
        answers[name] = result.payload
    assert answers == {
        "provider_job/submit": {"status": "failed", "polls": 0, "wait": 0, "callback": False},
        "provider_job/poll": {"status": "failed", "polls": 2, "wait": 0},
        "provider_job/await": {"status": "failed"},
    }
    assert domain.ledger.account(owner) == after
    assert client.call("GET", f"{P}/jobs/{job_id}", user=owner)[1] == job


def test_every_sample_is_fed_to_its_handler() -> None:
    """The invocation tests above between them use every sample."""
    invoked = {
        *of_kind("api"),
        *of_kind("s3"),
        *of_kind("task"),
        *of_kind("operator"),
        "sweeper/scheduled",
        "monthly_grant/scheduled",
        "batch_dispatcher/scheduled",
    }
    assert invoked == set(SAMPLES)
    assert {n.split("/")[0] for n in of_kind("task")} == {"batch_runner", "provider_job"}


def test_sample_events_are_json_files_only() -> None:
    assert all(p.suffix == ".json" for p in Path(EVENTS).rglob("*") if p.is_file())


def test_the_redrive_sample_finds_nothing_waiting_on_a_fresh_stack(deployed: Deployed) -> None:
    result = deployed.invoke("RedriveFunction", sample("redrive/all"))
    assert not result.error, result.payload
    assert "0" in json.dumps(result.payload) or result.payload in ([], {}), result.payload
