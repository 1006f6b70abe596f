"""Shared fixtures: moto in decorator mode with the stack provisioned from template.yaml."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import lambda_runtime
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


def deploy(template: Path, parameters: dict[str, str] | None = None) -> Iterator[Deployed]:
    with mock_aws(config=MOTO_CONFIG):
        plan = plan_stack(template, parameters=parameters)
        runtime = LocalLambdaRuntime(plan.layer_paths)
        lambda_runtime.install(runtime)
        session = boto3.Session(region_name=plan.region)
        try:
            apply_plan(plan, session, runtime)
            yield Deployed(plan=plan, runtime=runtime, session=session)
        finally:
            lambda_runtime.uninstall()


@pytest.fixture
def deployed(aws_env: None) -> Iterator[Deployed]:
    """The product's template.yaml, provisioned as the offline stack provisions it."""
    yield from deploy(TEMPLATE, LOCAL_PARAMETERS)


def api_event(name: str, **overrides: Any) -> dict[str, Any]:
    """A sample HTTP API event from events/, with top-level keys overridden."""
    event = json.loads((EVENTS / f"{name}.json").read_text())
    event.update(overrides)
    return event
