"""Compression Studio through the HTTP API on moto: real photographs, what a user would check (the file
is smaller and still looks the same, the target size is met, GPS is gone), the job and the ledger, 422s."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image
from skimage import data
from skimage.metrics import structural_similarity

from tests.conftest import ApiClient, Deployed
from tests.integration import studio_helpers as studio
from tests.integration.test_uploads import photo_with_gps

pytestmark = pytest.mark.usefixtures("pro_users")


def photo_png() -> bytes:
    """scikit-image's astronaut (a real 512x512 photograph) as a lossless PNG, as a user might upload."""
    out = io.BytesIO()
    Image.fromarray(data.astronaut()).save(out, "PNG")
    return out.getvalue()


def large_photo_jpeg() -> bytes:
    """A 2048x1536 photograph (the coffee cup, upscaled) at JPEG quality 95."""
    out = io.BytesIO()
    Image.fromarray(data.coffee()).resize((2048, 1536), Image.Resampling.LANCZOS).save(
        out, "JPEG", quality=95
    )
    return out.getvalue()


def compress(client: ApiClient, user: str = "alice", **body: object) -> tuple[int, dict]:
    return client.call("POST", f"{studio.P}/compress", user=user, body=body)


def ssim(a: Image.Image, b: Image.Image) -> float:
    x = np.asarray(a.convert("L"), dtype=float)
    y = np.asarray(b.convert("L").resize(a.size), dtype=float)
    return float(structural_similarity(x, y, data_range=255))


def test_a_photo_becomes_a_much_smaller_jpeg_that_looks_the_same(
    deployed: Deployed, client: ApiClient
) -> None:
    before = studio.balance(client, "alice")
    source = photo_png()
    status, body = compress(client, image=studio.inline(source), format="jpeg", quality=82)
    assert status == 200, body
    details = body["details"]
    asset, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert image.format == "JPEG" and image.size == (512, 512)
    assert asset["bytes"] == details["bytes"] < len(source) / 4  # a quarter of the PNG or less
    assert ssim(Image.open(io.BytesIO(source)), image) > 0.9
    assert details["ssim"] > 0.9 and details["psnr"] > 30 and details["quality_used"] == 82
    assert details["original_bytes"] == len(source) and details["ratio"] < 0.25
    assert asset["source"] == "compressed" and asset["operation"] == "compress"
    # free: a job with nothing charged, and no plan counter used
    assert body["credits_charged"] == 0 and body["status"] == "succeeded"
    assert studio.balance(client, "alice") == before


def test_a_target_size_is_met_and_the_quality_search_is_reported(
    deployed: Deployed, client: ApiClient
) -> None:
    source = large_photo_jpeg()
    status, body = compress(client, image=studio.inline(source), format="webp", target_size_kb=150)
    assert status == 200, body
    details = body["details"]
    _, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert image.format == "WEBP"
    assert details["bytes"] <= 150 * 1024 and details["target_met"] is True
    assert details["bytes"] > 0.8 * 150 * 1024  # the budget is used, not wasted
    assert image.size == (2048, 1536) and details["downscaled_from"] is None
    assert 25 <= details["quality_used"] <= 95 and details["ssim"] > 0.85


def test_avif_really_is_avif(deployed: Deployed, client: ApiClient) -> None:
    status, body = compress(client, image=studio.inline(photo_png()), format="avif")
    assert status == 200, body
    asset, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert image.format == "AVIF" and asset["mime"] == "image/avif"
    assert body["details"]["quality_used"] == 63  # imgproxy's AVIF default


def test_gps_is_stripped_by_default_and_orientation_applied(deployed: Deployed, client: ApiClient) -> None:
    status, body = compress(client, image=studio.inline(photo_with_gps()), format="jpeg")
    assert status == 200, body
    _, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert image.size == (400, 300)  # stored sideways with orientation 6: turned upright
    assert not image.getexif()  # no EXIF, no GPS
    assert "gps" in body["details"]["metadata_removed"]


def test_png_transparency_is_kept_and_a_palette_really_shrinks_it(
    deployed: Deployed, client: ApiClient
) -> None:
    logo = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    rgb = Image.fromarray(data.astronaut()).resize((300, 300)).convert("RGBA")
    mask = Image.new("L", (300, 300), 0)
    mask.paste(255, (50, 50, 250, 250))
    logo.paste(rgb, (0, 0), mask)
    source = io.BytesIO()
    logo.save(source, "PNG")
    status, body = compress(
        client, image=studio.inline(source.getvalue()), format="png", palette=True, colors=64
    )
    assert status == 200, body
    _, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert body["details"]["transparency"] == "kept" and body["details"]["colors"] == 64
    assert image.convert("RGBA").getpixel((10, 10))[3] == 0  # the corner is still transparent
    assert body["details"]["bytes"] < len(source.getvalue()) * 0.6


def test_to_jpeg_the_transparency_is_flattened_and_said(client: ApiClient) -> None:
    im = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    im.paste((200, 30, 40, 255), (50, 50, 150, 150))
    out = io.BytesIO()
    im.save(out, "PNG")
    status, body = compress(client, image=studio.inline(out.getvalue()), format="jpeg")
    assert status == 200, body
    assert body["details"]["transparency"] == "flattened"


