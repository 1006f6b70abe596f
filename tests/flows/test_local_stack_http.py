"""The offline stack end to end: `python -m local run` (what `make run` starts), called over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.flow


class Client:
    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base
        self.token = token

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        if self.token:
            req.add_header("authorization", f"Bearer {self.token}")
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw, status, out_headers = resp.read(), resp.status, dict(resp.headers)
        except urllib.error.HTTPError as err:
            raw, status, out_headers = err.read(), err.code, dict(err.headers)
        ctype = out_headers.get("content-type", "")
        return (
            status,
            {k.lower(): v for k, v in out_headers.items()},
            json.loads(raw) if "json" in ctype else raw,
        )

    def get(self, path: str) -> tuple[int, Any]:
        status, _, body = self.request("GET", path)
        return status, body

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        status, _, out = self.request("POST", path, body)
        return status, out


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    state = tmp_path_factory.mktemp("state")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "local", "run", "--port", str(port), "--state-dir", str(state)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/api/image-studio/health", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the local stack did not start:\n" + (proc.stdout.read() if proc.stdout else ""))
            time.sleep(0.2)
    yield f"{base}|{state}"
    proc.terminate()
    proc.wait(10)


def token_for(state: str, user: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "local", "token", "--user", user, "--state-dir", state],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def test_catalog_over_http_with_and_without_a_token(stack: str) -> None:
    base, state = stack.split("|")
    anonymous = Client(base)
    alice = Client(base, token_for(state, "alice"))

    status, body = anonymous.get("/api/image-studio/health")
    assert status == 200 and body["status"] == "ok"

    status, body = anonymous.get("/api/image-studio/templates")
    assert status == 401 and body["message"] == "Unauthorized"  # API Gateway's own body, as on AWS
    assert "bearer token" in body["detail"]  # plus the detail the original front end shows (offline only)
    assert Client(base, "not-a-token").get("/api/image-studio/providers")[0] == 401

    status, body = alice.get("/api/image-studio/templates?platform=instagram")
    assert status == 200
    templates = body["templates"] if isinstance(body, dict) else body
    assert {t["id"] for t in templates} == {
        "instagram_feed_square",
        "instagram_feed_portrait",
        "instagram_story",
        "instagram_reel_cover",
    }

    status, body = alice.get("/api/image-studio/social/platforms/nowhere/formats")
    assert status == 404
    assert "instagram" in json.dumps(body)  # names the valid platforms

    status, body = alice.post(
        "/api/image-studio/estimate-cost",
        {"operation": "generate", "quality": "premium", "num_variations": 3},
    )
    assert status == 200, body
    assert body["credits"] == 30

    status, spec = anonymous.get("/api/image-studio/openapi.json")
    assert status == 200 and "/api/image-studio/estimate-cost" in spec["paths"]


def test_cors_preflight_is_answered_from_the_template(stack: str) -> None:
    base, _ = stack.split("|")
    status, headers, _ = Client(base).request(
        "OPTIONS",
        "/api/image-studio/templates",
        headers={"origin": "https://studio.example.com", "access-control-request-method": "GET"},
    )
    assert status == 204
    assert headers["access-control-allow-origin"] == "*"
    assert "authorization" in headers["access-control-allow-headers"]


def test_unknown_route_is_404(stack: str) -> None:
    base, state = stack.split("|")
    status, body = Client(base, token_for(state, "bob")).get("/api/image-studio/nothing-here")
    assert status == 404
    # The template's $default route: our 404, with `detail` for the original front end.
    assert body["error"]["code"] == "route_not_found"
    assert body["detail"] == "No route GET /api/image-studio/nothing-here. See /api/image-studio/docs."


def test_presigned_urls_work_from_a_plain_http_client(stack: str) -> None:
    import boto3

    base, _ = stack.split("|")
    _, info = Client(base).get("/_local")
    bucket = next(iter(info["buckets"].values()))
    s3 = boto3.client(
        "s3",
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "tmp/hello.txt"}, ExpiresIn=60
    )
    # curl --upload-file sends no form content type; urllib would send a form one, which moto parses away
    req = urllib.request.Request(put_url, data=b"hello", method="PUT", headers={"content-type": "text/plain"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "tmp/hello.txt"}, ExpiresIn=60
    )
    with urllib.request.urlopen(get_url, timeout=10) as resp:
        assert resp.read() == b"hello"


def test_firing_an_unknown_schedule_names_the_known_ones(stack: str) -> None:
    base, _ = stack.split("|")
    status, _, body = Client(base).request("POST", "/_local/schedules/nope/fire")
    assert status == 404
    assert "no schedule 'nope'" in body["message"]


def test_upload_through_the_presigned_form_becomes_an_asset(stack: str) -> None:
    import io

    import requests
    from PIL import Image

    base, state = stack.split("|")
    carol = Client(base, token_for(state, "carol"))
    status, ticket = carol.post(
        "/api/image-studio/uploads", {"content_type": "image/png", "filename": "logo.png"}
    )
    assert status == 200, ticket
    png = io.BytesIO()
    Image.new("RGBA", (64, 48), (255, 0, 0, 128)).save(png, "PNG")
    form = ticket["form"]
    response = requests.post(
        form["url"],
        data=form["fields"],
        files={"file": ("logo.png", png.getvalue(), "image/png")},
        timeout=30,
    )
    assert response.status_code in (200, 201, 204), response.text
    status, body = carol.get(f"/api/image-studio/uploads/{ticket['upload']['id']}")
    assert status == 200 and body["upload"]["status"] == "ready", body
    assert (body["asset"]["width"], body["asset"]["height"]) == (64, 48)
    downloaded = requests.get(body["asset"]["download_url"], timeout=30)
    assert Image.open(io.BytesIO(downloaded.content)).mode == "RGBA"
    # dave cannot see carol's upload
    assert (
        Client(base, token_for(state, "dave")).get(f"/api/image-studio/uploads/{ticket['upload']['id']}")[0]
        == 404
    )


def test_the_studios_end_to_end_with_credits_in_the_ledger(stack: str) -> None:
    """Issue 5's first-run flow: a new user creates, edits, upscales and controls, paying as estimated."""
    import io

    import requests
    from PIL import Image

    base, state = stack.split("|")
    erin = Client(base, token_for(state, "erin"))
    P = "/api/image-studio"

    def fetch(url: str) -> Image.Image:
        return Image.open(io.BytesIO(requests.get(url, timeout=30).content))

    status, made = erin.post(
        f"{P}/create",
        {"prompt": "red sneakers on a beach", "template_id": "instagram_feed_portrait", "num_variations": 3},
    )
    assert status == 200, made
    assert [fetch(o["url"]).size for o in made["outputs"]] == [(1080, 1350)] * 3
    first = made["outputs"][0]["asset_id"]

    status, cut = erin.post(f"{P}/edit/process", {"operation": "remove_background", "asset_id": first})
    assert status == 200, cut
    transparent = fetch(cut["outputs"][0]["url"])
    assert transparent.format == "PNG" and transparent.mode == "RGBA"
    assert transparent.getchannel("A").getextrema()[0] == 0  # some pixels really are transparent
    assert cut["outputs"][0]["parent_asset_id"] == first

    status, small = erin.post(f"{P}/create", {"prompt": "a logo", "width": 256, "height": 256})
    assert status == 200, small
    status, up = erin.post(f"{P}/upscale", {"asset_id": small["outputs"][0]["asset_id"], "mode": "fast"})
    assert status == 200, up
    assert fetch(up["outputs"][0]["url"]).size == (1024, 1024)

    status, sketch = erin.post(
        f"{P}/control",
        {"operation": "sketch", "asset_id": small["outputs"][0]["asset_id"], "prompt": "a watercolor logo"},
    )
    assert status == 200, sketch

    charged = [made, cut, small, up, sketch]
    assert all(a["credits_charged"] == a["credits_estimated"] for a in charged)
    _, ledger = erin.get(f"{P}/credits/ledger?limit=100")
    captures = sorted(e["amount"] for e in ledger["entries"] if e["kind"] == "capture")
    assert captures == sorted(a["credits_charged"] for a in charged)
    _, credits = erin.get(f"{P}/credits")
    assert credits["available"] == 200 - sum(a["credits_charged"] for a in charged)
    assert credits["reserved"] == 0


