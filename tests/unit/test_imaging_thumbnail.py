"""make_thumbnail: the small picture a user sees in the asset library."""

from __future__ import annotations

import pytest
from PIL import ExifTags, Image

from imagestudio.errors import InvalidInput
from imagestudio.imaging import make_thumbnail, verify_image
from imagestudio.imaging.thumbnail import Thumbnail
from tests.images import encode, opened


def shown(thumb: Thumbnail) -> Image.Image:
    im = opened(thumb.data)
    assert im.size == (thumb.width, thumb.height)
    return im


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((2000, 1000), (512, 256)),  # landscape
        ((1000, 3000), (171, 512)),  # portrait
        ((512, 512), (512, 512)),  # exactly the box
        ((100, 50), (100, 50)),  # tiny: never upscaled
        ((3000, 7), (512, 1)),  # a hairline banner keeps at least one pixel
    ],
)
def test_thumbnail_fits_the_box_and_keeps_the_shape(size: tuple[int, int], expected: tuple[int, int]) -> None:
    data = encode(Image.new("RGB", size, (200, 30, 30)), "JPEG")

    thumb = make_thumbnail(data)

    assert (thumb.width, thumb.height) == expected
    assert thumb.mime == "image/webp"
    assert shown(thumb).format == "WEBP"


def test_thumbnail_of_a_big_photo_is_small_and_sharp_enough() -> None:
    photo = Image.effect_noise((3000, 2000), 40).convert("RGB")
    photo.paste((0, 0, 255), (0, 0, 1500, 2000))  # left half blue

    thumb = make_thumbnail(encode(photo, "JPEG", quality=90), max_side=300)

    im = shown(thumb).convert("RGB")
    assert (thumb.width, thumb.height) == (300, 200)
    assert len(thumb.data) < 60_000
    r, g, b = im.getpixel((20, 100))  # type: ignore[misc]
    assert b > 200 and r < 40 and g < 40


def test_thumbnail_keeps_transparency() -> None:
    logo = Image.new("RGBA", (800, 400), (0, 0, 0, 0))
    logo.paste((255, 0, 0, 255), (400, 0, 800, 400))

    thumb = make_thumbnail(encode(logo, "PNG"), max_side=200)

    im = shown(thumb).convert("RGBA")
    assert (thumb.width, thumb.height) == (200, 100)
    assert im.getpixel((10, 50))[3] == 0  # type: ignore[index]
    assert im.getpixel((190, 50))[3] == 255  # type: ignore[index]


def test_jpeg_thumbnail_of_a_transparent_image_is_on_white() -> None:
    logo = Image.new("RGBA", (100, 100), (0, 0, 0, 0))

    thumb = make_thumbnail(encode(logo, "PNG"), format="jpeg", quality=90)

    assert thumb.mime == "image/jpeg"
    assert shown(thumb).convert("RGB").getpixel((50, 50)) == (255, 255, 255)


def test_thumbnail_of_a_sideways_phone_photo_is_upright() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = encode(Image.new("RGB", (1600, 1200), (20, 120, 20)), "JPEG", exif=exif)

    thumb = make_thumbnail(data, max_side=400)

    assert (thumb.width, thumb.height) == (300, 400)
    assert shown(thumb).getexif().get(ExifTags.Base.Orientation) is None


def test_thumbnail_from_a_verified_image_or_a_pillow_image() -> None:
    verified = verify_image(encode(Image.new("RGB", (1024, 768), (9, 9, 9)), "PNG"))
    picture = Image.new("P", (640, 480), 1)

    from_verified = make_thumbnail(verified, max_side=256, format="PNG")
    from_picture = make_thumbnail(picture, max_side=64)

    assert (from_verified.width, from_verified.height, from_verified.mime) == (256, 192, "image/png")
    assert (from_picture.width, from_picture.height) == (64, 48)
    assert picture.size == (640, 480)  # the caller's image is not shrunk in place


def test_thumbnail_refuses_what_verify_refuses() -> None:
    with pytest.raises(InvalidInput, match="Not an image"):
        make_thumbnail(b"just some text, not a picture")


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"format": "GIF"}, "Unknown thumbnail format 'GIF'. Valid formats: WEBP, JPEG, PNG."),
        ({"max_side": 0}, "max_side must be at least 1 pixel"),
        ({"quality": 101}, "quality must be between 1 and 100"),
    ],
)
def test_thumbnail_options_are_checked(params: dict[str, object], complaint: str) -> None:
    data = encode(Image.new("RGB", (10, 10)), "PNG")

    with pytest.raises(InvalidInput) as caught:
        make_thumbnail(data, **params)  # type: ignore[arg-type]

    assert caught.value.message.startswith(complaint)
