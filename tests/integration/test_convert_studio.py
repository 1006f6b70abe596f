"""Format Converter through the HTTP API on moto: what a user would check (the format really is AVIF,
the alpha is gone or kept, every frame is there with its timing, an iPhone HEIC opens), money, 422s."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageSequence
from pillow_heif import register_heif_opener
from skimage import data

from tests.conftest import ApiClient, Deployed
from tests.integration import studio_helpers as studio

pytestmark = pytest.mark.usefixtures("pro_users")
register_heif_opener()


def convert(client: ApiClient, user: str = "alice", **body: object) -> tuple[int, dict]:
    return client.call("POST", f"{studio.P}/convert-format", user=user, body=body)


def saved(im: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def cutout() -> bytes:
    """A red square on a transparent 200x200 canvas."""
    im = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    im.paste((200, 30, 40, 255), (50, 50, 150, 150))
    return saved(im, "PNG")


def animation(frames: int = 6) -> bytes:
    """A GIF of `frames` frames (a disc moving right), 80 ms each, looping for ever."""
    pictures = []
    for i in range(frames):
        im = Image.new("RGB", (120, 80), (240, 240, 240))
        im.paste((30, 60, 200), (10 + 15 * i, 20, 40 + 15 * i, 50))
        pictures.append(im)
    return saved(pictures[0], "GIF", save_all=True, append_images=pictures[1:], duration=80, loop=0)


def test_the_format_really_is_avif_and_the_answer_says_what_was_done(
    deployed: Deployed, client: ApiClient
) -> None:
    before = studio.balance(client, "alice")
    source = saved(Image.fromarray(data.astronaut()), "PNG")
    status, body = convert(client, image=studio.inline(source), target_format="avif")
    assert status == 200, body
    asset, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert image.format == "AVIF" and asset["mime"] == "image/avif" and image.size == (512, 512)
    details = body["details"]
    assert details["original_format"] == "PNG" and details["target_format"] == "AVIF"
    assert details["bytes"] == asset["bytes"] < len(source) and details["ssim"] > 0.9
    assert details["transparency"] == "none" and details["color_space"] == "sRGB"
    assert body["credits_charged"] == 0 and studio.balance(client, "alice") == before
    assert asset["source"] == "converted" and asset["operation"] == "convert"


def test_to_jpeg_the_alpha_is_gone_flattened_onto_the_chosen_colour(
    deployed: Deployed, client: ApiClient
) -> None:
    status, body = convert(client, image=studio.inline(cutout()), target_format="jpg", background="#00ff00")
    assert status == 200, body
    _, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert image.format == "JPEG" and image.mode == "RGB"
    r, g, b = image.getpixel((5, 5))
    assert g > 230 and r < 30 and b < 30  # the transparent corner is now the green background
    assert body["details"]["transparency"] == "flattened"


def test_to_webp_the_alpha_is_kept(deployed: Deployed, client: ApiClient) -> None:
    status, body = convert(client, image=studio.inline(cutout()), target_format="webp")
    assert status == 200, body
    _, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    rgba = image.convert("RGBA")
    assert rgba.getpixel((5, 5))[3] == 0 and rgba.getpixel((100, 100))[3] == 255
    assert body["details"]["transparency"] == "kept"


def test_a_gif_animation_to_webp_keeps_every_frame_and_its_timing(
    deployed: Deployed, client: ApiClient
) -> None:
    status, body = convert(client, image=studio.inline(animation(6)), target_format="webp")
    assert status == 200, body
    _, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert image.format == "WEBP" and getattr(image, "n_frames", 1) == 6
    durations = []
    for frame in ImageSequence.Iterator(image):
        frame.load()  # WebP reads a frame's duration when the frame is decoded
        durations.append(frame.info.get("duration"))
    assert durations == [80] * 6 and body["details"]["frames"] == 6 and body["details"]["loop"] == 0
    # the disc moved: the frames are not copies of the first
    image.seek(0)
    first = image.convert("RGB").copy()
    image.seek(5)
    assert first.getpixel((20, 35)) != image.convert("RGB").getpixel((20, 35))


def test_an_animation_to_jpeg_keeps_the_first_frame_and_says_so(client: ApiClient) -> None:
    status, body = convert(client, image=studio.inline(animation(4)), target_format="jpeg")
    assert status == 200, body
    assert body["details"]["frames"] == 1
    assert any("first frame" in n for n in body["notes"]), body["notes"]


def test_an_iphone_heic_becomes_a_jpeg(deployed: Deployed, client: ApiClient) -> None:
    photo = Image.fromarray(data.chelsea())
    heic = saved(photo, "HEIF", quality=90)
    status, body = convert(client, image=studio.inline(heic), target_format="jpeg")
    assert status == 200, body
    _, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert image.format == "JPEG" and image.size == photo.size
    assert body["details"]["original_format"] == "HEIF"


def test_a_cmyk_jpeg_becomes_an_srgb_png_with_the_right_colours(
    deployed: Deployed, client: ApiClient
) -> None:
    red = Image.new("RGB", (64, 64), (220, 20, 30)).convert("CMYK")
    status, body = convert(client, image=studio.inline(saved(red, "JPEG", quality=95)), target_format="png")
    assert status == 200, body
    _, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    r, g, b = image.convert("RGB").getpixel((32, 32))
    assert r > 180 and g < 80 and b < 80  # still red, not inverted
    assert body["details"]["source_mode"] == "CMYK"


def test_an_asset_converts_into_a_child_version(deployed: Deployed, client: ApiClient) -> None:
    upload_id = studio.uploaded_asset(client, "alice")
    status, body = convert(client, upload_id=upload_id, target_format="ico")
    assert status == 200, body
    _, upload = client.call("GET", f"{studio.P}/uploads/{upload_id}", user="alice")
    asset, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert asset["parent_id"] == upload["upload"]["asset_id"] and image.format == "ICO"
    assert 256 in body["details"]["ico_sizes"] and 16 in body["details"]["ico_sizes"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"target_format": "psd"}, "jpeg"),  # the choices are named
        ({"target_format": "png", "color_space": "CMYK"}, "sRGB"),
        ({"target_format": "jpeg", "quality": 101}, "quality"),
        ({"target_format": "jpeg", "preserve_transparancy": False}, "preserve_transparancy"),
    ],
)
def test_bad_values_are_422_and_nothing_runs(client: ApiClient, body: dict, words: str) -> None:
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    status, answer = convert(client, image=studio.inline(cutout()), **body)
    assert status == 422, answer
    assert words in str(answer)
    studio.assert_nothing_charged(client, "alice", before, entries)


def test_a_decompression_bomb_is_refused(client: ApiClient) -> None:
    bomb = saved(Image.new("L", (20_000, 20_000), 0), "PNG")
    status, body = convert(client, image=studio.inline(bomb), target_format="webp")
    assert status == 422, body


def test_supported_formats_and_recommendations(client: ApiClient) -> None:
    status, supported = client.call("GET", f"{studio.P}/convert-format/supported", user="alice")
    assert status == 200
    by_id = {f["id"]: f for f in supported["formats"]}
    assert set(by_id) == {"jpeg", "png", "webp", "avif", "gif", "tiff", "bmp", "ico"}
    assert by_id["jpeg"]["supports_transparency"] is False and by_id["avif"]["mime_type"] == "image/avif"
    status, listed = client.call(
        "GET", f"{studio.P}/convert-format/recommendations?source_format=png", user="alice"
    )
    assert status == 200 and all(r["format"] != "png" for r in listed["recommendations"])
    photo = saved(Image.fromarray(data.astronaut()), "PNG")
    status, measured = client.call(
        "POST",
        f"{studio.P}/convert-format/recommendations",
        user="alice",
        body={"image_base64": studio.inline(photo)},
    )
    assert status == 200, measured
    web = measured["by_use"]["web"]
    assert web[0]["rank"] == 1 and web[0]["estimated_bytes"] < len(photo)
    png_option = next(o for o in web if o["format"] == "PNG")
    assert png_option["estimated_bytes"] == pytest.approx(len(photo), rel=0.3)  # a real encode of it


def test_the_original_client_gets_its_shape_inline(client: ApiClient) -> None:
    """The original front end's call (FormatConverterTab), answered as its hook reads it."""
    status, body = convert(
        client,
        image_base64=studio.inline(cutout()),
        target_format="webp",
        preserve_transparency=True,
        quality=85,
        strip_metadata=False,
        optimize=True,
        progressive=True,
    )
    assert status == 200, body
    assert body["success"] is True and body["image_base64"].startswith("data:image/webp;base64,")
    inline = Image.open(io.BytesIO(base64.b64decode(body["image_base64"].split(",", 1)[1])))
    assert inline.format == "WEBP" and inline.convert("RGBA").getpixel((5, 5))[3] == 0
    assert body["original_format"] == "png" and body["target_format"] == "webp"
    assert body["transparency_preserved"] is True and body["metadata_preserved"] is False  # it had none
    assert body["converted_size_kb"] > 0 and body["color_space"] == "sRGB"
