"""Compression, Format Converter and Face Swap as batch rows (CSV columns from their request models),
run on the batch ASL: each row makes a child asset of the library image it names."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image
from skimage import data

from tests.conftest import ApiClient
from tests.integration.test_batches import P, balance, manifest, pro_alice, wait_ended  # noqa: F401
from tests.unit.test_faceswap import lfw_face


def library(client: ApiClient, im: Image.Image, title: str) -> str:
    out = io.BytesIO()
    im.save(out, "PNG")
    status, body = client.call(
        "POST",
        f"{P}/save-to-library",
        user="alice",
        body={"image": base64.b64encode(out.getvalue()).decode(), "title": title},
    )
    assert status == 200, body
    return str(body["assets"][0]["id"])


def test_a_row_of_each_new_studio(client: ApiClient, domain: Any) -> None:
    photo = library(client, Image.fromarray(data.astronaut()), "astronaut")
    face = library(client, lfw_face(1), "face")
    text = (
        "operation,asset_id,format,target_size_kb,target_format,face_asset_id,target_index\n"
        f"compress,{photo},webp,20,,,\n"
        f"convert,{photo},,,avif,,\n"
        f"face-swap,{photo},,,,{face},0\n"
    )
    status, dry = client.call("POST", f"{P}/batches", user="alice", body={"csv": text, "dry_run": True})
    assert status == 200, dry
    preview = dry["preview"]
    assert preview["rows_valid"] == 3 and preview["allowed"] is True, preview["problems"]
    assert [r["credits"] for r in preview["rows"]] == [0, 0, 1]  # compress and convert are free
    before = balance(client)
    status, sent = client.call("POST", f"{P}/batches", user="alice", body={"csv": text})
    assert status == 202, sent
    batch = wait_ended(client, sent["batch"]["id"])
    assert batch["status"] == "succeeded" and batch["succeeded"] == 3, batch
    rows, _ = manifest(client, domain, batch)
    made = {r["operation"]: domain.assets.get("alice", r["output_asset_ids"].split("|")[0]) for r in rows}
    assert made["compress"].mime == "image/webp" and made["compress"].bytes <= 20 * 1024
    assert made["convert"].mime == "image/avif"
    assert (
        made["face-swap"].operation == "face-swap" and made["face-swap"].metadata["requested_by"] == "alice"
    )
    assert all(a.parent_id == photo for a in made.values())
    assert balance(client) == (before[0] - 1, 0)
