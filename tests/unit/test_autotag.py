"""auto_tags: the tags every new asset gets without an AI provider, as a user searching sees them.

No timing assertions here: tagging a 2 MP picture takes a few milliseconds.
"""

from __future__ import annotations

import io
import logging

import pytest
from PIL import Image

from imagestudio.imaging.autotag import (
    MAX_TAGS,
    LocalTagger,
    TagContext,
    auto_tags,
    dominant_colours,
    prompt_keywords,
)


def ctx(width: int | None = 1024, height: int | None = 1024, **fields: object) -> TagContext:
    values: dict[str, object] = {"mime": "image/png", "width": width, "height": height, "bytes": 1000}
    values.update(fields)
    return TagContext(**values)  # type: ignore[arg-type]


def solid(colour: tuple[int, ...], size: tuple[int, int] = (200, 200), mode: str = "RGB") -> Image.Image:
    return Image.new(mode, size, colour)


def colour_names(image: Image.Image) -> list[str]:
    return [name for name, _share in dominant_colours(image)]


# ---------------------------------------------------------------------------------------------------------
# The whole picture


def test_a_solid_red_instagram_portrait_png() -> None:
    image = solid((255, 0, 0), (1080, 1350))
    tags = auto_tags(image, ctx(1080, 1350))
    for tag in ("red", "portrait", "ratio-4x5", "medium", "png", "image"):
        assert tag in tags
    assert not {"blue", "white", "landscape", "square", "large"} & set(tags)


def test_a_generated_asset_from_a_prompt_and_a_template() -> None:
    image = solid((255, 0, 0), (1080, 1350))
    context = ctx(
        1080,
        1350,
        operation="create",
        source="generated",
        prompt="A high quality photo of red sneakers on the beach, 8k, ultra detailed",
        template_id="instagram_feed_portrait",
    )
    tags = auto_tags(image, context)
    assert tags == sorted(
        [
            "beach",
            "create",
            "generated",
            "image",
            "instagram",
            "instagram-feed-portrait",
            "medium",
            "png",
            "portrait",
            "ratio-4x5",
            "red",
            "sneaker",
        ]
    )


def test_the_callers_image_is_left_alone() -> None:
    image = solid((0, 0, 255), (4096, 4096))
    before = image.tobytes()
    auto_tags(image, ctx(4096, 4096))
    assert image.size == (4096, 4096)
    assert image.mode == "RGB"
    assert image.tobytes() == before


def test_a_lazily_opened_file_is_tagged() -> None:
    buffer = io.BytesIO()
    solid((0, 128, 0), (640, 480)).save(buffer, "PNG")
    image = Image.open(io.BytesIO(buffer.getvalue()))
    tags = auto_tags(image, ctx(640, 480))
    assert {"green", "landscape", "ratio-4x3", "medium", "png"} <= set(tags)


def test_dimensions_come_from_the_picture_when_the_context_has_none() -> None:
    tags = auto_tags(solid((255, 255, 255), (1920, 1080)), ctx(None, None))
    assert {"landscape", "ratio-16x9", "large"} <= set(tags)


# ---------------------------------------------------------------------------------------------------------
# Colours


@pytest.mark.parametrize(
    ("colour", "name"),
    [
        ((255, 0, 0), "red"),
        ((0, 0, 255), "blue"),
        ((255, 255, 255), "white"),
        ((12, 12, 12), "black"),
        ((0, 0, 0), "black"),
        ((128, 128, 128), "gray"),
        ((255, 165, 0), "orange"),
        ((255, 192, 203), "pink"),
        ((0, 128, 0), "green"),
        ((0, 0, 128), "navy"),
        ((245, 245, 220), "beige"),
        ((139, 69, 19), "brown"),
        ((255, 255, 0), "yellow"),
        ((0, 128, 128), "teal"),
        ((128, 0, 128), "purple"),
    ],
)
def test_each_named_colour(colour: tuple[int, int, int], name: str) -> None:
    assert dominant_colours(solid(colour)) == [(name, 1.0)]
    assert name in auto_tags(solid(colour), ctx(200, 200))


