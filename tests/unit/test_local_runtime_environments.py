"""The offline Lambda runtime runs one HTTP request at a time per function, as one execution
environment does: Powertools' resolver keeps the request it is serving on itself, so two requests
interleaved in one module answered 500 (KeyError '_route_args') when the Studio page loaded its
templates and providers at once. Events (a batch's rows) still run side by side."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from local.lambda_runtime import FunctionSpec, LocalLambdaRuntime

HANDLER = """
import threading, time
running = 0
most = 0
lock = threading.Lock()

def handler(event, context):
    global running, most
    with lock:
        running += 1
        most = max(most, running)
    time.sleep(0.05)
    with lock:
        running -= 1
    return {"most": most}
"""


def _runtime(tmp_path: Path) -> LocalLambdaRuntime:
    (tmp_path / "app.py").write_text(HANDLER)
    runtime = LocalLambdaRuntime([])
    runtime.register(
        FunctionSpec(
            logical_id="Overlap",
            name="overlap",
            arn="arn:aws:lambda:us-east-1:123456789012:function:overlap",
            code_dir=tmp_path,
            handler="app.handler",
        )
    )
    return runtime


def _most_at_once(runtime: LocalLambdaRuntime, one_at_a_time: bool) -> int:
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(lambda _: runtime.invoke("overlap", {}, one_at_a_time=one_at_a_time), range(8))
        )
    assert not any(r.error for r in results), results
    return max(r.payload["most"] for r in results)


def test_http_requests_to_one_function_run_one_at_a_time(tmp_path: Path) -> None:
    assert _most_at_once(_runtime(tmp_path), one_at_a_time=True) == 1


def test_events_to_one_function_still_run_side_by_side(tmp_path: Path) -> None:
    assert _most_at_once(_runtime(tmp_path), one_at_a_time=False) > 1
