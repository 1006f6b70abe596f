"""Runs the template's Lambda functions in this process, the way the Lambda service would.

moto cannot run Python functions without Docker, so `install()` replaces
`moto.awslambda.models.LambdaFunction.invoke`: every path that invokes a function (boto3
`invoke`, Step Functions tasks, S3 notifications) ends up in `LocalLambdaRuntime.invoke`.
Each function is imported from its CodeUri under its own module name (every app.py is called
`app`), once, like a warm container; each invocation sees the function's own environment
variables through `imagestudio.config.environment_view`.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger("local.lambda")


@dataclass(frozen=True)
class AsyncConfig:
    """The function's EventInvokeConfig: what happens to an asynchronous event that keeps failing."""

    max_retries: int = 2  # Lambda's default
    max_event_age: int = 21600
    on_failure: str | None = None  # destination ARN (an SQS queue offline)


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: dict[str, str] = field(default_factory=dict)
    timeout: int = 3
    memory: int = 128
    async_config: AsyncConfig = AsyncConfig()


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that code reads."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class InvokeResult:
    payload: Any
    error: bool
    duration_ms: float


class FunctionNotFound(LookupError):
    pass


class LocalLambdaRuntime:
    def __init__(self, layer_paths: list[Path]) -> None:
        for path in layer_paths:
            if str(path) not in sys.path:
                sys.path.insert(0, str(path))
        self._functions: dict[str, FunctionSpec] = {}
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._import_lock = threading.Lock()
        self._environments: dict[str, threading.RLock] = {}
        self.invocations: list[tuple[str, float, bool]] = []
        # Where an asynchronous event that failed every attempt goes: (destination ARN, record).
        self.send_failure: Callable[[str, dict[str, Any]], None] | None = None

    def register(self, spec: FunctionSpec) -> None:
        self._functions[spec.name] = spec

    @property
    def functions(self) -> dict[str, FunctionSpec]:
        return dict(self._functions)

    def spec(self, name_or_arn: str) -> FunctionSpec:
        name = name_or_arn.split(":function:")[-1].split(":")[0]
        try:
            return self._functions[name]
        except KeyError:
            raise FunctionNotFound(f"function {name!r} is not in the template") from None

    def _module(self, spec: FunctionSpec) -> ModuleType:
        module_file, _, _ = spec.handler.rpartition(".")
        path = spec.code_dir / (module_file.replace(".", "/") + ".py")
        module_name = f"_fn_{spec.logical_id}_{module_file.replace('.', '_')}"
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise FunctionNotFound(f"cannot load {path} for {spec.logical_id}")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_name] = module
        loader_spec.loader.exec_module(module)
        return module

    def _handler(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        with self._import_lock:
            handler = self._handlers.get(spec.name)
            if handler is None:
                # The cold start: module-level code runs with the function's environment.
                with self._view(self._env(spec)):
                    module = self._module(spec)
                handler = getattr(module, spec.handler.rpartition(".")[2])
                self._handlers[spec.name] = handler
            return handler

    @staticmethod
    def _view(variables: dict[str, str]) -> Any:
        # Imported here: the domain package comes from the template's layer, put on sys.path above.
        from imagestudio.config import environment_view

        return environment_view(variables)

    def _env(self, spec: FunctionSpec) -> dict[str, str]:
        return {
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon offline
            **spec.environment,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        }

    def invoke(self, name_or_arn: str, event: Any, *, one_at_a_time: bool = False) -> InvokeResult:
        """Run the function on `event` and return its payload, or an error payload like Lambda's.
        `one_at_a_time`: wait while another invocation of the function runs, as a request waits for a
        free execution environment: an HTTP function's resolver (Powertools) keeps the request it is
        serving on itself, and offline every invocation shares the one module."""
        if one_at_a_time:
            with self._environment(name_or_arn):
                return self.invoke(name_or_arn, event)
        spec = self.spec(name_or_arn)
        started = time.monotonic()
        context = LambdaContext(
            function_name=spec.name,
            invoked_function_arn=spec.arn,
            memory_limit_in_mb=spec.memory,
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{spec.name}",
            log_stream_name=f"local/{spec.name}",
            deadline=started + spec.timeout,
        )
        try:
            handler = self._handler(spec)
            with self._view(self._env(spec)):
                # Lambda hands the handler a fresh copy of the JSON event.
                payload = handler(json.loads(json.dumps(event)), context)
            json.dumps(payload)  # Lambda fails an invocation whose result is not JSON
            error = False
        except Exception as exc:
            log.warning("function %s raised %s: %s", spec.name, type(exc).__name__, exc)
            payload = {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_exception(exc)[-5:],
            }
            error = True
        duration = (time.monotonic() - started) * 1000
        self.invocations.append((spec.name, duration, error))
        return InvokeResult(payload=payload, error=error, duration_ms=duration)

    def _environment(self, name_or_arn: str) -> threading.RLock:
        name = self.spec(name_or_arn).name
        with self._import_lock:
            return self._environments.setdefault(name, threading.RLock())

    def invoke_event(self, name_or_arn: str, event: Any) -> InvokeResult:
        """An asynchronous invocation's semantics, run now: a failing event is tried again up to the
        function's MaximumRetryAttempts (at once: offline nothing waits in Lambda's queue, so the event
        age never runs out), then Lambda's failure record goes to its OnFailure destination, or is
        dropped with an error in the log when it has none (as Lambda drops it)."""
        spec = self.spec(name_or_arn)
        attempts = 1 + max(0, spec.async_config.max_retries)
        for _attempt in range(attempts):
            result = self.invoke(spec.name, event)
            if not result.error:
                return result
        destination = spec.async_config.on_failure
        if destination and self.send_failure is not None:
            self.send_failure(destination, failure_record(spec, event, result, attempts))
            log.error("%s failed %s times: the event went to %s", spec.name, attempts, destination)
        else:
            log.error(
                "%s failed %s times and has no failure destination: the event is lost", spec.name, attempts
            )
        return result

    def invoke_async(self, name_or_arn: str, event: Any) -> threading.Thread:
        """InvocationType=Event: run in the background and return at once."""
        thread = threading.Thread(target=self.invoke_event, args=(name_or_arn, event), daemon=True)
        thread.start()
        return thread


def failure_record(spec: FunctionSpec, event: Any, result: InvokeResult, attempts: int) -> dict[str, Any]:
    """What Lambda sends an OnFailure destination when an asynchronous event ran out of retries."""
    return {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"{spec.arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": result.payload,
    }


def _is_s3_notification(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        return False
    return bool(records[0].get("eventSource") == "aws:s3")


_ORIGINAL_INVOKE: Any = None


def install(runtime: LocalLambdaRuntime) -> None:
    """Route moto's Lambda invocations (boto3, Step Functions, S3 notifications) to `runtime`."""
    global _ORIGINAL_INVOKE
    from moto.awslambda import models

    if _ORIGINAL_INVOKE is None:
        _ORIGINAL_INVOKE = models.LambdaFunction.invoke

    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        event = json.loads(body) if body else {}
        if (request_headers or {}).get("x-amz-invocation-type") == "Event":
            runtime.invoke_async(self.function_name, event)
            return b""
        if not request_headers and _is_s3_notification(event):
            # S3 invokes asynchronously (retries, then the OnFailure destination). moto calls here from
            # inside put_object (with no request headers: a boto3 invoke always has some); running it
            # now keeps an upload's verification done by the time the PUT answers.
            runtime.invoke_event(self.function_name, event)
            return b""
        result = runtime.invoke(self.function_name, event)
        if result.error:
            response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(result.payload).encode()

    models.LambdaFunction.invoke = invoke  # type: ignore[method-assign]


def uninstall() -> None:
    from moto.awslambda import models

    if _ORIGINAL_INVOKE is not None:
        models.LambdaFunction.invoke = _ORIGINAL_INVOKE  # type: ignore[method-assign]
