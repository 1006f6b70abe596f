"""Format conversion on real pictures: formats really change, alpha really kept or flattened, every frame
with its duration, colours right, and a report that says what was done."""

from __future__ import annotations

import io

import numpy as np
import pytest
import tifffile
from PIL import ExifTags, Image, ImageSequence

from imagestudio.errors import InvalidInput
from imagestudio.imaging.convert import ConvertOptions, convert, recommend_formats
from imagestudio.imaging.sources import heif_available, load_source
from tests.images import encode, opened, sample_photo

DURATIONS = [80, 120, 160, 200, 240, 280]


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return sample_photo(640, 480)


@pytest.fixture(scope="module")
def animated_gif(photo: Image.Image) -> bytes:
    frames = [photo.rotate(i * 30).resize((160, 120)) for i in range(len(DURATIONS))]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=DURATIONS, loop=2)


@pytest.fixture(scope="module")
def cutout(photo: Image.Image) -> bytes:
    """A PNG with a fully transparent margin around an opaque picture."""
    im = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    im.paste(photo.resize((100, 100)), (50, 50))
    return encode(im, "PNG")


def frames_of(data: bytes) -> tuple[int, list[int], int | None]:
    im = Image.open(io.BytesIO(data))
    durations = []
    for frame in ImageSequence.Iterator(im):
        frame.load()
        durations.append(int(frame.info["duration"]))
    return len(durations), durations, im.info.get("loop")


@pytest.mark.parametrize("target", ["webp", "gif", "png"])
def test_animations_keep_every_frame_duration_and_loop(animated_gif: bytes, target: str) -> None:
    result = convert(animated_gif, ConvertOptions(target_format=target))
    assert opened(result.data).format == target.upper()
    assert frames_of(result.data) == (6, DURATIONS, 2)
    assert (result.frames, result.durations, result.loop) == (6, DURATIONS, 2)


def test_gif_to_webp_and_back_round_trips_the_timing(animated_gif: bytes) -> None:
    webp = convert(animated_gif, ConvertOptions(target_format="webp"))
    assert webp.bytes < len(animated_gif)
    back = convert(webp.data, ConvertOptions(target_format="gif"))
    assert frames_of(back.data) == (6, DURATIONS, 2)


def test_avif_animation_keeps_frames_and_says_the_loop_is_lost(animated_gif: bytes) -> None:
    result = convert(animated_gif, ConvertOptions(target_format="avif"))
    count, durations, _loop = frames_of(result.data)
    assert (count, durations) == (6, DURATIONS)
    assert result.loop is None and any("loop count" in n for n in result.notes)


def test_a_target_that_cannot_animate_gets_the_first_frame_and_a_note(animated_gif: bytes) -> None:
    result = convert(animated_gif, ConvertOptions(target_format="jpg"))
    assert result.format == "JPEG" and result.frames == 1 and result.durations == []
    assert any("kept the first frame only" in n for n in result.notes)
    first = Image.open(io.BytesIO(animated_gif)).convert("RGB")
    assert result.fidelity.ssim > 0.95 and opened(result.data).size == first.size


@pytest.mark.parametrize("target", ["jpeg", "bmp"])
def test_transparency_flattened_onto_the_chosen_background(cutout: bytes, target: str) -> None:
    result = convert(cutout, ConvertOptions(target_format=target, background="#ff0000"))
    out = opened(result.data).convert("RGB")
    assert result.transparency == "flattened" and opened(result.data).mode == "RGB"
    corner = out.getpixel((5, 5))
    assert isinstance(corner, tuple) and corner[0] > 240 and corner[1] < 15 and corner[2] < 15
    assert result.fidelity.ssim > 0.95  # measured against the cut-out on red: what was asked


