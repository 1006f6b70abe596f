"""`make bench`: cold start and warm latency of every HTTP function of template.yaml, side by side.

Each function is started in a fresh interpreter (like a new Lambda execution environment),
`REPEATS` times; the table shows medians and each function's ratio to the lightest one.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from local.stack import ROOT, local_plan

REPEATS = 3
SAMPLE_EVENTS = {
    "HealthFunction": "health/get",
    "CatalogFunction": "catalog/templates_recommend",
    "EstimateFunction": "estimate/estimate_cost",
    "ApiDocsFunction": "api_docs/openapi",
}


def measure(spec_json: str) -> dict[str, float]:
    runs = []
    for _ in range(REPEATS):
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.coldstart", spec_json],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    medians = {
        key: statistics.median(r[key] for r in runs) if runs[0][key] is not None else None
        for key in runs[0]
        if key != "status"
    }
    return medians | {"status": runs[0]["status"]}


def main() -> None:
    plan = local_plan()
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
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
            },
            "layer_paths": [str(p) for p in plan.layer_paths],
            "event": str(ROOT / "events" / f"{sample}.json") if sample else None,
        }
        rows.append((fn.logical_id, sample or "(init only: needs AWS)", measure(json.dumps(spec))))
    base_init = min(r[2]["init_ms"] for r in rows)
    print(
        f"Cold start and warm latency per function (median of {REPEATS} fresh interpreters, "
        f"Python {sys.version.split()[0]})"
    )
    print(
        f"{'function':<22}{'event':<30}{'status':>7}{'init ms':>10}{'x lightest':>11}{'1st call ms':>12}"
        f"{'warm p50 ms':>12}{'peak RSS MB':>12}"
    )
    for name, sample, m in rows:
        first = f"{m['first_invoke_ms']:>12.2f}" if m["first_invoke_ms"] is not None else f"{'-':>12}"
        warm = f"{m['warm_p50_ms']:>12.3f}" if m["warm_p50_ms"] is not None else f"{'-':>12}"
        print(
            f"{name:<22}{sample:<30}{m['status']!s:>7}{m['init_ms']:>10.1f}{m['init_ms'] / base_init:>11.2f}"
            f"{first}{warm}{m['peak_rss_mb']:>12.1f}"
        )


if __name__ == "__main__":
    main()
