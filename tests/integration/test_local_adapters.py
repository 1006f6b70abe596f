"""The offline stack's adapters on a small fixture template: every moto gap closed in local/."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key

from local.http_api import HttpApi
from local.scheduler import Scheduler
from tests.conftest import Deployed, deploy

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "mini_stack" / "template.yaml"


@pytest.fixture
def mini(aws_env: None) -> Iterator[Deployed]:
    yield from deploy(MINI)


def recorded(stack: Deployed, source: str = "recorder") -> list[dict[str, Any]]:
    table = stack.session.resource("dynamodb").Table(stack.plan.outputs["EventsTableName"])
    items = table.query(KeyConditionExpression=Key("pk").eq(source))["Items"]
    return [{**item, "event": json.loads(item["event"])} for item in items]


def test_resources_come_from_the_template(mini: Deployed) -> None:
    ddb = mini.session.client("dynamodb")
    assert ddb.list_tables()["TableNames"] == [mini.plan.outputs["EventsTableName"]]
    assert [b["Name"] for b in mini.session.client("s3").list_buckets()["Buckets"]] == [
        mini.plan.physical["InboxBucket"]
    ]
    names = sorted(f["FunctionName"] for f in mini.session.client("lambda").list_functions()["Functions"])
    assert names == sorted(f.name for f in mini.plan.functions)
    assert len(mini.plan.functions) == 2


def test_s3_upload_reaches_the_function_with_filters_honoured(mini: Deployed) -> None:
    s3 = mini.session.client("s3")
    bucket = mini.plan.physical["InboxBucket"]
    s3.put_object(Bucket=bucket, Key="in/a b.txt", Body=b"x")
    s3.put_object(Bucket=bucket, Key="in/skip.png", Body=b"x")  # suffix filter
    s3.put_object(Bucket=bucket, Key="out/skip.txt", Body=b"x")  # prefix filter
    events = recorded(mini)
    assert len(events) == 1
    record = events[0]["event"]["Records"][0]
    assert record["eventName"].startswith("ObjectCreated")
    assert record["s3"]["bucket"]["name"] == bucket


def test_each_function_sees_its_own_environment(mini: Deployed) -> None:
    results: list[Any] = []

    def call() -> None:
        results.append(mini.invoke("DoublerFunction", {"value": 2}).payload)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    mini.invoke("RecorderFunction", {"kind": "direct"})
    for t in threads:
        t.join()
    assert results == [{"value": 4, "source": "doubler"}] * 4
    assert recorded(mini)[0]["greeting"] == "hello"  # Globals merged into the function


def test_function_errors_come_back_like_lambdas(mini: Deployed) -> None:
    result = mini.invoke("DoublerFunction", {"value": -1})
    assert result.error
    assert result.payload["errorType"] == "ArithmeticError"
    assert "negative" in result.payload["errorMessage"]
    # through boto3 as well: the function-error header is set
    response = mini.session.client("lambda").invoke(
        FunctionName=mini.plan.function("DoublerFunction").name, Payload=json.dumps({"value": -1})
    )
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "ArithmeticError"


def test_state_machine_runs_the_real_asl_against_our_functions(mini: Deployed) -> None:
    sfn = mini.session.client("stepfunctions")
    arn = mini.plan.outputs["PipelineArn"]
    ok = sfn.start_execution(stateMachineArn=arn, name="job-1", input=json.dumps({"value": 3}))
    refused = sfn.start_execution(stateMachineArn=arn, name="job-2", input=json.dumps({"value": -5}))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        states = [sfn.describe_execution(executionArn=e["executionArn"]) for e in (ok, refused)]
        if all(s["status"] != "RUNNING" for s in states):
            break
        time.sleep(0.05)
    assert states[0]["status"] == "SUCCEEDED"
    output = json.loads(states[0]["output"])
    assert output["value"] == 192  # 3 doubled until >= 100
    assert output["recorded"]["recorded"] is True
    assert states[1]["status"] == "FAILED"
    assert states[1]["error"] == "Refused"  # the Catch matched our own exception name


def test_schedules_fire_on_time_and_on_demand(mini: Deployed) -> None:
    now = datetime(2026, 11, 21, 2, 58, tzinfo=UTC)
    clock = [now]
    scheduler = Scheduler(mini.plan, mini.runtime, lambda *a: "exec", clock=lambda: clock[0])
    assert {s.expression for s in scheduler.schedules} == {"rate(5 minutes)", "cron(0 3 * * ? *)"}
    assert scheduler.tick() == []
    clock[0] = now + timedelta(minutes=5)  # 03:03: the nightly 03:00 and the 5-minute rate are due
    fired = scheduler.tick()
    assert sorted(f.schedule for f in fired) == ["RecorderFunction-Every5Minutes", "RecorderFunction-Nightly"]
    time.sleep(0.5)  # EventBridge invokes Lambda asynchronously
    scheduler.fire("RecorderFunction-Every5Minutes", wait=True)
    events = [e["event"] for e in recorded(mini)]
    assert events.count({"kind": "tick"}) == 2  # the template's Input, delivered as is
    envelopes = [e for e in events if e.get("detail-type") == "Scheduled Event"]
    assert len(envelopes) == 1 and envelopes[0]["source"] == "aws.events"
    assert scheduler.next_run("RecorderFunction-Nightly") == datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def test_http_api_routes_to_functions_with_v2_events(mini: Deployed) -> None:
    api = HttpApi(mini.plan, mini.runtime, signers={})
    status, _, body = api.handle("PATCH", "/echo/ann?x=1&x=2", {"host": "localhost"}, b"")
    assert status == 200
    assert json.loads(body) == {"hello": "ann", "greeting": "hello"}
    event = recorded(mini)[0]["event"]
    assert event["routeKey"] == "ANY /echo/{name}"
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert api.handle("GET", "/nope", {}, b"")[0] == 404