def test_a_preset_from_the_catalog_is_applied(deployed: Deployed, client: ApiClient) -> None:
    status, body = compress(client, image=studio.inline(large_photo_jpeg()), preset="email")
    assert status == 200, body
    _, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert image.format == "JPEG" and max(image.size) == 1600
    assert body["details"]["bytes"] <= 200 * 1024 and body["details"]["progressive"] is True
    assert body["details"]["preset"] == "email"


def test_an_asset_is_compressed_into_a_child_version(deployed: Deployed, client: ApiClient) -> None:
    upload_id = studio.uploaded_asset(client, "alice")
    status, body = compress(client, upload_id=upload_id, format="webp", quality=70)
    assert status == 200, body
    _, upload = client.call("GET", f"{studio.P}/uploads/{upload_id}", user="alice")
    asset, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert asset["parent_id"] == upload["upload"]["asset_id"] and image.format == "WEBP"


def test_an_unreachable_target_says_the_smallest_size_and_opens_no_job(client: ApiClient) -> None:
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    status, body = compress(
        client, image=studio.inline(photo_png()), format="jpeg", target_size_kb=1, allow_downscale=False
    )
    assert status == 422, body
    smallest = body["error"]["details"]["smallest_bytes"]
    assert smallest > 1024 and "target_kb" in body["error"]["details"]["field"]
    assert "smallest" in body["error"]["message"].lower() or "KB" in body["error"]["message"], body
    studio.assert_nothing_charged(client, "alice", before, entries)
    _, jobs = client.call("GET", f"{studio.P}/jobs?operation=compress", user="alice")
    assert all(j["operation"] != "compress" for j in jobs.get("jobs", []))


def test_a_decompression_bomb_is_refused(client: ApiClient) -> None:
    bomb = io.BytesIO()
    Image.new("L", (20_000, 20_000), 0).save(bomb, "PNG")  # 400 MP of black: a few hundred KB
    status, body = compress(client, image=studio.inline(bomb.getvalue()), format="jpeg")
    assert status == 422, body
    assert "pixels" in body["error"]["message"].lower() or "MP" in body["error"]["message"], body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"format": "jpeg", "quality": 0}, "quality"),
        ({"format": "gif"}, "format"),
        ({"preset": "billboard"}, "preset"),
        ({"qualty": 80}, "qualty"),
    ],
)
def test_bad_values_are_422_naming_the_field(client: ApiClient, body: dict, field: str) -> None:
    status, answer = compress(client, image=studio.inline(studio.product()), **body)
    assert status == 422, answer
    assert field in str(answer), answer


def test_formats_presets_and_a_free_estimate(client: ApiClient) -> None:
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    status, formats = client.call("GET", f"{studio.P}/compress/formats", user="alice")
    assert status == 200 and {f["id"] for f in formats["formats"]} == {"jpeg", "webp", "avif", "png"}
    status, presets = client.call("GET", f"{studio.P}/compress/presets", user="alice")
    assert status == 200
    email = next(p for p in presets["presets"] if p["id"] == "email")
    assert email["target_size_kb"] == 200 and email["format"] == "jpeg"
    source = large_photo_jpeg()
    status, guess = client.call(
        "POST",
        f"{studio.P}/compress/estimate",
        user="alice",
        body={"image_base64": studio.inline(source), "format": "jpeg", "quality": 60},
    )
    assert status == 200, guess
    # the estimate is within 25% of what a real compression makes
    status, made = compress(client, image=studio.inline(source), format="jpeg", quality=60)
    assert status == 200, made
    assert abs(guess["estimated_size_kb"] * 1024 - made["details"]["bytes"]) < 0.25 * made["details"]["bytes"]
    assert 0 < guess["estimated_reduction_percent"] < 100 and guess["sample_pixels"] < 2048 * 1536
    studio.assert_nothing_charged(client, "alice", before, studio.ledger(client, "alice"))
    assert len(studio.ledger(client, "alice")) >= len(entries)


def test_the_original_client_gets_its_shape_inline(client: ApiClient) -> None:
    """The original front end's call (CompressionTab): image_base64 chooses its answer, the file inline."""
    source = photo_png()
    status, body = compress(
        client,
        image_base64=studio.inline(source),
        quality=85,
        format="jpeg",
        strip_metadata=True,
        progressive=True,
        optimize=True,
    )
    assert status == 200, body
    assert body["success"] is True and body["image_base64"].startswith("data:image/jpeg;base64,")
    inline = Image.open(io.BytesIO(base64.b64decode(body["image_base64"].split(",", 1)[1])))
    assert inline.format == "JPEG" and inline.size == (body["width"], body["height"]) == (512, 512)
    assert body["compressed_size_kb"] < body["original_size_kb"] and body["quality_used"] == 85
    assert 0 < body["compression_ratio"] < 100 and body["metadata_stripped"] is True


def test_an_inline_answer_that_cannot_fit_is_413_before_any_job(client: ApiClient) -> None:
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 256, (1400, 1400, 3), dtype=np.uint8))
    out = io.BytesIO()
    noise.save(out, "PNG")  # ~5.9 MB of incompressible pixels
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    status, body = compress(
        client, image=studio.inline(out.getvalue()), format="png", response_format="original"
    )
    assert status == 413, body
    assert "response_format=url" in body["detail"]
    studio.assert_nothing_charged(client, "alice", before, entries)