def test_video_avatar_and_glb_jobs_run_on_the_state_machine_until_they_succeed(stack: str) -> None:
    """Server mode: moto's Step Functions engine calls our functions back through the Lambda patch."""
    import base64
    import io
    import math
    import struct
    import wave

    import requests
    from PIL import Image

    base, state = stack.split("|")
    png = io.BytesIO()
    picture = Image.new("RGB", (96, 128), (20, 160, 90))
    picture.paste((240, 200, 170), (30, 30, 70, 90))  # a face-like patch: frames differ as the camera moves
    picture.save(png, "PNG")
    image = base64.b64encode(png.getvalue()).decode()
    speech = io.BytesIO()
    with wave.open(speech, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(6000 * math.sin(i / 5))) for i in range(16000)))
    requests_by_kind = {
        "image-to-video": {"image": image, "resolution": "480p", "duration": 5},
        "talking-avatar": {
            "image": image,
            "audio": base64.b64encode(speech.getvalue()).decode(),
            "resolution": "480p",
        },
        "image-to-3d": {"image": image},
    }
    # the Free plan allows 2 videos (transforms) a month: one new user per transform
    users = {kind: Client(base, token_for(state, f"fay-{kind}")) for kind in requests_by_kind}
    jobs = {}
    for kind, body in requests_by_kind.items():
        status, job = users[kind].post(f"/api/image-studio/transform/{kind}", body)
        assert status == 202, job
        jobs[kind] = job
    seen: dict[str, set[str]] = {kind: {job["status"]} for kind, job in jobs.items()}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and any(j["status"] in ("queued", "running") for j in jobs.values()):
        for kind, job in jobs.items():
            _, jobs[kind] = users[kind].get(f"/api/image-studio/jobs/{job['id']}")
            seen[kind].add(jobs[kind]["status"])
        time.sleep(0.5)
    for kind, job in jobs.items():
        assert job["status"] == "succeeded", (kind, job)
        assert seen[kind] & {"queued", "running"}, seen  # watched it move
    mimes = {}
    for kind, job in jobs.items():
        output = job["outputs"][0]  # the job view links the file, as the synchronous answers do
        mimes[kind] = output["mime"]
        data = requests.get(output["url"], timeout=30).content
        if kind == "image-to-3d":
            assert data[:4] == b"glTF"
        else:
            assert Image.open(io.BytesIO(data)).n_frames > 1
    assert mimes == {
        "image-to-video": "image/webp",
        "talking-avatar": "image/webp",
        "image-to-3d": "model/gltf-binary",
    }


