"""X-Ray traces without the X-Ray SDK: subsegments sent straight to the Lambda X-Ray daemon.

With `Tracing: Active` Lambda records each invocation's segment itself (init, invocation, overhead).
What the function adds are the spans that matter, as subsegments of that segment:

- `## <function>`: the handler, with the `ColdStart` and `Service` annotations and the exception of a
  failed invocation;
- one per AWS call (`instrument(client)` on each boto3 client or resource: S3, DynamoDB, Step
  Functions, EventBridge, SNS), with the service, operation, region, request id and table or bucket;
- one per provider HTTP call (`http_hooks()` on an httpx client), with method, URL (no query) and status.

The AWS X-Ray SDK (which Powertools' Tracer loads) costs more than `import boto3` at every cold start:
it creates two botocore clients for centralised sampling that Lambda never uses. Lambda decides
sampling and hands each invocation its trace header (`_X_AMZN_TRACE_ID`: Root, Parent, Sampled); the
daemon listens on `AWS_XRAY_DAEMON_ADDRESS` and takes JSON documents over UDP, one datagram each,
behind the header `{"format": "json", "version": 1}`. That is all this module needs: the standard
library, nothing imported before a sampled invocation.

Tracing is off (every call a no-op) when POWERTOOLS_TRACE_DISABLED is true, outside Lambda (no daemon
address, as offline), or for an invocation Lambda did not sample. Sending never fails an invocation.
Lambda runs one invocation at a time per process, so the open handler subsegment is module state,
which spans made in worker threads (concurrent variations, S3 uploads) can find.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from imagestudio.config import environ

log = logging.getLogger(__name__)

HEADER: Final = b'{"format": "json", "version": 1}\n'
DEFAULT_DAEMON: Final = "127.0.0.1:2000"
MAX_STACK: Final = 20

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Span:
    """One subsegment being recorded."""

    name: str
    trace_id: str
    parent_id: str
    namespace: str | None = None
    id: str = field(default_factory=lambda: os.urandom(8).hex())
    start_time: float = field(default_factory=time.time)
    annotations: dict[str, str | int | float | bool] = field(default_factory=dict)
    aws: dict[str, Any] = field(default_factory=dict)
    http: dict[str, Any] = field(default_factory=dict)
    error: bool = False
    fault: bool = False
    throttle: bool = False
    exception: BaseException | None = None

    def document(self, end_time: float) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name[:200],
            "id": self.id,
            "trace_id": self.trace_id,
            "parent_id": self.parent_id,
            "type": "subsegment",
            "start_time": self.start_time,
            "end_time": end_time,
        }
        if self.namespace:
            doc["namespace"] = self.namespace
        for key in ("annotations", "aws", "http"):
            if value := getattr(self, key):
                doc[key] = value
        for flag in ("error", "fault", "throttle"):
            if getattr(self, flag):
                doc[flag] = True
        if self.exception is not None:
            exc = self.exception
            frames = traceback.extract_tb(exc.__traceback__)[-MAX_STACK:]
            doc["cause"] = {
                "working_directory": str(Path.cwd()),
                "exceptions": [
                    {
                        "id": os.urandom(8).hex(),
                        "type": type(exc).__name__,
                        "message": str(exc)[:1000],
                        "stack": [{"path": f.filename, "line": f.lineno, "label": f.name} for f in frames],
                    }
                ],
            }
        return doc


def parse_trace_header(header: str) -> dict[str, str]:
    """`Root=1-...;Parent=...;Sampled=1` as a dict (keys as written)."""
    parts = (item.split("=", 1) for item in header.split(";") if "=" in item)
    return {key.strip(): value.strip() for key, value in parts}


def daemon_address(value: str) -> tuple[str, int]:
    """The daemon's UDP address from AWS_XRAY_DAEMON_ADDRESS (`host:port` or `udp:host:port tcp:...`)."""
    chosen = value.strip() or DEFAULT_DAEMON
    for item in chosen.split():
        if item.startswith("udp:"):
            chosen = item[4:]
            break
    host, _, port = chosen.rpartition(":")
    return host or "127.0.0.1", int(port)


class _Emitter:
    def __init__(self) -> None:
        self._socket: socket.socket | None = None

    def send(self, address: tuple[str, int], document: dict[str, Any]) -> None:
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._socket.sendto(HEADER + json.dumps(document, default=str).encode(), address)
        except (OSError, ValueError) as err:  # tracing never fails an invocation
            log.debug("x-ray subsegment not sent: %s", err)


_emitter = _Emitter()


@dataclass
class _Invocation:
    trace_id: str
    handler: Span
    address: tuple[str, int]


_current: _Invocation | None = None