@pytest.mark.parametrize("target", ["png", "webp", "avif", "tiff", "gif", "ico"])
def test_transparency_kept_where_the_target_has_alpha(cutout: bytes, target: str) -> None:
    result = convert(cutout, ConvertOptions(target_format=target))
    out = opened(result.data).convert("RGBA")
    assert result.transparency == "kept"
    alpha = out.getchannel("A")
    assert alpha.getpixel((2, 2)) == 0 and alpha.getpixel((out.width // 2, out.height // 2)) == 255


def test_palette_and_rgba_to_jpeg_do_not_fail(photo: Image.Image) -> None:
    """The original failed with 'cannot write mode P/RGBA as JPEG'."""
    for im in (photo.quantize(32), photo.convert("RGBA"), photo.convert("LA")):
        result = convert(encode(im, "PNG"), ConvertOptions(target_format="jpeg"))
        assert opened(result.data).format == "JPEG"


def test_ico_holds_several_square_sizes(photo: Image.Image) -> None:
    result = convert(encode(photo, "PNG"), ConvertOptions(target_format="ico"))
    ico = Image.open(io.BytesIO(result.data))
    assert result.ico_sizes == [16, 24, 32, 48, 64, 128, 256]
    assert ico.info["sizes"] == {(s, s) for s in result.ico_sizes}
    small = convert(encode(photo.resize((40, 30)), "PNG"), ConvertOptions(target_format="ico"))
    assert small.ico_sizes == [16, 24, 32]  # never upscaled past the picture


def test_cmyk_becomes_rgb_and_the_report_says_so(photo: Image.Image) -> None:
    result = convert(encode(photo.convert("CMYK"), "JPEG", quality=95), ConvertOptions(target_format="png"))
    assert result.source_mode == "CMYK" and opened(result.data).mode == "RGB"
    assert result.color_space == "sRGB" and any("CMYK" in n for n in result.notes)
    assert result.fidelity.psnr == 100.0  # PNG: nothing lost after the colour conversion


def test_sixteen_bit_inputs_become_8_bit_with_the_tones_kept(photo: Image.Image) -> None:
    rgb16 = np.asarray(photo.resize((64, 48))).astype(np.uint16) * 257
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, rgb16, photometric="rgb")
    result = convert(buffer.getvalue(), ConvertOptions(target_format="png"))
    assert result.bit_depth == 16 and any("16-bit" in n for n in result.notes)
    back = np.asarray(opened(result.data)).astype(int)
    assert np.abs(back - rgb16 // 257).max() <= 1
    ramp = np.linspace(0, 65535, 64 * 48).reshape(48, 64).astype(np.uint16)
    gray = convert(encode(Image.fromarray(ramp), "PNG"), ConvertOptions(target_format="jpeg"))
    assert gray.bit_depth == 16 and opened(gray.data).getextrema() in ((0, 255), (1, 255), (0, 254))


def test_metadata_report_is_what_the_file_holds(photo: Image.Image) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (48.0, 51.0, 24.0)})
    jpeg = encode(photo, "JPEG", quality=90, exif=exif.tobytes())
    stripped = convert(jpeg, ConvertOptions(target_format="webp"))
    assert stripped.metadata_removed == ["exif", "gps"] and not opened(stripped.data).getexif()
    kept = convert(jpeg, ConvertOptions(target_format="webp", strip_metadata=False))
    assert kept.metadata_kept == ["exif", "gps"]
    assert opened(kept.data).getexif()[ExifTags.Base.Make] == "TestCam"
    gif = convert(jpeg, ConvertOptions(target_format="gif", strip_metadata=False))
    assert gif.metadata_kept == [] and gif.metadata_removed == ["exif", "gps"]
    assert any("cannot store EXIF" in n for n in gif.notes)


def test_avif_out_is_really_avif_and_reads_back(photo: Image.Image) -> None:
    result = convert(encode(photo, "PNG"), ConvertOptions(target_format="avif"))
    assert result.data[4:12] == b"ftypavif" and result.mime == "image/avif"
    again = convert(result.data, ConvertOptions(target_format="png"))
    assert again.source_format == "AVIF" and again.fidelity.psnr == 100.0


@pytest.mark.skipif(not heif_available(), reason="pillow-heif is not installed")
def test_heic_photos_are_read(photo: Image.Image) -> None:
    heic = encode(photo, "HEIF", quality=90)
    assert heic[4:12] == b"ftypheic"
    result = convert(heic, ConvertOptions(target_format="jpeg"))
    assert result.source_format == "HEIF" and (result.width, result.height) == photo.size
    assert result.fidelity.ssim > 0.95


def test_recommendations_come_from_real_encodes(
    photo: Image.Image, cutout: bytes, animated_gif: bytes
) -> None:
    jpeg = encode(photo, "JPEG", quality=95)
    rec = recommend_formats(jpeg)
    assert list(rec.by_use) == ["web", "print"]
    web = rec.by_use["web"]
    assert [o.rank for o in web] == [1, 2, 3, 4]
    for option in web:  # the figure is what that encode really weighs
        assert option.measured == "full"
    png = next(o for o in web if o.format == "PNG")
    assert png.estimated_bytes == convert(jpeg, ConvertOptions(target_format="png")).bytes
    assert web[0].format in ("AVIF", "WEBP") and web[0].estimated_bytes < png.estimated_bytes
    assert rec.by_use["print"][0].lossless
    with_alpha = recommend_formats(cutout)
    assert "transparency" in with_alpha.by_use and all(o.format != "JPEG" for o in with_alpha.by_use["web"])
    moving = recommend_formats(animated_gif)
    assert moving.animated and moving.by_use["animation"][0].format in ("WEBP", "AVIF")


def test_large_images_are_measured_on_a_sample() -> None:
    big = encode(sample_photo(2600, 1800), "JPEG", quality=92)
    rec = recommend_formats(big)
    webp = next(o for o in rec.by_use["web"] if o.format == "WEBP")
    assert webp.measured == "sample"
    actual = convert(big, ConvertOptions(target_format="webp")).bytes
    assert 0.7 < webp.estimated_bytes / actual < 1.4


def test_unknown_targets_and_bad_values_answer_422(photo: Image.Image) -> None:
    png = encode(photo.resize((16, 16)), "PNG")
    with pytest.raises(InvalidInput, match="Writable formats: jpeg, png, webp, avif, gif, tiff, bmp, ico"):
        convert(png, ConvertOptions(target_format="psd"))
    with pytest.raises(InvalidInput) as err:
        convert(png, ConvertOptions(target_format="jpeg", quality=101))
    assert err.value.details["field"] == "quality"


def test_caps_hold_for_every_reader(photo: Image.Image) -> None:
    with pytest.raises(InvalidInput, match="the limit is 1,000,000 pixels"):
        convert(
            encode(Image.new("RGB", (2000, 2000)), "WEBP"),
            ConvertOptions(target_format="png"),
            max_pixels=1_000_000,
        )
    frames = [photo.rotate(i * 12).resize((320, 240)) for i in range(30)]  # 2.3 MP in all
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    with pytest.raises(InvalidInput, match="frames"):
        load_source(gif, all_frames=True, max_frame_pixels=1_000_000)
    with pytest.raises(InvalidInput, match=r"truncated|corrupt"):
        convert(encode(photo, "PNG")[:2000], ConvertOptions(target_format="jpeg"))
