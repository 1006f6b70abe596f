"""Estimates: hand-computed prices for every operation, credits rounded once, bad combos named."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from imagestudio.catalog import get_catalog
from imagestudio.catalog.pricing import Estimate, estimate, parse_estimate_request
from imagestudio.errors import InvalidInput


def est(**body: Any) -> Estimate:
    return estimate(body)


def money(e: Estimate) -> tuple[str, str, int]:
    return e.model, str(e.usd.normalize()), e.credits


# --- generate / create -------------------------------------------------------------------------


def test_three_premium_variations_of_ideogram() -> None:
    e = est(operation="generate", quality="premium", num_variations=3)
    assert (e.provider, e.model, e.usd, e.credits) == ("wavespeed", "ideogram-v3-turbo", Decimal("0.30"), 30)
    assert [(li.quantity, li.unit, li.unit_usd) for li in e.breakdown] == [(3, "image", Decimal("0.10"))]


def test_create_alias_and_num_images_alias() -> None:
    e = est(operation="create", quality="standard", num_images=4)
    assert money(e) == ("qwen-image", "0.2", 20)
    assert e.details["num_variations"] == 4


def test_credits_are_rounded_once_on_the_total() -> None:
    # SD3.5 Large is US$0.065 (6.5 credits): 3 images = US$0.195 -> 20 credits, not 3 x 7 = 21.
    e = est(operation="generate", model="sd3", num_variations=3)
    assert money(e) == ("sd3.5-large", "0.195", 20)


@pytest.mark.parametrize(
    ("body", "model", "usd", "credits"),
    [
        ({"quality": "draft"}, "qwen-image", "0.05", 5),
        ({"quality": "standard", "provider": "stability"}, "stable-image-core", "0.03", 3),
        ({"quality": "premium", "provider": "stability"}, "stable-image-ultra", "0.08", 8),
        ({"quality": "draft", "provider": "huggingface"}, "flux-krea-dev", "0", 0),
        ({"template_id": "youtube_thumbnail", "num_variations": 2}, "ideogram-v3-turbo", "0.2", 20),
        ({"model": "imagen"}, "imagen-4", "0", 0),
        ({"provider": "stability"}, "stable-image-core", "0.03", 3),
        ({}, "qwen-image", "0.05", 5),
    ],
)
def test_generation_model_resolution_and_price(
    body: dict[str, Any], model: str, usd: str, credits: int
) -> None:
    assert money(est(operation="generate", **body)) == (model, usd, credits)


def test_explicit_quality_wins_over_the_templates() -> None:
    e = est(operation="generate", template_id="instagram_feed_square", quality="draft")
    assert e.model == "qwen-image"
    assert e.details["chosen_by"] == "quality"


def test_template_with_another_provider_uses_that_providers_model() -> None:
    assert (
        est(operation="generate", template_id="blog_header", provider="stability").model
        == "stable-image-core"
    )


def test_generation_errors_name_the_valid_values() -> None:
    with pytest.raises(InvalidInput) as err:
        est(operation="generate", model="dall-e-3")
    assert err.value.status == 422 and "ideogram-v3-turbo" in err.value.message
    with pytest.raises(InvalidInput, match="cannot do text-to-image"):
        est(operation="generate", model="qwen-edit")
    with pytest.raises(InvalidInput, match="wavespeed model, not stability"):
        est(operation="generate", model="ideogram-v3-turbo", provider="stability")
    with pytest.raises(InvalidInput, match="Quality 'draft' has no stability model") as err:
        est(operation="generate", quality="draft", provider="stability")
    assert err.value.details["valid_choices"] == ["qwen-image", "flux-krea-dev"]
    with pytest.raises(InvalidInput, match="Valid provider values: gemini, huggingface, local, stability"):
        est(operation="generate", provider="openai")
    with pytest.raises(InvalidInput, match="instagram_story"):
        est(operation="generate", template_id="instagram-story")


def test_variations_are_limited_to_1_to_10() -> None:
    with pytest.raises(ValidationError):
        est(operation="generate", num_variations=11)
    with pytest.raises(ValidationError):
        est(operation="generate", num_variations=0)


# --- edit --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "model", "usd", "credits", "runs_async"),
    [
        ({"edit_operation": "general_edit"}, "qwen-edit", "0.02", 2, False),
        (
            {"edit_operation": "general_edit", "model": "hidream-e1-full"},
            "hidream-e1-full",
            "0.024",
            3,
            False,
        ),
        ({"edit_operation": "remove_background"}, "stability-remove-background", "0.05", 5, False),
        ({"edit_operation": "inpaint"}, "stability-inpaint", "0.05", 5, False),
        (
            {"edit_operation": "inpaint", "model": "z-image-turbo-inpaint"},
            "z-image-turbo-inpaint",
            "0.02",
            2,
            False,
        ),
        ({"edit_operation": "outpaint"}, "stability-outpaint", "0.04", 4, False),
        ({"edit_operation": "search_replace"}, "stability-search-and-replace", "0.05", 5, False),
        ({"edit_operation": "search_recolor"}, "stability-search-and-recolor", "0.05", 5, False),
        ({"edit_operation": "relight"}, "stability-relight", "0.08", 8, True),
        (
            {"edit_operation": "general_edit", "model": "nano-banana-pro-edit-ultra"},
            "nano-banana-pro-edit-ultra",
            "0.18",
            18,
            False,
        ),
        (
            {"edit_operation": "general_edit", "model": "nano-banana-pro-edit-ultra", "variant": "4k"},
            "nano-banana-pro-edit-ultra",
            "0.15",
            15,
            False,
        ),
        (
            {"edit_operation": "general_edit", "model": "gpt-image-1", "variant": "low"},
            "gpt-image-1",
            "0.011",
            2,
            False,
        ),
    ],
)
def test_edit_prices(body: dict[str, Any], model: str, usd: str, credits: int, runs_async: bool) -> None:
    e = est(operation="edit", **body)
    assert money(e) == (model, usd, credits)
    assert e.runs_async is runs_async


def test_edit_with_a_model_that_cannot_do_the_operation_names_those_that_can() -> None:
    with pytest.raises(InvalidInput) as err:
        est(operation="edit", edit_operation="inpaint", model="qwen-edit")
    assert set(err.value.details["valid_choices"]) == {"z-image-turbo-inpaint", "stability-inpaint"}


def test_edit_variant_errors() -> None:
    with pytest.raises(InvalidInput, match="Valid variant values: 4k, 8k"):
        est(operation="edit", edit_operation="general_edit", model="nano-banana-pro-edit-ultra", variant="2k")
    with pytest.raises(InvalidInput, match="single price"):
        est(operation="edit", edit_operation="general_edit", model="qwen-edit", variant="4k")


def test_edit_of_a_big_image_moves_to_the_cheapest_model_that_accepts_it() -> None:
    e = est(operation="edit", edit_operation="general_edit", width=3000, height=2000)
    assert money(e) == ("seedream-v4.5-edit", "0.04", 4)
    assert "qwen-edit cannot take 3000x2000" in e.notes[0]
    with pytest.raises(InvalidInput, match="cannot take a 3000x2000 image"):
        est(operation="edit", edit_operation="general_edit", model="qwen-edit", width=3000, height=2000)
    with pytest.raises(InvalidInput, match="No general_edit model accepts a 9000x9000 image"):
        est(operation="edit", edit_operation="general_edit", width=9000, height=9000)


def test_unknown_edit_operation_is_a_validation_error_naming_them() -> None:
    with pytest.raises(ValidationError, match="general_edit"):
        est(operation="edit", edit_operation="blur")


# --- upscale -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "mode", "usd", "credits"),
    [
        ({"mode": "fast"}, "fast", "0.02", 2),
        ({"mode": "conservative"}, "conservative", "0.4", 40),
        ({"mode": "creative"}, "creative", "0.6", 60),
        ({}, "fast", "0.02", 2),
        ({"preset": "print"}, "conservative", "0.4", 40),
        ({"preset": "web"}, "fast", "0.02", 2),
        ({"preset": "social"}, "fast", "0.02", 2),
        ({"target_long_side": 2999}, "fast", "0.02", 2),
        ({"target_long_side": 3000}, "conservative", "0.4", 40),
        ({"preset": "web", "target_long_side": 4096}, "conservative", "0.4", 40),
    ],
)
def test_upscale_modes_and_auto(body: dict[str, Any], mode: str, usd: str, credits: int) -> None:
    e = est(operation="upscale", **body)
    assert (e.details["mode"], str(e.usd.normalize()), e.credits) == (mode, usd, credits)


def test_creative_upscale_runs_as_a_job() -> None:
    assert est(operation="upscale", mode="creative").runs_async
    assert not est(operation="upscale", mode="conservative").runs_async


def test_upscale_input_limits() -> None:
    e = est(operation="upscale", width=2000, height=2000)  # too big for fast (1536 px, 1 MP)
    assert e.details["mode"] == "conservative"
    with pytest.raises(InvalidInput, match="fast upscale cannot take a 2000x2000 image") as err:
        est(operation="upscale", mode="fast", width=2000, height=2000)
    assert err.value.details["valid_choices"] == ["conservative"]
    with pytest.raises(InvalidInput, match="Valid preset values: print, social, web"):
        est(operation="upscale", preset="poster")


# --- control -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "credits"), [("sketch", 5), ("structure", 5), ("style", 5), ("style_transfer", 8)]
)
def test_control_prices(op: str, credits: int) -> None:
    e = est(operation="control", control_operation=op)
    assert (e.provider, e.credits, e.usd) == ("stability", credits, Decimal(credits) / 100)


# --- image-to-video ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "usd", "credits"),
    [
        ({"resolution": "720p", "duration": 10}, "1", 100),
        ({"resolution": "480p", "duration": 5}, "0.25", 25),
        ({"resolution": "1080p", "duration": 10}, "1.5", 150),
        ({}, "0.5", 50),
    ],
)
def test_wan_video_prices(body: dict[str, Any], usd: str, credits: int) -> None:
    e = est(operation="image-to-video", **body)
    assert money(e) == ("wan-2.5-image-to-video", usd, credits)
    assert e.runs_async


def test_video_duration_must_be_5_or_10() -> None:
    with pytest.raises(InvalidInput, match="5 s, 10 s") as err:
        est(operation="image-to-video", duration=7)
    assert err.value.details["valid_choices"] == [5, 10]


# --- talking avatar ----------------------------------------------------------------------------


def test_infinitetalk_bills_5_seconds_minimum() -> None:
    e = est(operation="talking-avatar", resolution="480p", duration_seconds=3)
    assert money(e) == ("infinitetalk", "0.15", 15)
    assert e.details["billed_seconds"] == 5


def test_infinitetalk_bills_started_seconds() -> None:
    e = est(operation="talking-avatar", resolution="720p", duration_seconds=61.2)
    assert money(e) == ("infinitetalk", "3.72", 372)  # 62 s x US$0.06


def test_hunyuan_bills_5_second_blocks() -> None:
    e = est(operation="talking-avatar", model="hunyuan-avatar", resolution="720p", duration_seconds=12)
    assert money(e) == ("hunyuan-avatar", "0.9", 90)
    assert (e.breakdown[0].quantity, e.breakdown[0].unit) == (3, "5-second block")
    short = est(operation="talking-avatar", model="hunyuan-avatar", resolution="480p", duration_seconds=2)
    assert money(short) == ("hunyuan-avatar", "0.15", 15)
    longest = est(operation="talking-avatar", model="hunyuan-avatar", resolution="720p", duration_seconds=120)
    assert money(longest) == ("hunyuan-avatar", "7.2", 720)


def test_avatar_limits() -> None:
    with pytest.raises(InvalidInput, match="5-120 s of audio"):
        est(operation="talking-avatar", model="hunyuan-avatar", duration_seconds=121)
    with pytest.raises(InvalidInput, match="at most 600 s"):
        est(operation="talking-avatar", duration_seconds=601)
    with pytest.raises(InvalidInput, match="Resolutions: 480p, 720p"):
        est(operation="talking-avatar", resolution="1080p", duration_seconds=10)
    with pytest.raises(InvalidInput, match="cannot do talking-avatar"):
        est(operation="talking-avatar", model="wan", duration_seconds=10)


# --- image-to-3d -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "expected", "usd", "credits"),
    [
        (None, "stable-fast-3d", "0.1", 10),
        ("spar3d", "spar3d", "0.04", 4),
        ("hunyuan3d-v3", "hunyuan3d-v3", "0.25", 25),
        ("tripo3d-v2.5", "tripo3d-v2.5", "0.3", 30),
        ("sam-3d-objects", "sam-3d-objects", "0.02", 2),
    ],
)
def test_3d_prices(model: str | None, expected: str, usd: str, credits: int) -> None:
    assert money(est(operation="image-to-3d", model=model)) == (expected, usd, credits)


# --- every model and the wire format -----------------------------------------------------------


def test_every_priced_model_can_be_estimated() -> None:
    cat = get_catalog()
    bodies: list[dict[str, Any]] = []
    for m in cat.models("text-to-image"):
        bodies.append({"operation": "generate", "model": m.id})
    for m in cat.models("edit"):
        for op in m.edit_operations:
            bodies.append({"operation": "edit", "edit_operation": op, "model": m.id})
    for m in cat.models("image-to-video"):
        bodies.append({"operation": "image-to-video", "model": m.id})
    for m in cat.models("talking-avatar"):
        bodies.append({"operation": "talking-avatar", "model": m.id, "duration_seconds": 30})
    for m in cat.models("image-to-3d"):
        bodies.append({"operation": "image-to-3d", "model": m.id})
    for body in bodies:
        e = estimate(body)
        assert e.usd == sum(li.usd for li in e.breakdown)
        assert e.credits == math.ceil(e.usd * 100)


def test_money_is_serialized_as_decimal_strings() -> None:
    body = json.loads(est(operation="generate", model="sd3").model_dump_json())
    assert body["usd"] == "0.065" and body["credits"] == 7
    assert body["breakdown"][0]["unit_usd"] == "0.065"
    assert json.loads(est(operation="generate", quality="premium").model_dump_json())["usd"] == "0.10"


def test_unknown_operation_names_the_valid_ones() -> None:
    with pytest.raises(ValidationError, match="'generate', 'create', 'edit', 'upscale', 'control'"):
        parse_estimate_request({"operation": "teleport"})