@pytest.mark.parametrize(
    ("colour", "name"),
    [
        ((30, 144, 255), "blue"),  # dodger blue
        ((135, 206, 235), "blue"),  # sky blue
        ((220, 20, 60), "red"),  # crimson
        ((255, 215, 0), "yellow"),  # gold
        ((64, 224, 208), "teal"),  # turquoise
        ((210, 180, 140), "beige"),  # tan
        ((34, 139, 34), "green"),  # forest green
        ((75, 0, 130), "purple"),  # indigo
        ((255, 105, 180), "pink"),  # hot pink
        ((211, 211, 211), "gray"),  # light grey
    ],
)
def test_shades_take_the_name_a_marketer_would_search(colour: tuple[int, int, int], name: str) -> None:
    assert colour_names(solid(colour)) == [name]


def test_half_blue_half_white_has_both() -> None:
    image = solid((255, 255, 255), (800, 600))
    image.paste((0, 0, 255), (0, 0, 400, 600))
    colours = dict(dominant_colours(image))
    assert set(colours) >= {"blue", "white"}
    assert colours["blue"] == pytest.approx(0.5, abs=0.05)
    assert colours["white"] == pytest.approx(0.5, abs=0.05)
    tags = auto_tags(image, ctx(800, 600))
    assert {"blue", "white"} <= set(tags)


def test_a_huge_picture_is_sampled_to_the_same_colours() -> None:
    image = solid((0, 0, 0, 0), (4000, 3000), "RGBA")  # 12 MP, a quarter of it transparent
    image.paste((0, 0, 128, 255), (1000, 0, 2500, 3000))
    image.paste((255, 165, 0, 255), (2500, 0, 4000, 3000))
    colours = dict(dominant_colours(image))
    assert set(colours) == {"navy", "orange"}
    assert colours["navy"] == pytest.approx(0.5, abs=0.03)
    assert {"navy", "orange", "landscape", "ratio-4x3", "xlarge"} <= set(auto_tags(image, ctx(4000, 3000)))


def test_largest_colour_first_and_minor_colours_are_no_tags() -> None:
    image = solid((255, 0, 0), (1000, 1000))
    image.paste((0, 0, 255), (0, 0, 1000, 300))  # 30 % blue
    image.paste((255, 255, 0), (0, 900, 1000, 1000))  # 10 % yellow
    colours = dominant_colours(image)
    assert [name for name, _share in colours] == ["red", "blue", "yellow"]
    assert colours[0][1] == pytest.approx(0.6, abs=0.03)
    tags = auto_tags(image, ctx(1000, 1000))
    assert {"red", "blue"} <= set(tags)
    assert "yellow" not in tags


def test_at_most_three_colour_tags() -> None:
    image = solid((255, 0, 0), (1000, 1000))
    for i, colour in enumerate([(0, 0, 255), (255, 255, 0), (0, 128, 0), (255, 255, 255)]):
        image.paste(colour, (0, 200 * (i + 1), 1000, 200 * (i + 2)))
    names = {"red", "blue", "yellow", "green", "white"}
    assert len(names & set(auto_tags(image, ctx(1000, 1000)))) == 3
    assert len(dominant_colours(image, count=5)) == 5


def test_transparent_pixels_are_ignored() -> None:
    image = solid((0, 0, 255, 0), (400, 400), "RGBA")  # invisible blue
    image.paste((255, 0, 0, 255), (0, 0, 100, 400))  # a visible red quarter
    assert dominant_colours(image) == [("red", 1.0)]
    tags = auto_tags(image, ctx(400, 400))
    assert "red" in tags
    assert "blue" not in tags


def test_a_fully_transparent_picture_has_no_colours() -> None:
    image = solid((0, 0, 0, 0), (300, 300), "RGBA")
    assert dominant_colours(image) == []
    tags = auto_tags(image, ctx(300, 300))
    assert "black" not in tags
    assert "square" in tags


