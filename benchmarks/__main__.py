"""`make bench`: cold start and warm latency of every function of template.yaml, against `import boto3`.

Each function is started in a fresh interpreter (like a new Lambda execution environment), `REPEATS`
times, each time paired with a fresh interpreter that only runs `import boto3`: the machine is shared
and noisy, so each function's init is reported as the median of its paired ratios to boto3 ("x boto3"),
measured side by side in the same run. The environment is the deployed one: tracing on (the X-Ray
daemon address set, the first invocation sampled), metrics off (they would print to stdout), and the
domain layer as `sam build` ships it (layers/imagestudio/Makefile): a copy with its bytecode compiled
(`compileall --invalidation-mode unchecked-hash`), the third-party packages with the .pyc files pip
wrote, as for the `import boto3` yardstick.
API functions (those behind an HTTP API route) must import in at most `GOAL`x boto3; the last line
is `worst_api_init_vs_boto3=X.XX`.
"""

from __future__ import annotations

import compileall
import json
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from local.stack import ROOT, local_plan

REPEATS = 5
GOAL = 2.0
SAMPLE_EVENTS = {
    "HealthFunction": "health/get",
    "CatalogFunction": "catalog/templates_recommend",
    "EstimateFunction": "estimate/estimate_cost",
    "ApiDocsFunction": "api_docs/openapi",
}


def _run(arg: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.coldstart", arg],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(spec_json: str) -> dict[str, float | None]:
    runs, ratios, boto3 = [], [], []
    for _ in range(REPEATS):
        yardstick = _run("boto3")["init_ms"]
        run = _run(spec_json)
        runs.append(run)
        boto3.append(yardstick)
        ratios.append(run["init_ms"] / yardstick)
    medians: dict[str, float | None] = {
        key: statistics.median(r[key] for r in runs) if runs[0][key] is not None else None
        for key in runs[0]
        if key != "status"
    }
    return medians | {
        "status": runs[0]["status"],
        "x_boto3": statistics.median(ratios),
        "boto3_ms": statistics.median(boto3),
    }


def built_layers(layer_paths: list[Path], into: Path) -> list[Path]:
    """Copies of the layers' python/ folders with their bytecode, as the deployed layer has it."""
    built = []
    for i, path in enumerate(layer_paths):
        target = into / str(i) / "python"
        shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__"))
        compileall.compile_dir(
            target, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
        )
        built.append(target)
    return built


def main() -> None:
    plan = local_plan()
    with tempfile.TemporaryDirectory(prefix="bench-layers-") as folder:
        run_all(plan, built_layers(plan.layer_paths, Path(folder)))


def run_all(plan: Any, layer_paths: list[Path]) -> None:
    api_functions = {route.function for route in plan.routes}
    rows = []
    for fn in plan.functions:
        sample = SAMPLE_EVENTS.get(fn.logical_id)
        spec = {
            "logical_id": fn.logical_id,
            "name": fn.name,
            "code_dir": str(fn.code_dir),
            "handler": fn.handler,
            "environment": {
                **fn.environment,
                "POWERTOOLS_TRACE_DISABLED": "false",
                "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
                "POWERTOOLS_METRICS_DISABLED": "true",
            },
            "layer_paths": [str(p) for p in layer_paths],
            "event": str(ROOT / "events" / f"{sample}.json") if sample else None,
        }
        kind = "api" if fn.name in api_functions else "event"
        rows.append((fn.logical_id, kind, sample or "(init only)", measure(json.dumps(spec))))
    boto3_ms = statistics.median(r[3]["boto3_ms"] or 0.0 for r in rows)
    print(
        f"Cold start per function, tracing on (median of {REPEATS} fresh interpreters, each paired with a"
        f" fresh `import boto3`: {boto3_ms:.0f} ms median; Python {sys.version.split()[0]})"
    )
    print(
        f"{'function':<24}{'kind':<6}{'event':<30}{'status':>7}{'init ms':>9}{'x boto3':>9}"
        f"{'1st call ms':>12}{'warm p50 ms':>12}{'peak RSS MB':>12}"
    )
    for name, kind, sample, m in rows:
        first = f"{m['first_invoke_ms']:>12.1f}" if m["first_invoke_ms"] is not None else f"{'-':>12}"
        warm = f"{m['warm_p50_ms']:>12.3f}" if m["warm_p50_ms"] is not None else f"{'-':>12}"
        print(
            f"{name:<24}{kind:<6}{sample:<30}{m['status']!s:>7}{m['init_ms'] or 0:>9.1f}"
            f"{m['x_boto3'] or 0:>9.2f}{first}{warm}{m['peak_rss_mb'] or 0:>12.1f}"
        )
    worst = max((r for r in rows if r[1] == "api"), key=lambda r: r[3]["x_boto3"] or 0.0)
    print(f"goal: every API function's init at most {GOAL:.1f}x import boto3; worst: {worst[0]}")
    print(f"worst_api_init_vs_boto3={worst[3]['x_boto3']:.2f}")


if __name__ == "__main__":
    main()
