"""What an API function imports at cold start: none of the packages that cost as much as boto3 itself.

Each function of template.yaml behind an HTTP route is imported in a fresh interpreter, as Lambda's init
does. boto3/botocore (clients are made by the first request that needs one), httpx (the first provider
or webhook call), the X-Ray SDK (never: `imagestudio.tracing` sends spans itself) and Powertools'
OpenAPI models (the API-docs function, on its first request) must not be among its modules. `make bench`
measures what this saves; this test keeps a module-level import from bringing the cost back.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from local.stack import ROOT, local_plan

NOT_AT_COLD_START = (
    "boto3",
    "botocore.session",
    "httpx",
    "aws_xray_sdk",
    "aws_lambda_powertools.event_handler.openapi.models",
    "aws_lambda_powertools.utilities.idempotency",
)

PROBE = """
import importlib.util, json, sys
code_dir, layers = sys.argv[1], json.loads(sys.argv[2])
sys.path[:0] = layers
spec = importlib.util.spec_from_file_location("app", f"{code_dir}/app.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.lambda_handler)
print(json.dumps(sorted(sys.modules)))
"""

_PLAN = local_plan()
API_FUNCTIONS = sorted(
    {fn.logical_id: fn for fn in _PLAN.functions if fn.name in {r.function for r in _PLAN.routes}}.items()
)


def test_every_routed_function_is_checked() -> None:
    assert len(API_FUNCTIONS) >= 20
    assert {"CreateFunction", "EditFunction", "SocialFunction", "ApiDocsFunction"} <= dict(
        API_FUNCTIONS
    ).keys()


@pytest.mark.parametrize(("logical_id", "fn"), API_FUNCTIONS, ids=[name for name, _ in API_FUNCTIONS])
def test_an_api_function_imports_no_heavy_package_at_cold_start(logical_id: str, fn: object) -> None:
    layers = json.dumps([str(p) for p in _PLAN.layer_paths])
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(fn.code_dir), layers],  # type: ignore[attr-defined]
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={  # the function's own variables (its settings are checked at cold start)
            **fn.environment,  # type: ignore[attr-defined]
            "PATH": "/usr/bin:/bin",
            "AWS_DEFAULT_REGION": "us-east-1",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
    )
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "imagestudio" in modules
    assert [m for m in NOT_AT_COLD_START if m in modules] == []