def test_a_transparent_palette_colour_is_ignored() -> None:
    image = Image.new("P", (300, 300), 0)
    image.putpalette([0, 0, 255, 255, 0, 0] + [0] * 762)
    image.paste(1, (0, 0, 150, 300))
    image.info["transparency"] = 0
    assert colour_names(image) == ["red"]


@pytest.mark.parametrize(
    ("mode", "value", "name"),
    [
        ("L", 255, "white"),
        ("L", 128, "gray"),
        ("LA", (0, 255), "black"),
        ("1", 1, "white"),
        ("CMYK", (0, 0, 0, 255), "black"),
        ("CMYK", (255, 0, 0, 0), "teal"),  # cyan ink
        ("I;16", 65535, "white"),
        ("I", 32768, "gray"),
    ],
)
def test_other_modes(mode: str, value: object, name: str) -> None:
    assert colour_names(Image.new(mode, (120, 80), value)) == [name]  # type: ignore[arg-type]


def test_a_tiny_picture() -> None:
    assert dominant_colours(solid((255, 0, 0), (1, 1))) == [("red", 1.0)]
    assert {"red", "square", "small"} <= set(auto_tags(solid((255, 0, 0), (1, 1)), ctx(1, 1)))


def test_no_colours_asked() -> None:
    assert dominant_colours(solid((255, 0, 0)), count=0) == []


# ---------------------------------------------------------------------------------------------------------
# Shape and size


@pytest.mark.parametrize(
    ("size", "shape"),
    [
        ((1000, 1000), "square"),
        ((1000, 1019), "square"),  # within 2 %
        ((1019, 1000), "square"),
        ((1000, 1021), "portrait"),
        ((1025, 1000), "landscape"),
        ((1080, 1920), "portrait"),
        ((1920, 1080), "landscape"),
    ],
)
def test_orientation(size: tuple[int, int], shape: str) -> None:
    tags = auto_tags(None, ctx(*size))
    assert shape in tags
    assert len({"square", "portrait", "landscape"} & set(tags)) == 1


@pytest.mark.parametrize(
    ("size", "ratio"),
    [
        ((1080, 1080), "ratio-1x1"),
        ((1080, 1350), "ratio-4x5"),
        ((1350, 1080), "ratio-5x4"),
        ((1000, 1500), "ratio-2x3"),
        ((1500, 1000), "ratio-3x2"),
        ((768, 1024), "ratio-3x4"),
        ((1024, 768), "ratio-4x3"),
        ((1080, 1920), "ratio-9x16"),
        ((1920, 1080), "ratio-16x9"),
        ((2560, 1080), "ratio-21x9"),  # 2.37: 1.6 % from 21:9
        ((1200, 628), "ratio-1.91x1"),
        ((1000, 1011), "ratio-1x1"),  # close enough
        ((1000, 700), None),  # 1.43: between 4:3 and 3:2, near neither
        ((3000, 1000), None),  # 3:1 is no common ratio
    ],
)
def test_aspect_ratio(size: tuple[int, int], ratio: str | None) -> None:
    ratios = [tag for tag in auto_tags(None, ctx(*size)) if tag.startswith("ratio-")]
    assert ratios == ([ratio] if ratio else [])


@pytest.mark.parametrize(
    ("long_side", "size_class"),
    [
        (100, "small"),
        (511, "small"),
        (512, "medium"),
        (1535, "medium"),
        (1536, "large"),
        (2999, "large"),
        (3000, "xlarge"),
        (8192, "xlarge"),
    ],
)
def test_size_class_by_the_long_side(long_side: int, size_class: str) -> None:
    classes = {"small", "medium", "large", "xlarge"}
    assert classes & set(auto_tags(None, ctx(long_side, 10))) == {size_class}
    assert classes & set(auto_tags(None, ctx(10, long_side))) == {size_class}