def test_library_find_follow_share_revoke_and_statistics(stack: str) -> None:
    """Issue 8's done-when: find red Instagram images by tag and text in one query, follow an image
    through its edits, share a collection by link, revoke it, see the usage statistics."""
    from datetime import UTC, datetime
    from urllib.parse import urlencode

    base, state = stack.split("|")
    gina = Client(base, token_for(state, "gina"))
    P = "/api/image-studio"
    status, made = gina.post(
        f"{P}/create",
        {
            "prompt": "red sneakers on a red carpet",
            "template_id": "instagram_feed_portrait",
            "num_variations": 2,
        },
    )
    assert status == 200, made
    status, other = gina.post(f"{P}/create", {"prompt": "green forest logo", "width": 256, "height": 256})
    assert status == 200, other

    today = datetime.now(UTC).date().isoformat()
    query = {
        "tags": "red,instagram",
        "tags_mode": "all",
        "search": "sneakers",
        "date_from": today,
        "date_to": today,
    }
    status, found = gina.get(f"{P}/assets?{urlencode(query)}")
    assert status == 200, found
    assert sorted(a["id"] for a in found["assets"]) == sorted(o["asset_id"] for o in made["outputs"])

    first = made["outputs"][0]["asset_id"]
    logo = other["outputs"][0]["asset_id"]
    _, cut = gina.post(f"{P}/edit/process", {"operation": "remove_background", "asset_id": logo})
    status, up = gina.post(f"{P}/upscale", {"asset_id": cut["outputs"][0]["asset_id"], "mode": "fast"})
    assert status == 200, up
    _, lineage = gina.get(f"{P}/assets/{logo}/versions")
    assert [(d["depth"], d["asset"]["id"]) for d in lineage["descendants"]] == [
        (1, cut["outputs"][0]["asset_id"]),
        (2, up["outputs"][0]["asset_id"]),
    ]

    status, board = gina.post(f"{P}/collections", {"name": "Sneaker launch"})
    assert status == 201, board
    gina.post(
        f"{P}/collections/{board['id']}/assets", {"asset_ids": [o["asset_id"] for o in made["outputs"]]}
    )
    status, share = gina.post(f"{P}/shares", {"collection_id": board["id"], "expires_in": 3600})
    assert status == 201 and share["url"].startswith(base), share
    status, public = Client(base).get(share["path"])  # no token
    assert status == 200 and len(public["assets"]) == 2
    import requests

    assert requests.get(public["assets"][0]["url"], timeout=30).status_code == 200
    status, _, _ = gina.request("DELETE", f"{P}/shares/{share['token']}")
    assert status == 200
    assert Client(base).get(share["path"])[0] == 404

    status, _, _ = gina.request("GET", f"{P}/assets/{first}/download")
    status, stats = gina.get(f"{P}/assets/statistics")
    assert status == 200, stats
    assert stats["total_assets"] == 5 and stats["by_source"] == {"create": 3, "edit": 1, "upscale": 1}
    assert stats["shares"] == 2 and stats["downloads"] == 1 and stats["collections"] == 1
    assert stats["most_used"][0]["asset_id"] == first


