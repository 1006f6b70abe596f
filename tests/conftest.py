"""Shared fixtures: moto in decorator mode with the stack provisioned from template.yaml."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import lambda_runtime, moto_atomic
from local.lambda_runtime import InvokeResult, LocalLambdaRuntime
from local.provision import StackPlan, apply_plan, plan_stack
from local.stack import LOCAL_PARAMETERS

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "events"
# Lambda keeps use_docker on: with it off moto swaps in an echoing backend; our patch never reaches Docker.
MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}}


@dataclass
class Deployed:
    """A template provisioned in moto, its functions runnable in-process."""

    plan: StackPlan
    runtime: LocalLambdaRuntime
    session: boto3.Session

    def invoke(self, function: str, event: Any) -> InvokeResult:
        return self.runtime.invoke(self.plan.function(function).name, event)

    def http(self, function: str, event: dict[str, Any]) -> tuple[int, Any]:
        """Invoke with an HTTP API event; answer (status, parsed JSON body)."""
        result = self.invoke(function, event)
        assert not result.error, result.payload
        body = result.payload.get("body") or "null"
        return int(result.payload["statusCode"]), json.loads(body)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def deploy(
    template: Path,
    parameters: dict[str, str] | None = None,
    before_triggers: Callable[[], None] | None = None,
) -> Iterator[Deployed]:
    from imagestudio.api import context

    moto_atomic.install()
    with mock_aws(config=MOTO_CONFIG):
        context.reset()  # cached boto3 clients belong to the previous moto instance
        plan = plan_stack(template, parameters=parameters)
        runtime = LocalLambdaRuntime(plan.layer_paths)
        lambda_runtime.install(runtime)
        session = boto3.Session(region_name=plan.region)
        try:
            apply_plan(plan, session, runtime, before_triggers)
            yield Deployed(plan=plan, runtime=runtime, session=session)
        finally:
            lambda_runtime.uninstall()


@pytest.fixture
def deployed(aws_env: None) -> Iterator[Deployed]:
    """The product's template.yaml, provisioned as the offline stack provisions it."""
    yield from deploy(TEMPLATE, {**LOCAL_PARAMETERS, "PollWaitScale": "0"})


def api_event(name: str, **overrides: Any) -> dict[str, Any]:
    """A sample HTTP API event from events/, with top-level keys overridden."""
    event = json.loads((EVENTS / f"{name}.json").read_text())
    event.update(overrides)
    return event


class ApiClient:
    """Calls the deployed template's HTTP API in-process, through the emulated JWT authorizer."""

    def __init__(self, deployed: Deployed, state_dir: Path) -> None:
        from local.http_api import HttpApi
        from local.stack import signers_for

        self.deployed = deployed
        self.signers = signers_for(deployed.plan, state_dir)
        self.api = HttpApi(deployed.plan, deployed.runtime, self.signers)
        self._default = next(s for k, s in self.signers.items() if k.endswith(".<default>"))

    def token(self, user: str, groups: list[str] | None = None, client: str | None = None) -> str:
        return self._default.issue(user, groups=groups, client=client)

    def call(
        self,
        method: str,
        path: str,
        *,
        user: str | None = None,
        groups: list[str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        client: str | None = None,
    ) -> tuple[int, Any]:
        all_headers = {"host": "localhost", **(headers or {})}
        if user is not None:
            all_headers["authorization"] = f"Bearer {self.token(user, groups, client)}"
        raw = b""
        if body is not None:
            raw = json.dumps(body).encode()
            all_headers["content-type"] = "application/json"
        status, out_headers, out = self.api.handle(method, path, all_headers, raw)
        parsed = json.loads(out) if out and "json" in out_headers.get("content-type", "") else out
        return status, parsed


@pytest.fixture
def client(deployed: Deployed, tmp_path: Path) -> ApiClient:
    return ApiClient(deployed, tmp_path)


@pytest.fixture
def domain(deployed: Deployed) -> Iterator[Any]:
    """The domain's ports with the deployed functions' settings (same tables and bucket)."""
    from imagestudio.api.context import ports
    from imagestudio.config import environment_view

    env = deployed.plan.function("JobsFunction").environment
    with environment_view(env):
        yield ports()
