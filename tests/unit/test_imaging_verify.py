"""verify_image: what a user who uploads a file sees. Every fixture is made here with Pillow."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageCms, ImageFile, PngImagePlugin

from imagestudio.errors import InvalidInput
from imagestudio.imaging import ACCEPTED_FORMATS, VerifiedImage, output_format_for, verify_image
from tests.images import encode, opened

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def reopen(verified: VerifiedImage) -> Image.Image:
    return opened(verified.data)


def close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR (with a correct CRC) claims width x height RGB pixels; its IDAT is junk."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", b"not zlib at all")
        + png_chunk(b"IEND", b"")
    )


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.fixture
def phone_photo() -> bytes:
    """A landscape JPEG stored sideways (EXIF orientation 6) with GPS, camera, XMP, comment and ICC."""
    im = Image.new("RGB", (400, 200), BLUE)
    im.paste(RED, (0, 0, 200, 200))  # the stored left half is red: displayed, it is the top
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.Model] = "Snap 12"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.0),
    }
    return encode(
        im,
        "JPEG",
        quality=95,
        exif=exif,
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">exif:GPSLatitude 52,31.2N</x:xmpmeta>',
        comment=b"taken at my home address",
        icc_profile=srgb_icc(),
    )


def rejection(data: bytes, **limits: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        verify_image(data, **limits)  # type: ignore[arg-type]
    assert caught.value.status == 422
    return caught.value


# --- EXIF orientation and privacy ---------------------------------------------------------------------


def test_sideways_phone_photo_comes_out_upright(phone_photo: bytes) -> None:
    assert Image.open(io.BytesIO(phone_photo)).size == (400, 200)

    verified = verify_image(phone_photo)

    assert (verified.width, verified.height) == (200, 400)
    out = reopen(verified)
    assert out.size == (200, 400)
    assert close(out.getpixel((100, 20)), RED)  # type: ignore[arg-type]
    assert close(out.getpixel((100, 380)), BLUE)  # type: ignore[arg-type]
    assert any("orientation 6" in note for note in verified.notes)


def test_location_and_camera_metadata_are_gone(phone_photo: bytes) -> None:
    verified = verify_image(phone_photo)

    out = reopen(verified)
    exif = out.getexif()
    assert len(exif) == 0
    assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(out.info)
    # nothing in the raw bytes either: no APP1 EXIF block, no GPS IFD pointer, no XMP, no comment, no ICC
    assert b"Exif\x00\x00" not in verified.data
    assert struct.pack(">H", ExifTags.IFD.GPSInfo) + b"\x00\x04" not in verified.data
    assert struct.pack("<H", ExifTags.IFD.GPSInfo) + b"\x04\x00" not in verified.data
    for secret in (b"PhoneCo", b"GPSLatitude", b"my home address", b"ICC_PROFILE", b"adobe"):
        assert secret not in verified.data
    assert verified.removed_metadata == ["exif", "gps", "xmp", "icc", "comment"]


def test_an_opaque_jpeg_stays_a_good_jpeg(phone_photo: bytes) -> None:
    verified = verify_image(phone_photo)

    assert (verified.format, verified.mime, verified.extension) == ("JPEG", "image/jpeg", "jpg")
    assert verified.source_format == "JPEG"
    assert verified.mode == "RGB" and not verified.has_alpha
    assert verified.bytes == len(verified.data)
    assert reopen(verified).info.get("progressive") == 1


def test_png_text_chunks_are_removed() -> None:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Jane Doe, 12 Private Road")
    data = encode(Image.new("RGB", (20, 20), RED), "PNG", pnginfo=text)

    verified = verify_image(data)

    assert verified.removed_metadata == ["text"]
    assert b"Private Road" not in verified.data
    assert "Author" not in reopen(verified).info


def test_a_clean_file_reports_nothing_removed() -> None:
    verified = verify_image(encode(Image.new("RGB", (20, 20), RED), "PNG"))

    assert verified.removed_metadata == []
    assert verified.notes == []


# --- not an image, or not one we take ----------------------------------------------------------------


def test_text_renamed_to_png_is_not_an_image() -> None:
    # the "filename" is irrelevant: only the bytes are passed, and the bytes are text
    err = rejection(b"Dear team,\nplease find attached the holiday photo.png\n")

    assert err.message.startswith("Not an image: the bytes are not a JPEG, PNG, WebP, GIF, TIFF or BMP file")
    assert "plain text" in err.message
    assert "Accepted formats: JPEG, PNG, WebP, GIF, TIFF, BMP." in err.message
    assert err.details["accepted_formats"] == list(ACCEPTED_FORMATS)


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "an SVG (vector) image"),
        (b"<!DOCTYPE html><html><body>404</body></html>", "an HTML page"),
        (b"PK\x03\x04\x14\x00\x06\x00", "a ZIP archive"),
        (b"\x00\x01\x02\x03\xfe\xff\x10\x80" * 8, None),
    ],
)
def test_other_files_are_named_in_the_rejection(data: bytes, hint: str | None) -> None:
    err = rejection(data)

    assert err.message.startswith("Not an image")
    if hint is None:
        assert "look like" not in err.message
    else:
        assert hint in err.message


def test_an_iphone_heic_photo_gets_export_advice() -> None:
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64

    err = rejection(heic)

    assert "HEIC" in err.message and "export the photo as jpeg" in err.message.lower()


def test_a_format_not_allowed_here_names_the_allowed_ones() -> None:
    gif = encode(Image.new("P", (10, 10)), "GIF")

    err = rejection(gif, allowed_formats=("JPEG", "PNG", "WEBP"))

    assert err.message == "GIF images are not accepted here. Accepted formats: JPEG, PNG, WebP."


def test_empty_and_oversized_files_are_rejected_with_the_limit() -> None:
    assert "empty" in rejection(b"").message

    big = encode(Image.effect_noise((300, 300), 64).convert("RGB"), "PNG")
    err = rejection(big, max_bytes=100 * 1024)

    assert f"({len(big):,} bytes)" in err.message and "the limit is 100 KB" in err.message
    assert err.details == {"field": "file", "bytes": len(big), "max_bytes": 100 * 1024}


# --- decompression bombs, truncated and corrupt files ------------------------------------------------


def test_a_header_claiming_50000_by_50000_is_refused_before_decoding() -> None:
    bomb = png_claiming(50_000, 50_000)
    assert len(bomb) < 100

    err = rejection(bomb)

    # the IDAT is junk: had a pixel been decoded, this would be a "corrupt" rejection instead
    assert "2,500,000,000 pixels" in err.message
    assert "the limit is 40,000,000 pixels" in err.message


def test_our_pixel_cap_applies_below_pillows_own_limit() -> None:
    assert (Image.MAX_IMAGE_PIXELS or 0) > 8000 * 8000  # so this is our check, not Pillow's, speaking

    err = rejection(png_claiming(8000, 8000))

    assert err.message.startswith("The image is 8000x8000 pixels (64,000,000 pixels)")
    assert err.details["max_pixels"] == 40_000_000


def test_the_pixel_cap_is_a_parameter() -> None:
    data = encode(Image.new("RGB", (100, 100)), "PNG")

    assert verify_image(data, max_pixels=10_000).width == 100
    assert "100x100" in rejection(data, max_pixels=9_999).message


def test_pillow_globals_are_left_alone(phone_photo: bytes) -> None:
    before = Image.MAX_IMAGE_PIXELS
    verify_image(phone_photo)
    with pytest.raises(InvalidInput):
        verify_image(png_claiming(50_000, 50_000))

    assert before == Image.MAX_IMAGE_PIXELS
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_a_truncated_jpeg_is_refused(phone_photo: bytes) -> None:
    err = rejection(phone_photo[: len(phone_photo) * 2 // 3])

    assert err.message.startswith("The JPEG file is truncated")
    assert "Upload the complete file" in err.message


def test_a_png_with_broken_pixel_data_is_refused() -> None:
    good = encode(Image.effect_noise((64, 64), 50).convert("RGB"), "PNG")
    idat = good.index(b"IDAT")
    broken = good[: idat + 20] + bytes(64) + good[idat + 84 :]

    err = rejection(broken)

    assert "PNG" in err.message and ("corrupt" in err.message or "truncated" in err.message)


def test_a_png_signature_with_a_garbage_header_is_corrupt_not_an_image_crash() -> None:
    err = rejection(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)

    assert err.message.startswith("The file starts like a PNG image but could not be decoded")
    assert "0x" not in err.message  # no Python object addresses in what the user reads


# --- colour, depth, alpha, frames --------------------------------------------------------------------


def test_cmyk_jpeg_becomes_rgb_with_the_right_colour() -> None:
    cyan = Image.new("CMYK", (32, 32), (255, 0, 0, 0))

    verified = verify_image(encode(cyan, "JPEG", quality=95))

    out = reopen(verified)
    assert verified.mode == "RGB" and out.mode == "RGB"
    assert close(out.getpixel((16, 16)), (0, 255, 255), tolerance=20)  # type: ignore[arg-type]
    assert "converted CMYK to RGB" in verified.notes


def test_16_bit_grayscale_png_becomes_8_bit_with_its_tones() -> None:
    deep = Image.new("I;16", (3, 1))
    for x, value in enumerate((0, 32768, 65535)):
        deep.putpixel((x, 0), value)
    data = encode(deep, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"

    verified = verify_image(data)

    out = reopen(verified)
    assert verified.mode == "L" and out.mode == "L"
    assert [out.getpixel((x, 0)) for x in range(3)] == [0, 128, 255]
    assert "reduced 16-bit samples to 8-bit" in verified.notes


def test_palette_png_with_transparency_becomes_rgba_png() -> None:
    im = Image.new("P", (20, 20), 0)
    im.putpalette([255, 255, 255, 255, 0, 0])
    im.paste(1, (10, 0, 20, 20))
    data = encode(im, "PNG", transparency=0)

    verified = verify_image(data)

    out = reopen(verified)
    assert (verified.format, verified.mode, verified.has_alpha) == ("PNG", "RGBA", True)
    assert out.mode == "RGBA"
    assert out.getpixel((2, 2))[3] == 0  # type: ignore[index]
    assert out.getpixel((15, 2)) == (255, 0, 0, 255)


def test_animated_gif_keeps_the_first_frame_and_says_so() -> None:
    frames = [Image.new("RGB", (30, 20), colour).convert("P") for colour in (RED, (0, 255, 0), BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 3

    verified = verify_image(data)

    out = reopen(verified)
    assert getattr(out, "n_frames", 1) == 1
    assert (verified.format, verified.width, verified.height) == ("PNG", 30, 20)
    assert close(out.convert("RGB").getpixel((5, 5)), RED)  # type: ignore[arg-type]
    assert "animated GIF with 3 frames: kept the first frame only" in verified.notes


def test_animated_webp_keeps_the_first_frame_as_webp() -> None:
    frames = [Image.new("RGB", (16, 16), colour) for colour in (RED, BLUE)]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)

    verified = verify_image(data)

    assert verified.format == "WEBP"
    assert getattr(reopen(verified), "n_frames", 1) == 1
    assert any("animated WebP with 2 frames" in note for note in verified.notes)


def test_multi_page_tiff_keeps_the_first_page() -> None:
    pages = [Image.new("RGB", (10, 10), colour) for colour in (RED, BLUE)]
    data = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])

    verified = verify_image(data)

    assert verified.format == "PNG"
    assert reopen(verified).getpixel((0, 0)) == RED
    assert "multi-page TIFF with 2 pages: kept the first page only" in verified.notes


def test_icc_profile_is_applied_then_dropped() -> None:
    data = encode(Image.new("RGB", (8, 8), (10, 200, 30)), "PNG", icc_profile=srgb_icc())

    verified = verify_image(data)

    assert "icc" in verified.removed_metadata
    assert "icc_profile" not in reopen(verified).info
    assert close(reopen(verified).getpixel((4, 4)), (10, 200, 30), tolerance=2)  # type: ignore[arg-type]


def test_a_fully_opaque_alpha_channel_is_dropped() -> None:
    data = encode(Image.new("RGBA", (8, 8), (1, 2, 3, 255)), "PNG")

    verified = verify_image(data)

    assert (verified.mode, verified.has_alpha) == ("RGB", False)


# --- the output format rule --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "mode", "expected"),
    [
        ("JPEG", "RGB", "JPEG"),
        ("JPEG", "L", "JPEG"),
        ("PNG", "RGB", "PNG"),
        ("PNG", "RGBA", "PNG"),
        ("WEBP", "RGB", "WEBP"),
        ("WEBP", "RGBA", "WEBP"),
        ("GIF", "P", "PNG"),
        ("BMP", "RGB", "PNG"),
        ("TIFF", "RGB", "PNG"),
    ],
)
def test_output_format_rule(source: str, mode: str, expected: str) -> None:
    colour = {"RGB": RED, "RGBA": (255, 0, 0, 128), "L": 128, "P": 3}[mode]
    data = encode(Image.new(mode, (24, 16), colour), source)  # type: ignore[arg-type]

    verified = verify_image(data)

    assert verified.source_format == source
    assert verified.format == expected
    assert Image.open(io.BytesIO(verified.data)).format == expected
    assert (verified.width, verified.height) == (24, 16)
    assert verified.mime == f"image/{expected.lower()}"
    converted = [note for note in verified.notes if note.startswith("converted ")]
    assert bool(converted) == (source != expected)
    assert output_format_for(source, verified.has_alpha) == expected


def test_lossless_webp_stays_pixel_exact() -> None:
    noise = Image.effect_noise((40, 40), 80).convert("RGB")

    verified = verify_image(encode(noise, "WEBP", lossless=True))

    assert reopen(verified).convert("RGB").tobytes() == noise.tobytes()


def test_the_result_never_shows_image_bytes_in_logs(phone_photo: bytes) -> None:
    verified = verify_image(phone_photo)

    assert "(data=" not in repr(verified) and "\\x" not in repr(verified)
    assert verified.describe()["width"] == 200 and "data" not in verified.describe()


# --- damaged files -----------------------------------------------------------------------------------

_SAMPLE = Image.effect_noise((24, 16), 60).convert("RGB")
_SAMPLES = [encode(_SAMPLE, fmt) for fmt in ACCEPTED_FORMATS]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(_SAMPLES),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=6),
    st.floats(0.05, 1),
)
def test_a_damaged_file_is_cleaned_or_refused_never_a_crash(
    original: bytes, damage: list[tuple[float, int]], keep: float
) -> None:
    data = bytearray(original)
    for where, value in damage:
        data[int(where * len(data))] = value
    data = data[: max(8, int(len(data) * keep))]

    try:
        verified = verify_image(bytes(data))
    except InvalidInput as err:
        assert err.status == 422 and err.message
        return
    out = reopen(verified)
    assert out.size == (verified.width, verified.height)
    assert len(out.getexif()) == 0