def _begin(env: Mapping[str, str], name: str) -> _Invocation | None:
    if env.get("POWERTOOLS_TRACE_DISABLED", "").lower() in {"1", "true"}:
        return None
    if "AWS_XRAY_DAEMON_ADDRESS" not in env:  # not on Lambda with active tracing (e.g. offline)
        return None
    header = parse_trace_header(env.get("_X_AMZN_TRACE_ID", ""))
    if header.get("Sampled") != "1" or not header.get("Root") or not header.get("Parent"):
        return None
    try:
        address = daemon_address(env["AWS_XRAY_DAEMON_ADDRESS"])
    except ValueError:
        return None
    span = Span(name=name, trace_id=header["Root"], parent_id=header["Parent"])
    return _Invocation(trace_id=header["Root"], handler=span, address=address)


def start_span(name: str, namespace: str) -> Span | None:
    """A subsegment under the running handler's, or None when this invocation is not traced."""
    invocation = _current
    if invocation is None:
        return None
    return Span(name=name, trace_id=invocation.trace_id, parent_id=invocation.handler.id, namespace=namespace)


def end_span(span: Span | None) -> None:
    invocation = _current
    if span is not None and invocation is not None:
        _emitter.send(invocation.address, span.document(time.time()))


class Tracer:
    """The part of Powertools' Tracer the functions use: `capture_lambda_handler`."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._cold = True

    def capture_lambda_handler(self, fn: F | None = None, *, capture_response: bool = False) -> Any:
        """Decorate a Lambda handler: its subsegment when the invocation is sampled. Responses are never
        recorded (`capture_response` is accepted for Powertools' signature and ignored)."""
        if fn is None:
            return functools.partial(self.capture_lambda_handler, capture_response=capture_response)
        handler = fn

        @functools.wraps(handler)
        def traced(event: Any, context: Any) -> Any:
            global _current
            cold, self._cold = self._cold, False
            name = f"## {getattr(context, 'function_name', None) or handler.__name__}"
            invocation = _begin(environ(), name)
            if invocation is None:
                return handler(event, context)
            invocation.handler.annotations.update({"ColdStart": cold, "Service": self.service})
            _current = invocation
            try:
                return handler(event, context)
            except BaseException as exc:
                invocation.handler.fault = True
                invocation.handler.exception = exc
                raise
            finally:
                _current = None
                _emitter.send(invocation.address, invocation.handler.document(time.time()))

        return traced


# ---------------------------------------------------------------------------------------------------------
# AWS calls (botocore events) and provider HTTP calls (httpx event hooks)

_AWS_PARAMS: Final = {"TableName": "table_name", "Bucket": "bucket_name", "stateMachineArn": "state_machine"}


def _before_aws_call(params: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
    span = start_span(str(model.service_model.service_id), "aws")
    if span is None:
        return
    span.aws["operation"] = model.name
    if context.get("client_region"):
        span.aws["region"] = context["client_region"]
    if isinstance(params, dict):
        for key, label in _AWS_PARAMS.items():
            if isinstance(params.get(key), str):
                span.aws[label] = params[key]
    context["imagestudio_span"] = span


def _after_aws_call(http_response: Any, parsed: Any, context: dict[str, Any], **_: Any) -> None:
    span: Span | None = context.pop("imagestudio_span", None)
    if span is None:
        return
    meta = parsed.get("ResponseMetadata", {}) if isinstance(parsed, dict) else {}
    status = int(meta.get("HTTPStatusCode") or getattr(http_response, "status_code", 0) or 0)
    if meta.get("RequestId"):
        span.aws["request_id"] = meta["RequestId"]
    if status:
        span.http = {"response": {"status": status}}
    span.throttle = status == 429
    span.error = 400 <= status < 500
    span.fault = status >= 500
    end_span(span)


def _aws_call_error(exception: BaseException | None, context: dict[str, Any], **_: Any) -> None:
    span: Span | None = context.pop("imagestudio_span", None)
    if span is None:
        return
    if exception is not None:
        span.fault = True
        span.exception = exception
    end_span(span)


def instrument(client: Any) -> Any:
    """A subsegment per call of a boto3 client (or a resource's client); returns `client`."""
    events = client.meta.events
    events.register("before-parameter-build.*.*", _before_aws_call, unique_id="imagestudio-xray-before")
    events.register("after-call.*.*", _after_aws_call, unique_id="imagestudio-xray-after")
    events.register("after-call-error.*.*", _aws_call_error, unique_id="imagestudio-xray-error")
    return client


def _http_request(request: Any) -> None:
    span = start_span(request.url.host or "http", "remote")
    if span is not None:
        span.http = {"request": {"method": request.method, "url": str(request.url.copy_with(query=None))}}
        request.extensions["imagestudio_span"] = span


def _http_response(response: Any) -> None:
    span: Span | None = response.request.extensions.get("imagestudio_span")
    if span is None:
        return
    status = response.status_code
    span.http["response"] = {"status": status}
    span.throttle = status == 429
    span.error = 400 <= status < 500
    span.fault = status >= 500
    end_span(span)


def http_hooks() -> dict[str, list[Callable[[Any], None]]]:
    """httpx `event_hooks` that record a subsegment per request (when the invocation is traced)."""
    return {"request": [_http_request], "response": [_http_response]}
