"""X-Ray spans without the X-Ray SDK: what reaches the daemon (a UDP socket here) for a sampled invocation."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from imagestudio import tracing
from imagestudio.config import environment_view

ROOT_ID = "1-5759e988-bd862e3fe1be46a994272793"
PARENT = "53995c3f42cd8ad8"


class Context:
    function_name = "image-studio-dev-create"


@pytest.fixture
def daemon() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(2.0)
    yield server
    server.close()


def _env(daemon: socket.socket, sampled: str = "1", **extra: str) -> dict[str, str]:
    return {
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
        "_X_AMZN_TRACE_ID": f"Root={ROOT_ID};Parent={PARENT};Sampled={sampled}",
        **extra,
    }


def _received(daemon: socket.socket) -> list[dict[str, Any]]:
    documents = []
    daemon.settimeout(0.5)
    while True:
        try:
            packet = daemon.recv(65536)
        except TimeoutError:
            return documents
        header, _, body = packet.partition(b"\n")
        assert json.loads(header) == {"format": "json", "version": 1}
        documents.append(json.loads(body))


def test_a_sampled_invocation_sends_its_handler_subsegment_under_lambdas_segment(
    daemon: socket.socket,
) -> None:
    tracer = tracing.Tracer(service="image-studio")
    handler = tracer.capture_lambda_handler(lambda event, context: {"statusCode": 200})
    with environment_view(_env(daemon)):
        assert handler({}, Context()) == {"statusCode": 200}
        handler({}, Context())
    first, second = _received(daemon)
    assert first["name"] == "## image-studio-dev-create"
    assert first["trace_id"] == ROOT_ID and first["parent_id"] == PARENT
    assert first["type"] == "subsegment" and len(first["id"]) == 16
    assert first["end_time"] >= first["start_time"] > 1.6e9
    assert first["annotations"] == {"ColdStart": True, "Service": "image-studio"}
    assert second["annotations"]["ColdStart"] is False
    assert "fault" not in first and "cause" not in first


def test_a_failed_invocation_records_the_exception_and_still_raises(daemon: socket.socket) -> None:
    def failing(event: Any, context: Any) -> None:
        raise ValueError("no such template")

    handler = tracing.Tracer(service="image-studio").capture_lambda_handler(failing)
    with environment_view(_env(daemon)), pytest.raises(ValueError, match="no such template"):
        handler({}, Context())
    (document,) = _received(daemon)
    assert document["fault"] is True
    (exception,) = document["cause"]["exceptions"]
    assert exception["type"] == "ValueError" and exception["message"] == "no such template"
    assert exception["stack"][-1]["label"] == "failing"


@pytest.mark.parametrize(
    "extra",
    [
        {"_X_AMZN_TRACE_ID": f"Root={ROOT_ID};Parent={PARENT};Sampled=0"},  # not sampled by Lambda
        {"POWERTOOLS_TRACE_DISABLED": "true"},
    ],
)
def test_nothing_is_sent_when_the_invocation_is_not_traced(
    daemon: socket.socket, extra: dict[str, str]
) -> None:
    handler = tracing.Tracer(service="s").capture_lambda_handler(lambda event, context: "ok")
    with environment_view(_env(daemon) | extra):
        assert handler({}, Context()) == "ok"
    assert _received(daemon) == []


def test_offline_without_a_daemon_address_the_handler_just_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_XRAY_DAEMON_ADDRESS", raising=False)
    handler = tracing.Tracer(service="s").capture_lambda_handler(lambda event, context: "ok")
    with environment_view({"_X_AMZN_TRACE_ID": f"Root={ROOT_ID};Parent={PARENT};Sampled=1"}):
        assert handler({}, Context()) == "ok"
        assert tracing.start_span("S3", "aws") is None


@mock_aws
def test_aws_calls_inside_the_handler_become_child_subsegments(daemon: socket.socket) -> None:
    client = tracing.instrument(boto3.client("dynamodb", region_name="eu-west-1"))

    def handler_body(event: Any, context: Any) -> None:
        client.list_tables()
        with pytest.raises(ClientError):
            client.describe_table(TableName="image-studio-dev-jobs")

    handler = tracing.Tracer(service="s").capture_lambda_handler(handler_body)
    with environment_view(_env(daemon)):
        handler({}, Context())
    documents = _received(daemon)
    calls = {d["aws"]["operation"]: d for d in documents if d.get("namespace") == "aws"}
    (handler_doc,) = [d for d in documents if "namespace" not in d]
    assert set(calls) == {"ListTables", "DescribeTable"}
    listed, described = calls["ListTables"], calls["DescribeTable"]
    assert listed["name"] == "DynamoDB" and listed["trace_id"] == ROOT_ID
    assert listed["aws"]["region"] == "eu-west-1"
    assert listed["http"]["response"]["status"] == 200 and "error" not in listed
    assert described["aws"]["table_name"] == "image-studio-dev-jobs"
    assert described["http"]["response"]["status"] == 400 and described["error"] is True
    assert listed["parent_id"] == described["parent_id"] == handler_doc["id"]  # under the handler's span
    assert handler_doc["parent_id"] == PARENT


def test_aws_calls_outside_a_traced_invocation_send_nothing(daemon: socket.socket) -> None:
    with mock_aws(), environment_view(_env(daemon)):
        client = tracing.instrument(boto3.client("s3", region_name="us-east-1"))
        client.list_buckets()
    assert _received(daemon) == []


def test_provider_http_calls_become_remote_subsegments_without_their_query(daemon: socket.socket) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429 if request.url.path == "/busy" else 200, json={})

    http = httpx.Client(transport=httpx.MockTransport(answer), event_hooks=tracing.http_hooks())

    def handler_body(event: Any, context: Any) -> None:
        http.get("https://api.stability.ai/v2/generate?key=secret")
        http.post("https://api.wavespeed.ai/busy")

    handler = tracing.Tracer(service="s").capture_lambda_handler(handler_body)
    with environment_view(_env(daemon)):
        handler({}, Context())
    remote = [d for d in _received(daemon) if d.get("namespace") == "remote"]
    assert [d["name"] for d in remote] == ["api.stability.ai", "api.wavespeed.ai"]
    ok, busy = remote
    assert ok["http"] == {
        "request": {"method": "GET", "url": "https://api.stability.ai/v2/generate"},
        "response": {"status": 200},
    }
    assert busy["throttle"] is True and busy["error"] is True


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("169.254.79.129:2000", ("169.254.79.129", 2000)),
        ("tcp:127.0.0.1:2000 udp:127.0.0.2:2001", ("127.0.0.2", 2001)),
    ],
)
def test_daemon_address_forms(value: str, address: tuple[str, int]) -> None:
    assert tracing.daemon_address(value) == address
