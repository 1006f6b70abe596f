"""`make run` keeps a user's work: the stack is stopped (SIGTERM, as Ctrl-C or a service manager does)
and killed (SIGKILL, a crash) in the middle of a session, started again on the same state dir, and the
user finds their library, collection, shares, ledger and balance; the video job that was running at
the stop is not left holding credits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from local.persistence import SNAPSHOT_SECONDS
from local.stack import free_port
from tests.flows.test_local_stack_http import Client, token_for

ROOT = Path(__file__).resolve().parents[2]
P = "/api/image-studio"
pytestmark = pytest.mark.flow


def start(state: Path, port: int, **env: str) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOCAL_PROVIDER_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "local", "run", "--port", str(port), "--state-dir", str(state)],
        cwd=ROOT,
        env={**environment, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/image-studio/health", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the local stack did not start:\n" + (proc.stdout.read() if proc.stdout else ""))
            time.sleep(0.2)


def stop(proc: subprocess.Popen[str], how: signal.Signals) -> str:
    proc.send_signal(how)
    out, _ = proc.communicate(timeout=60)
    return out


def wait_for(check: Any, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def test_a_restart_in_the_middle_of_a_session_loses_nothing(tmp_path: Path) -> None:
    import base64
    import io

    import requests
    from PIL import Image

    state, port = tmp_path / "state", free_port()
    base = f"http://127.0.0.1:{port}"
    # The provider holds the video job for a long time: it is still running when the stack stops.
    proc = start(state, port, LOCAL_PROVIDER_POLLS="100000")
    try:
        hana = Client(base, token_for(str(state), "hana"))
        status, made = hana.post(f"{P}/create", {"prompt": "a lighthouse at dusk", "num_variations": 2})
        assert status == 200, made
        assets = sorted(o["asset_id"] for o in made["outputs"])
        status, board = hana.post(f"{P}/collections", {"name": "Coast campaign"})
        assert status == 201, board
        hana.post(f"{P}/collections/{board['id']}/assets", {"asset_ids": assets})
        status, share = hana.post(f"{P}/shares", {"collection_id": board["id"], "expires_in": 3600})
        assert status == 201, share

        png = io.BytesIO()
        Image.new("RGB", (96, 128), (20, 160, 90)).save(png, "PNG")
        status, job = hana.post(
            f"{P}/transform/image-to-video",
            {"image": base64.b64encode(png.getvalue()).decode(), "resolution": "480p", "duration": 5},
        )
        assert status == 202, job
        assert wait_for(lambda: hana.get(f"{P}/jobs/{job['id']}")[1]["status"] == "running")
        _, before_credits = hana.get(f"{P}/credits")
        assert before_credits["reserved"] == job["estimated_credits"] > 0
        _, before_ledger = hana.get(f"{P}/credits/ledger?limit=100")
    finally:
        out = stop(proc, signal.SIGTERM)
    assert proc.returncode == 0, out

    proc = start(state, port)
    try:
        hana = Client(base, token_for(str(state), "hana"))
        _, info = hana.get("/_local")
        assert info["state"]["restored"]["items"] > 0 and info["state"]["restored"]["objects"] >= 2
        for asset_id in assets:
            status, asset = hana.get(f"{P}/assets/{asset_id}")
            assert status == 200, asset
            picture = requests.get(asset["download_url"], timeout=30)
            assert picture.status_code == 200 and Image.open(io.BytesIO(picture.content)).size[0] > 0
        status, kept_board = hana.get(f"{P}/collections/{board['id']}")
        assert status == 200, kept_board
        assert sorted(a["id"] for a in kept_board["assets"]) == assets
        assert Client(base).get(share["path"])[0] == 200  # the share link still works, without login

        # The job's execution did not survive: it is re-driven, the provider has lost it, so it fails
        # with the reason stated and its reservation released; nothing is charged for it.
        ended = wait_for(
            lambda: (j := hana.get(f"{P}/jobs/{job['id']}")[1])["status"] not in ("queued", "running") and j
        )
        assert ended and ended["status"] == "failed", ended
        assert "restart" in ended["error"]["message"], ended
        _, credits = hana.get(f"{P}/credits")
        assert credits["reserved"] == 0
        assert credits["available"] == before_credits["available"] + job["estimated_credits"]
        _, ledger = hana.get(f"{P}/credits/ledger?limit=100")
        old_ids = [e["id"] for e in before_ledger["entries"]]
        assert [e["id"] for e in ledger["entries"]][-len(old_ids) :] == old_ids  # every entry kept
        new = [e for e in ledger["entries"] if e["id"] not in old_ids]
        assert [(e["kind"], e["ref"], e["amount"]) for e in new] == [
            ("release", job["id"], job["estimated_credits"])
        ]

        # A crash: whatever happened more than a snapshot interval before it is kept.
        status, later = hana.post(f"{P}/collections", {"name": "Made before the crash"})
        assert status == 201, later
        time.sleep(SNAPSHOT_SECONDS * 2 + 1)
    finally:
        stop(proc, signal.SIGKILL)

    proc = start(state, port)
    try:
        hana = Client(base, token_for(str(state), "hana"))
        assert hana.get(f"{P}/collections/{later['id']}")[0] == 200
        assert hana.get(f"{P}/jobs/{job['id']}")[1]["status"] == "failed"
        _, after = hana.get(f"{P}/credits")
        assert after == credits  # the restart itself moved no credits
    finally:
        stop(proc, signal.SIGTERM)

    subprocess.run([sys.executable, "-m", "local", "reset", "--state-dir", str(state)], cwd=ROOT, check=True)
    proc = start(state, port)
    try:
        hana = Client(base, token_for(str(state), "hana"))
        assert hana.get(f"{P}/assets/{assets[0]}")[0] == 404  # reset: empty on purpose
    finally:
        stop(proc, signal.SIGTERM)
