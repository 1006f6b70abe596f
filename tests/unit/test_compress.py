"""Compression on real photographs: smaller files that still look the same, targets really met."""

from __future__ import annotations

import pytest
from PIL import ExifTags, Image, ImageCms, ImageStat

from imagestudio.catalog import get_catalog
from imagestudio.errors import InvalidInput
from imagestudio.imaging.compress import (
    QUALITY_FLOOR,
    CompressOptions,
    TargetUnreachable,
    compress,
    estimate_compression,
    preset_options,
)
from imagestudio.imaging.fidelity import measure
from tests.images import encode, opened, sample_photo

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return sample_photo(1600, 1200)


@pytest.fixture(scope="module")
def camera_jpeg(photo: Image.Image) -> bytes:
    """A camera-like JPEG: quality 95, EXIF with a GPS position and orientation 6, an sRGB ICC profile."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.Orientation] = 6  # shown rotated 90° clockwise
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)})
    return encode(photo, "JPEG", quality=95, exif=exif.tobytes(), icc_profile=SRGB)


def test_default_is_smaller_and_looks_the_same(camera_jpeg: bytes) -> None:
    result = compress(camera_jpeg)
    assert result.format == "JPEG" and opened(result.data).format == "JPEG"
    assert result.bytes < 0.6 * len(camera_jpeg)
    assert result.fidelity.ssim >= 0.97 and result.fidelity.psnr >= 33
    # orientation applied: a 1600x1200 picture tagged "rotate 90°" is displayed 1200x1600
    assert (result.width, result.height) == (1200, 1600) == opened(result.data).size
    # the fidelity figure is honest: measured again against the decoded input it agrees
    rotated = opened(camera_jpeg).transpose(Image.Transpose.ROTATE_270)
    assert abs(measure(rotated, opened(result.data).convert("RGB")).psnr - result.fidelity.psnr) < 0.2


def test_metadata_stripped_by_default_icc_kept(camera_jpeg: bytes) -> None:
    result = compress(camera_jpeg)
    out = opened(result.data)
    assert not out.getexif()
    assert out.info.get("icc_profile") == SRGB
    assert result.metadata_removed == ["exif", "gps"] and result.metadata_kept == ["icc"]


def test_metadata_kept_on_request_with_orientation_reset(camera_jpeg: bytes) -> None:
    out = opened(compress(camera_jpeg, CompressOptions(strip_metadata=False)).data)
    exif = out.getexif()
    assert exif[ExifTags.Base.Make] == "TestCam"
    assert exif.get(ExifTags.Base.Orientation) == 1  # the pixels are already turned
    assert exif.get_ifd(ExifTags.IFD.GPSInfo)[1] == "N"


def test_icc_dropped_on_request(camera_jpeg: bytes) -> None:
    result = compress(camera_jpeg, CompressOptions(keep_icc=False))
    assert "icc_profile" not in opened(result.data).info and "icc" in result.metadata_removed


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif"])
def test_target_size_is_met_with_the_best_quality_under_it(camera_jpeg: bytes, fmt: str) -> None:
    target_kb = 120
    result = compress(camera_jpeg, CompressOptions(format=fmt, target_kb=target_kb))  # type: ignore[arg-type]
    assert result.bytes <= target_kb * 1024 and result.target_met is True
    assert result.downscaled_from is None and (result.width, result.height) == (1200, 1600)
    assert result.quality_used is not None and result.quality_used >= QUALITY_FLOOR[fmt]
    assert result.bytes >= 0.6 * target_kb * 1024  # it used the budget, it did not crush the picture
    assert result.fidelity.ssim >= 0.9
    assert result.encodes <= 7


def test_avif_is_really_avif_and_beats_jpeg_at_the_same_size(camera_jpeg: bytes) -> None:
    avif = compress(camera_jpeg, CompressOptions(format="avif", target_kb=80))
    jpeg = compress(camera_jpeg, CompressOptions(format="jpeg", target_kb=80))
    assert avif.data[4:12] == b"ftypavif" and opened(avif.data).format == "AVIF"
    assert avif.mime == "image/avif" and avif.extension == "avif"
    assert avif.fidelity.ssim > jpeg.fidelity.ssim


def test_a_target_quality_cannot_reach_is_met_by_a_stated_downscale(camera_jpeg: bytes) -> None:
    result = compress(camera_jpeg, CompressOptions(target_kb=25))
    assert result.bytes <= 25 * 1024
    assert result.downscaled_from == (1200, 1600)
    assert result.width < 1200 and result.height < 1600
    assert abs(result.width / result.height - 0.75) < 0.01  # aspect kept
    assert any("downscaled to" in note for note in result.notes)


def test_without_downscale_an_unreachable_target_says_the_smallest_size(camera_jpeg: bytes) -> None:
    with pytest.raises(TargetUnreachable) as err:
        compress(camera_jpeg, CompressOptions(target_kb=25, allow_downscale=False))
    assert err.value.status == 422
    smallest = err.value.details["smallest_bytes"]
    assert smallest > 25 * 1024
    floor = compress(camera_jpeg, CompressOptions(quality=QUALITY_FLOOR["jpeg"]))
    assert abs(floor.bytes - smallest) < 0.02 * smallest
    assert f"at least {-(-smallest // 1024)}" in err.value.message


def test_png_target_is_reached_by_palette_quantization() -> None:
    from skimage import data

    logo = Image.new("RGBA", (560, 300), (0, 0, 0, 0))  # scikit-image's logo on a transparent margin
    logo.paste(Image.fromarray(data.logo()).convert("RGBA"), (40, 50))
    png = encode(logo, "PNG")
    lossless = compress(png, CompressOptions(format="png"))
    assert lossless.lossless and lossless.fidelity.psnr == 100.0
    target_kb = round(lossless.bytes * 0.5 / 1024)
    result = compress(png, CompressOptions(format="png", target_kb=target_kb))
    out = opened(result.data)
    assert out.format == "PNG" and out.mode == "P" and result.colors is not None
    assert result.bytes <= target_kb * 1024
    assert out.convert("RGBA").getchannel("A").getextrema()[0] == 0  # the transparency is still there
    assert result.fidelity.ssim >= 0.9


def test_palette_input_does_not_turn_black() -> None:
    """The original's metadata strip by getdata/putdata turned palette images black."""
    photo = sample_photo(400, 300)
    gif_like = encode(photo.quantize(64), "PNG")
    result = compress(gif_like, CompressOptions(format="png", palette=True, colors=64))
    assert result.fidelity.psnr > 30
    mean = ImageStat.Stat(opened(result.data).convert("L")).mean[0]
    assert mean > 60


