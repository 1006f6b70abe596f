"""Batches on the real batch ASL (and the provider-job ASL for long rows) executed by moto."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from typing import Any

import pytest
from PIL import Image

from tests.conftest import ApiClient

P = "/api/image-studio"
ENDED = {"succeeded", "partial", "failed", "canceled"}


def png(colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (256, 320)) -> str:
    out = io.BytesIO()
    im = Image.new("RGB", size, colour)
    im.paste((20, 20, 20), (60, 80, 180, 220))
    im.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def saved_asset(client: ApiClient, user: str = "alice") -> str:
    status, body = client.call(
        "POST", f"{P}/save-to-library", user=user, body={"image": png(), "title": "in"}
    )
    assert status == 200, body
    return str(body["assets"][0]["id"])


def balance(client: ApiClient, user: str = "alice") -> tuple[int, int]:
    body = client.call("GET", f"{P}/credits", user=user)[1]
    return body["available"], body["reserved"]


def wait_ended(client: ApiClient, batch_id: str, user: str = "alice", timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, batch = client.call("GET", f"{P}/batches/{batch_id}", user=user)
        assert status == 200, batch
        if batch["status"] in ENDED:
            return batch
        time.sleep(0.1)
    raise AssertionError(f"batch {batch_id} did not end: {batch}")


def manifest(
    client: ApiClient, domain: Any, batch: dict[str, Any]
) -> tuple[list[dict[str, str]], dict[str, Any]]:
    base = f"batches/alice/{batch['id']}/manifest"
    rows = list(csv.DictReader(io.StringIO(domain.blobs.get(f"{base}.csv").decode())))
    return rows, json.loads(domain.blobs.get(f"{base}.json"))


@pytest.fixture(autouse=True)
def pro_alice(domain: Any) -> None:
    domain.ledger.account("alice")
    domain.ledger.set_plan("alice", "pro")
    domain.ledger.grant("alice", "batch-tests", 2000, "batches need more than the signup grant")


def test_templates_describe_every_operation(client: ApiClient) -> None:
    status, body = client.call("GET", f"{P}/batches/templates", user="alice")
    assert status == 200
    ops = {t["operation"] for t in body["templates"]}
    assert {"create", "edit", "upscale", "control", "social", "image-to-video"} <= ops
    status, text = client.call("GET", f"{P}/batches/templates/create", user="alice")
    assert status == 200 and text.decode().splitlines()[0].startswith("operation,")
    assert client.call("GET", f"{P}/batches/templates/paint", user="alice")[0] == 422


def test_preview_then_run_charges_only_what_succeeded(
    client: ApiClient, domain: Any, monkeypatch: Any
) -> None:
    asset = saved_asset(client)
    lines = ["operation,prompt,num_variations,quality,asset_id,edit_operation,control_operation,platforms"]
    lines += [f"create,red sneakers on a beach {i},1,draft,,,," for i in range(4)]
    lines += [f"edit,,,,{asset},remove_background,,", f"upscale,,,,{asset},,,"]
    lines += [f"control,a sketch {i},,,{asset},,sketch," for i in range(2)]
    lines += [f"social,,,,{asset},,,instagram|tiktok"]
    text = "\n".join(lines) + "\n"
    before = balance(client)

    status, dry = client.call("POST", f"{P}/batches", user="alice", body={"csv": text, "dry_run": True})
    assert status == 200, dry
    preview = dry["preview"]
    assert preview["rows_valid"] == 9 and preview["rows_invalid"] == 0 and preview["allowed"] is True, preview["problems"]
    assert preview["total_credits"] == sum(r["credits"] for r in preview["rows"]) > 0
    assert [r["operation"] for r in preview["rows"]][-1] == "social" and preview["rows"][-1]["credits"] == 0
    assert dry["batch"] is None and balance(client) == before
    assert client.call("GET", f"{P}/batches", user="alice")[1]["batches"] == []

    monkeypatch.setenv("LOCAL_PROVIDER_FAULTS", "control:moderation")  # fails only at run time
    status, sent = client.call("POST", f"{P}/batches", user="alice", body={"csv": text, "name": "launch"})
    assert status == 202, sent
    batch = wait_ended(client, sent["batch"]["id"])
    assert batch["status"] == "partial", batch
    assert (batch["succeeded"], batch["failed"], batch["total"]) == (7, 2, 9)
    assert batch["percent"] == 100 and batch["manifest_csv_url"] and batch["manifest_json_url"]

    rows, summary = manifest(client, domain, batch)
    assert [int(r["row"]) for r in rows] == list(range(2, 11))
    failed = [r for r in rows if r["status"] == "failed"]
    assert {r["operation"] for r in failed} == {"control"} and all(r["error_message"] for r in failed)
    assert all(r["output_asset_ids"] for r in rows if r["status"] == "succeeded")
    assert summary["batch"]["succeeded"] == 7 and len(summary["rows"]) == 9

    charged = sum(int(r["credits_charged"]) for r in rows)
    assert charged == batch["credits_charged"] > 0
    assert all(int(r["credits_charged"]) == 0 for r in failed)
    after = balance(client)
    assert after == (before[0] - charged, 0)  # failed rows were released; nothing stays reserved

    status, items = client.call("GET", f"{P}/batches/{batch['id']}/items?status=failed", user="alice")
    assert status == 200 and len(items["items"]) == 2
    assert client.call("GET", f"{P}/batches/{batch['id']}", user="bob")[0] == 404
    assert client.call("GET", f"{P}/batches/{batch['id']}/items", user="bob")[0] == 404


def test_bad_rows_are_reported_before_anything_runs(client: ApiClient, domain: Any) -> None:
    asset = saved_asset(client)
    rows = [f"create,poster {i},1,draft," for i in range(50)]
    rows[4] = "create,,1,draft,"  # no prompt
    rows[19] = "paint,poster,1,draft,"  # unknown operation
    rows[33] = "upscale,,,,01NOPE"  # not in the library
    rows[40] = f"upscale,,,,{asset}"
    text = "operation,prompt,num_variations,quality,asset_id\n" + "\n".join(rows)
    before = balance(client)
    status, err = client.call("POST", f"{P}/batches", user="alice", body={"csv": text})
    assert status == 422, err
    errors = err["error"]["details"]["errors"]
    assert sorted({e["row"] for e in errors}) == [6, 21, 35]
    by_row = {e["row"]: e for e in errors}
    assert by_row[6]["column"] == "prompt" and by_row[21]["column"] == "operation"
    assert by_row[35]["column"] == "asset_id" and "01NOPE" in by_row[35]["message"]
    assert balance(client) == before and client.call("GET", f"{P}/batches", user="alice")[1]["batches"] == []

    status, sent = client.call("POST", f"{P}/batches", user="alice", body={"csv": text, "skip_invalid": True})
    assert status == 202, sent
    batch = wait_ended(client, sent["batch"]["id"])
    assert batch["total"] == 47 and batch["succeeded"] == 47 and batch["status"] == "partial"
    rows_out, _ = manifest(client, domain, batch)
    assert [r["row"] for r in rows_out if r["status"] == "invalid"] == ["6", "21", "35"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"csv": "prompt,quality\nhello,draft\n"}, "operation"),
        ({"csv": 'operation,prompt\ncreate,=HYPERLINK("http://x")\n'}, "formula"),
        ({"csv": 'operation,prompt\ncreate,"unclosed\n'}, "quote"),
        ({"csv": "operation,prompt\n" + "create,x\n" * 1001}, "1000"),
        ({"items": [{"operation": "upscale", "image": "data:..."}]}, "asset_id"),
        ({"csv": "operation,prompt\ncreate,x\n", "items": []}, "exactly one"),
    ],
)
def test_malformed_batches_are_refused_clearly(client: ApiClient, body: dict[str, Any], words: str) -> None:
    status, err = client.call("POST", f"{P}/batches", user="alice", body=body)
    assert status == 422, err
    assert words in json.dumps(err), err


def test_a_csv_upload_that_is_not_utf8_is_explained(client: ApiClient, domain: Any) -> None:
    from imagestudio.batches.rows import decode_csv
    from imagestudio.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        decode_csv("operation,prompt\ncreate,café\n".encode("latin-1"))
    assert "UTF-8" in caught.value.message