def test_batch_preview_schedule_watch_manifest_and_pay_for_successes(stack: str) -> None:
    """Issue 7's done-when: preview a CSV's cost, schedule it, watch it, read its manifest, and pay only
    for the rows that succeeded."""
    import csv
    import io
    from datetime import UTC, datetime, timedelta

    import requests

    base, state = stack.split("|")
    hana = Client(base, token_for(state, "hana"))
    P = "/api/image-studio"
    text = "operation,prompt,quality,num_variations,template_id\n"
    text += "".join(f"create,spring sale poster {i},draft,1,\n" for i in range(3))
    text += "create,=cmd|' /C calc'!A0,draft,1,\n"  # a formula cell: refused, the rest can still run
    status, dry = hana.post(f"{P}/batches", {"csv": text, "dry_run": True})
    assert status == 200, dry
    preview = dry["preview"]
    assert (
        preview["rows_valid"] == 3
        and preview["errors"][0]["row"] == 5
        and "formula" in preview["errors"][0]["message"]
    )
    _, credits_before = hana.get(f"{P}/credits")

    at = datetime.now(UTC) + timedelta(seconds=2)
    status, sent = hana.post(
        f"{P}/batches", {"csv": text, "skip_invalid": True, "schedule_at": at.isoformat(), "name": "spring"}
    )
    assert status == 202 and sent["batch"]["status"] == "scheduled", sent
    batch_id = sent["batch"]["id"]
    time.sleep(2.5)
    status, _, fired = Client(base).request(
        "POST", "/_local/schedules/image-studio-local-batch-dispatcher/fire"
    )
    assert status == 202, fired
    seen = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        _, batch = hana.get(f"{P}/batches/{batch_id}")
        seen.add(batch["status"])
        if batch["status"] in ("succeeded", "partial", "failed", "canceled"):
            break
        time.sleep(0.3)
    assert batch["status"] == "partial" and batch["succeeded"] == 3, batch
    rows = list(csv.DictReader(io.StringIO(requests.get(batch["manifest_csv_url"], timeout=30).text)))
    assert [r["status"] for r in rows] == ["succeeded"] * 3 + ["invalid"]
    assert rows[3]["error_message"].startswith("prompt") or "formula" in rows[3]["error_message"]
    _, credits_after = hana.get(f"{P}/credits")
    charged = sum(int(r["credits_charged"]) for r in rows)
    assert charged == batch["credits_charged"] > 0
    assert (
        credits_after["available"] == credits_before["available"] - charged and credits_after["reserved"] == 0
    )