def test_progressive_and_optimized_jpeg(camera_jpeg: bytes) -> None:
    plain = compress(camera_jpeg, CompressOptions(quality=80))
    progressive = compress(camera_jpeg, CompressOptions(quality=80, progressive=True))
    assert opened(progressive.data).info.get("progressive") == 1
    assert "progressive" not in opened(plain.data).info
    # optimized Huffman tables: smaller than Pillow's default encode at the same quality
    default = encode(opened(camera_jpeg).transpose(Image.Transpose.ROTATE_270), "JPEG", quality=80)
    assert plain.bytes < len(default)


def test_webp_lossless_keeps_every_pixel() -> None:
    from skimage import data

    png = encode(Image.fromarray(data.astronaut()), "PNG")
    result = compress(png, CompressOptions(format="webp", lossless=True))
    assert result.lossless and result.quality_used is None
    assert result.fidelity.psnr == 100.0 and result.bytes < len(png)


def test_transparency_to_jpeg_is_flattened_onto_the_background() -> None:
    im = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    im.paste((200, 0, 0, 255), (16, 16, 48, 48))
    result = compress(encode(im, "PNG"), CompressOptions(format="jpeg", background="#00ff00"))
    out = opened(result.data).convert("RGB")
    corner, middle = out.getpixel((2, 2)), out.getpixel((32, 32))
    assert isinstance(corner, tuple) and isinstance(middle, tuple)
    assert corner[1] > 240 and middle[0] > 180
    assert any("flattened" in n for n in result.notes)


def test_estimate_really_encodes_a_sample_and_lands_near(camera_jpeg: bytes) -> None:
    for options in (CompressOptions(format="webp"), CompressOptions(format="jpeg", quality=70)):
        estimate = estimate_compression(camera_jpeg, options)
        actual = compress(camera_jpeg, options)
        assert 0.7 < estimate.estimated_bytes / actual.bytes < 1.35
        assert estimate.sample_pixels < 0.3 * 1200 * 1600
    needs = estimate_compression(camera_jpeg, CompressOptions(target_kb=25))
    assert needs.downscale_needed


def test_presets_come_from_the_catalog(camera_jpeg: bytes) -> None:
    catalog = get_catalog()
    email = compress(camera_jpeg, preset_options(catalog.compression_preset("email")))
    assert email.format == "JPEG" and email.bytes <= 200 * 1024 and email.progressive
    thumb = compress(camera_jpeg, preset_options(catalog.compression_preset("thumbnail")))
    assert thumb.format == "WEBP" and max(thumb.width, thumb.height) == 320
    with pytest.raises(InvalidInput, match="Valid preset values"):
        catalog.compression_preset("tiny")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (CompressOptions(quality=0), "quality"),
        (CompressOptions(target_kb=-5), "target_kb"),
        (CompressOptions(format="bmp"), "format"),  # type: ignore[arg-type]
        (CompressOptions(background="not-a-colour"), "background"),
    ],
)
def test_bad_values_answer_422_naming_the_field(options: CompressOptions, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        compress(encode(Image.new("RGB", (8, 8)), "PNG"), options)
    assert err.value.status == 422 and err.value.details["field"] == field


def test_bombs_and_oversized_files_are_refused() -> None:
    big = encode(Image.new("L", (6000, 6000)), "PNG")  # 36 MP of one colour: a tiny file
    with pytest.raises(InvalidInput, match="the limit is 10,000,000 pixels"):
        compress(big, max_pixels=10_000_000)
    with pytest.raises(InvalidInput, match="the limit is"):
        compress(b"\xff\xd8\xff" + b"\0" * 2048, max_bytes=1024)
    with pytest.raises(InvalidInput, match="Not an image"):
        compress(b"hello, not an image at all")