def test_no_dimensions_no_shape_tags() -> None:
    tags = auto_tags(None, ctx(None, None, mime="model/gltf-binary", asset_type="model3d"))
    assert tags == ["glb", "model3d"]


# ---------------------------------------------------------------------------------------------------------
# Format, type, origin, template, duration


@pytest.mark.parametrize(
    ("mime", "fmt"),
    [
        ("image/png", "png"),
        ("image/jpeg", "jpeg"),
        ("image/webp", "webp"),
        ("image/gif", "gif"),
        ("video/mp4", "mp4"),
        ("video/webm", "webm"),
        ("model/gltf-binary", "glb"),
        ("audio/wav", "wav"),
        ("audio/x-wav", "wav"),
        ("audio/mpeg", "mp3"),
        ("IMAGE/PNG; charset=binary", "png"),
        ("image/avif", "avif"),
        ("audio/x-flac", "flac"),
        ("image/svg+xml", "svg"),
    ],
)
def test_format_from_the_mime_type(mime: str, fmt: str) -> None:
    assert fmt in auto_tags(None, ctx(None, None, mime=mime))


def test_operation_and_source() -> None:
    tags = auto_tags(None, ctx(operation="image-to-video", source="generated", asset_type="video"))
    assert {"image-to-video", "generated", "video"} <= set(tags)
    same = auto_tags(None, ctx(operation="upload", source="upload"))
    assert same.count("upload") == 1


@pytest.mark.parametrize(
    ("template_id", "platform", "expected", "absent"),
    [
        ("instagram_feed_portrait", None, {"instagram-feed-portrait", "instagram"}, set()),
        ("tiktok_video", None, {"tiktok-video", "tiktok"}, set()),
        ("x_post", None, {"x-post", "x"}, set()),
        ("xmas_card", None, {"xmas-card"}, {"x"}),  # "x" only as a whole word
        ("instagram_story", "Instagram", {"instagram-story", "instagram"}, set()),
        ("story_vertical", "linkedin", {"story-vertical", "linkedin"}, set()),
        # the platform given wins over the template's
        ("pinterest_pin", "facebook", {"pinterest-pin", "facebook"}, {"pinterest"}),
        (None, "youtube", {"youtube"}, set()),
    ],
)
def test_template_and_platform(
    template_id: str | None, platform: str | None, expected: set[str], absent: set[str]
) -> None:
    tags = set(auto_tags(None, ctx(template_id=template_id, platform=platform)))
    assert expected <= tags
    assert not absent & tags


@pytest.mark.parametrize(
    ("asset_type", "seconds", "duration_class"),
    [
        ("video", 4.0, "short"),
        ("video", 9.99, "short"),
        ("video", 10.0, "medium-length"),
        ("audio", 59.9, "medium-length"),
        ("audio", 60.0, "long"),
        ("video", 600.0, "long"),
    ],
)
def test_duration_class(asset_type: str, seconds: float, duration_class: str) -> None:
    tags = auto_tags(None, ctx(None, None, mime="video/mp4", asset_type=asset_type, duration=seconds))
    assert duration_class in tags


def test_no_duration_class_for_images() -> None:
    tags = auto_tags(None, ctx(asset_type="image", duration=3.0))
    assert not {"short", "medium-length", "long"} & set(tags)


def test_audio_without_a_picture() -> None:
    context = TagContext(
        mime="audio/mpeg",
        width=None,
        height=None,
        bytes=480_000,
        asset_type="audio",
        operation="create",
        source="generated",
        duration=42.0,
        prompt="Upbeat jingle for a summer sale",
    )
    assert auto_tags(None, context) == sorted(
        ["audio", "create", "generated", "jingle", "medium-length", "mp3", "sale", "summer", "upbeat"]
    )


# ---------------------------------------------------------------------------------------------------------
# Prompt keywords


def test_prompt_keywords_drop_stop_words_and_filler() -> None:
    prompt = "A high quality photo of red sneakers on the beach, 8k, ultra detailed, realistic background"
    assert prompt_keywords(prompt) == ["red", "sneaker", "beach"]


