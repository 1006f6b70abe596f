"""One cold start, measured in a fresh interpreter: import the function's module, then first invoke.

Run by benchmarks/__main__.py as `python -m benchmarks.coldstart <json spec>`; prints one JSON line.
`python -m benchmarks.coldstart boto3` times `import boto3` alone, the yardstick, the same way.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def main() -> None:
    if sys.argv[1] == "boto3":
        started = time.perf_counter()
        import boto3  # noqa: F401

        print(json.dumps({"init_ms": (time.perf_counter() - started) * 1000}))
        return
    spec = json.loads(sys.argv[1])
    os.environ.update(spec["environment"])
    sys.path[:0] = spec["layer_paths"]
    started = time.perf_counter()
    from local.lambda_runtime import FunctionSpec, LocalLambdaRuntime

    runtime = LocalLambdaRuntime([])
    fn = FunctionSpec(
        logical_id=spec["logical_id"],
        name=spec["name"],
        arn=spec["name"],
        code_dir=__import__("pathlib").Path(spec["code_dir"]),
        handler=spec["handler"],
        environment=spec["environment"],
        timeout=30,
        memory=512,
    )
    runtime.register(fn)
    base = time.perf_counter() - started
    started = time.perf_counter()
    runtime._handler(fn)  # the import: what Lambda's init phase pays
    init = time.perf_counter() - started
    if not spec.get("event"):  # functions that need AWS resources: the init phase only
        print(
            json.dumps(
                {
                    "init_ms": init * 1000,
                    "harness_ms": base * 1000,
                    "first_invoke_ms": None,
                    "warm_p50_ms": None,
                    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                    "status": None,
                }
            )
        )
        return
    event = json.loads(open(spec["event"]).read())  # noqa: PTH123, SIM115
    # a sampled invocation, as X-Ray hands it to Lambda: the function's spans go to the daemon address
    os.environ["_X_AMZN_TRACE_ID"] = (
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    )
    started = time.perf_counter()
    first = runtime.invoke(fn.name, event)
    first_ms = (time.perf_counter() - started) * 1000
    warm = []
    for _ in range(spec.get("warm_runs", 50)):
        started = time.perf_counter()
        runtime.invoke(fn.name, event)
        warm.append((time.perf_counter() - started) * 1000)
    warm.sort()
    print(
        json.dumps(
            {
                "init_ms": init * 1000,
                "harness_ms": base * 1000,
                "first_invoke_ms": first_ms,
                "warm_p50_ms": warm[len(warm) // 2],
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "status": first.payload.get("statusCode") if isinstance(first.payload, dict) else None,
            }
        )
    )


if __name__ == "__main__":
    main()
