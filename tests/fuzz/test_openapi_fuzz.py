"""Fuzz every operation of our own OpenAPI document with schemathesis, against the template's stack
provisioned offline (moto) and called in-process through the emulated API Gateway and JWT authorizer.

Valid and invalid requests (schemathesis' positive and negative modes) for all operations: none may
answer a 5xx, and a refused request (4xx) reserves no credits. Generated examples per operation and
mode: FUZZ_EXAMPLES (`make fuzz` sets 12: about 110 s of CPU, some 2,500 requests, on top of
schemathesis' coverage cases; `make fuzz FUZZ_EXAMPLES=100` for a longer run). Derandomized, so a
failure reproduces; FUZZ_ONLY=<path regex> fuzzes one area, FUZZ_TRACE=1 prints each request.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode

from imagestudio.api.resolver import build_resolver
from imagestudio.api.routers import ALL_ROUTERS
from local.stack import LOCAL_PARAMETERS
from tests.conftest import TEMPLATE, ApiClient, deploy

EXAMPLES = int(os.environ["FUZZ_EXAMPLES"])
USER = "fuzzer"
SPEC: dict[str, Any] = json.loads(build_resolver(*ALL_ROUTERS).get_openapi_json_schema())
schema = schemathesis.openapi.from_dict(SPEC)
if os.environ.get("FUZZ_ONLY"):  # a path pattern, to fuzz one area while investigating
    schema = schema.include(path_regex=os.environ["FUZZ_ONLY"])
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
schema.config.phases.update(phases=os.environ.get("FUZZ_PHASES", "examples,coverage,fuzzing").split(","))
# methods no route declares never reach a function: API Gateway answers them itself
schema.config.phases.coverage.unexpected_methods = set()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiClient]:
    """One deployment for every operation (a fresh one per example would cost seconds each)."""
    env = pytest.MonkeyPatch()
    env.delenv("AWS_ENDPOINT_URL", raising=False)
    env.delenv("AWS_PROFILE", raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
    }.items():
        env.setenv(name, value)
    stacks = deploy(TEMPLATE, {**LOCAL_PARAMETERS, "PollWaitScale": "0"})
    deployed = next(stacks)
    client = ApiClient(deployed, tmp_path_factory.mktemp("fuzz"))
    from imagestudio.api.context import ports
    from imagestudio.config import environment_view

    with environment_view(deployed.plan.function("JobsFunction").environment):
        ledger = ports().ledger
        ledger.account(USER)
        ledger.set_plan(USER, "enterprise")
        ledger.grant(USER, "fuzz-budget", 10_000_000, "fuzzing")
    # the served document is the one fuzzed
    status, served = client.call("GET", "/api/image-studio/openapi.json")
    assert status == 200 and set(served["paths"]) == set(SPEC["paths"])
    try:
        yield client
    finally:
        stacks.close()
        env.undo()


def newest_entries(client: ApiClient, limit: int = 20) -> list[Any]:
    """The fuzzing user's newest ledger entries, newest first."""
    from imagestudio.api.context import ports
    from imagestudio.config import environment_view

    with environment_view(client.deployed.plan.function("JobsFunction").environment):
        entries, _ = ports().ledger.entries(USER, limit=limit)
    return entries


def reserved_since(client: ApiClient, newest_before: str | None) -> list[Any]:
    """Reservations written after the entry `newest_before`: only a request can write one (the jobs
    that earlier requests started capture or release, never reserve)."""
    later = []
    for entry in newest_entries(client):
        if entry.id == newest_before:
            break
        later.append(entry)
    return [e for e in later if e.kind == "reserve"]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_request_answers_a_5xx_or_charges_when_refused(case: Any, stack: ApiClient) -> None:
    sent = requests.Request(**case.as_transport_kwargs(base_url="http://localhost")).prepare()
    url = urlsplit(sent.url or "")
    headers = {k.lower(): v for k, v in sent.headers.items()}
    headers["authorization"] = f"Bearer {stack.token(USER)}"
    body = sent.body if isinstance(sent.body, bytes) else (sent.body or "").encode()
    changes = case.method.upper() not in ("GET", "HEAD", "OPTIONS")
    before = next((e.id for e in newest_entries(stack, 1)), None) if changes else None
    started = time.monotonic()
    if os.environ.get("FUZZ_TRACE"):
        print(f"FUZZ-START {started:.2f} {len(body)}B", flush=True)
    status, _, answer = stack.api.handle(
        case.method.upper(), f"{url.path}?{url.query}" if url.query else url.path, headers, body
    )
    if os.environ.get("FUZZ_TRACE"):
        print(
            f"FUZZ {time.monotonic() - started:.2f}s {case.method} {url.path} {status} {len(body)}B",
            flush=True,
        )
    shown = f"{case.method} {url.path} -> {status}: {answer[:300]!r}\n{case.as_curl_command()}"
    assert status < 500, shown
    if 400 <= status < 500 and changes:
        assert reserved_since(stack, before) == [], f"a refused request reserved credits: {shown}"
    if status >= 400:  # our error shape, or API Gateway's own {"message"} (an unknown route, 401, 413)
        parsed = json.loads(answer)
        assert "error" in parsed or set(parsed) == {"message"}, shown


@pytest.mark.skipif(bool(os.environ.get("FUZZ_ONLY")), reason="FUZZ_ONLY fuzzes a part on purpose")
def test_the_fuzzed_document_covers_every_operation() -> None:
    operations = list(schema.get_all_operations())
    assert len(operations) == sum(len(ops) for ops in SPEC["paths"].values()) >= 60