def test_prompt_keywords_in_order_unique_and_limited() -> None:
    prompt = "Shoes, shoe, SHOES! Coffee mug, coffee beans, morning light, wooden table, plants, kitchen"
    assert prompt_keywords(prompt) == [
        "shoe",
        "coffee",
        "mug",
        "bean",
        "morning",
        "light",
        "wooden",
        "table",
    ]
    assert prompt_keywords(prompt, limit=3) == ["shoe", "coffee", "mug"]
    assert prompt_keywords(prompt, limit=0) == []


def test_prompt_keywords_plural_folding_is_naive_but_careful() -> None:
    words = prompt_keywords("dresses glass bus lens beaches boxes campus analysis cats", limit=20)
    assert words == ["dress", "glass", "bus", "lens", "beach", "box", "campus", "analysis", "cats"]


def test_prompt_keywords_unicode_letters_and_short_words() -> None:
    assert prompt_keywords("Café crème brûlée, ox, 3d render, zoë's") == ["café", "crème", "brûlée", "zoë"]
    assert prompt_keywords("") == []
    assert prompt_keywords("4k 8k hd uhd, a photo of the") == []


# ---------------------------------------------------------------------------------------------------------
# Merging with another tagger


class FailingTagger:
    def tags(self, image: Image.Image | None, ctx: TagContext) -> list[str]:
        raise RuntimeError("provider down")


class ChattyTagger:
    def __init__(self, tags: list[str]) -> None:
        self._tags = tags

    def tags(self, image: Image.Image | None, ctx: TagContext) -> list[str]:
        return self._tags


def test_a_failing_extra_tagger_does_not_lose_local_tags(caplog: pytest.LogCaptureFixture) -> None:
    image = solid((255, 0, 0), (1080, 1350))
    context = ctx(1080, 1350)
    with caplog.at_level(logging.ERROR, logger="imagestudio.imaging.autotag"):
        tags = auto_tags(image, context, tagger=FailingTagger())
    assert tags == auto_tags(image, context)
    assert "red" in tags
    assert "FailingTagger" in caplog.text


def test_an_extra_taggers_tags_are_merged_and_normalised() -> None:
    extra = ChattyTagger(["Sunset Beach", "RED", "  product_shot ", "", "x" * 200])
    tags = auto_tags(solid((255, 0, 0)), ctx(200, 200), tagger=extra)
    assert {"sunset-beach", "red", "product-shot", "square"} <= set(tags)
    assert tags.count("red") == 1
    assert "" not in tags
    assert all(len(tag) < 200 for tag in tags)


def test_result_is_sorted_unique_lower_case_and_at_most_30() -> None:
    extra = ChattyTagger([f"Extra Tag {i}" for i in range(60, 0, -1)] + ["Extra Tag 1"])
    context = ctx(
        1080,
        1350,
        operation="social",
        source="edited",
        template_id="instagram_feed_portrait",
        prompt="Lemonade stand summer market wooden sign bright sunshine happy kids",
    )
    tags = auto_tags(solid((255, 255, 0), (1080, 1350)), context, tagger=extra)
    assert len(tags) <= MAX_TAGS == 30
    assert tags == sorted(set(tags))
    assert all(tag == tag.lower() and " " not in tag for tag in tags)
    local = set(LocalTagger().tags(solid((255, 255, 0), (1080, 1350)), context))
    assert local <= set(tags)  # the local tags are kept when an extra tagger says too much
    assert {"yellow", "portrait", "ratio-4x5", "instagram", "lemonade"} <= local


def test_local_tagger_alone_is_sorted_after_auto_tags() -> None:
    image = solid((0, 0, 128), (1200, 628))
    local = LocalTagger().tags(image, ctx(1200, 628, mime="image/jpeg"))
    assert sorted(set(local)) == auto_tags(image, ctx(1200, 628, mime="image/jpeg"))
    assert {"navy", "landscape", "ratio-1.91x1", "medium", "jpeg"} <= set(local)
