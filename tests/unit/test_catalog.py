"""The catalog serves exactly the figures of the reference, with every conflict resolved once."""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from imagestudio.catalog import (
    CatalogIntegrityError,
    format_usd,
    get_catalog,
    load_catalog,
    parse_aspect_ratio,
    usd_to_credits,
)
from imagestudio.catalog.loader import read_data_files
from imagestudio.errors import InvalidInput, NotFound

REPO = Path(__file__).resolve().parents[2]
cat = get_catalog()

# id, platform, width, height, ratio label (as resolved), style, quality, category
TEMPLATES = [
    ("instagram_feed_square", "instagram", 1080, 1080, "1:1", "photographic", "premium", "social_media"),
    ("instagram_feed_portrait", "instagram", 1080, 1350, "4:5", "photographic", "premium", "social_media"),
    ("instagram_story", "instagram", 1080, 1920, "9:16", "digital-art", "standard", "social_media"),
    ("instagram_reel_cover", "instagram", 1080, 1920, "9:16", "cinematic", "premium", "social_media"),
    ("facebook_feed", "facebook", 1200, 630, "1.91:1", "photographic", "standard", "social_media"),
    ("facebook_feed_square", "facebook", 1080, 1080, "1:1", "photographic", "standard", "social_media"),
    ("facebook_story", "facebook", 1080, 1920, "9:16", "digital-art", "standard", "social_media"),
    ("facebook_cover", "facebook", 820, 312, "2.63:1", "photographic", "premium", "social_media"),
    ("twitter_post", "twitter", 1600, 900, "16:9", "photographic", "standard", "social_media"),
    ("twitter_card", "twitter", 1200, 600, "2:1", "digital-art", "standard", "social_media"),
    ("twitter_header", "twitter", 1500, 500, "3:1", "photographic", "premium", "social_media"),
    ("linkedin_post", "linkedin", 1200, 628, "1.91:1", "photographic", "premium", "social_media"),
    ("linkedin_post_square", "linkedin", 1080, 1080, "1:1", "photographic", "premium", "social_media"),
    ("linkedin_article", "linkedin", 1200, 627, "1.91:1", "photographic", "premium", "social_media"),
    ("linkedin_cover", "linkedin", 1128, 191, "5.9:1", "photographic", "premium", "social_media"),
    ("youtube_thumbnail", "youtube", 1280, 720, "16:9", "cinematic", "premium", "social_media"),
    ("youtube_channel_art", "youtube", 2560, 1440, "16:9", "photographic", "premium", "social_media"),
    ("pinterest_pin", "pinterest", 1000, 1500, "2:3", "photographic", "premium", "social_media"),
    ("pinterest_story", "pinterest", 1080, 1920, "9:16", "digital-art", "standard", "social_media"),
    ("tiktok_video_cover", "tiktok", 1080, 1920, "9:16", "cinematic", "premium", "social_media"),
    ("blog_header", "blog", 1920, 1080, "16:9", "photographic", "premium", "blog_content"),
    ("blog_header_wide", "blog", 2560, 1080, "21:9", "photographic", "premium", "blog_content"),
    ("email_banner", "email", 1920, 1080, "16:9", "photographic", "standard", "email_marketing"),
    ("email_product", "email", 1080, 1080, "1:1", "photographic", "premium", "email_marketing"),
    ("website_hero", "website", 2560, 1080, "21:9", "photographic", "premium", "brand_assets"),
    ("website_banner", "website", 1920, 1080, "16:9", "photographic", "premium", "brand_assets"),
]

# platform, format, width, height, ratio, (top, bottom, left, right), template
FORMATS = [
    ("instagram", "Feed Post (Square)", 1080, 1080, "1:1", (0.15, 0.15, 0.10, 0.10), "instagram_feed_square"),
    (
        "instagram",
        "Feed Post (Portrait)",
        1080,
        1350,
        "4:5",
        (0.20, 0.20, 0.10, 0.10),
        "instagram_feed_portrait",
    ),
    ("instagram", "Story", 1080, 1920, "9:16", (0.25, 0.15, 0.10, 0.10), "instagram_story"),
    ("instagram", "Reel", 1080, 1920, "9:16", (0.25, 0.15, 0.10, 0.10), "instagram_reel_cover"),
    ("facebook", "Feed Post", 1200, 630, "1.91:1", (0.15, 0.15, 0.10, 0.10), "facebook_feed"),
    ("facebook", "Feed Post (Square)", 1080, 1080, "1:1", (0.15, 0.15, 0.10, 0.10), "facebook_feed_square"),
    ("facebook", "Story", 1080, 1920, "9:16", (0.25, 0.15, 0.10, 0.10), "facebook_story"),
    ("facebook", "Cover Photo", 820, 312, "2.63:1", (0.20, 0.10, 0.15, 0.15), "facebook_cover"),
    ("twitter", "Post", 1600, 900, "16:9", (0.15, 0.15, 0.10, 0.10), "twitter_post"),
    ("twitter", "Card", 1200, 600, "2:1", (0.15, 0.15, 0.10, 0.10), "twitter_card"),
    ("twitter", "Header", 1500, 500, "3:1", (0.20, 0.10, 0.15, 0.15), "twitter_header"),
    ("linkedin", "Feed Post", 1200, 628, "1.91:1", (0.15, 0.15, 0.10, 0.10), "linkedin_post"),
    ("linkedin", "Feed Post (Square)", 1080, 1080, "1:1", (0.15, 0.15, 0.10, 0.10), "linkedin_post_square"),
    ("linkedin", "Article", 1200, 627, "1.91:1", (0.15, 0.15, 0.10, 0.10), "linkedin_article"),
    ("linkedin", "Company Cover", 1128, 191, "5.9:1", (0.20, 0.10, 0.15, 0.15), "linkedin_cover"),
    ("youtube", "Thumbnail", 1280, 720, "16:9", (0.15, 0.15, 0.10, 0.10), "youtube_thumbnail"),
    ("youtube", "Channel Art", 2560, 1440, "16:9", (0.20, 0.10, 0.15, 0.15), "youtube_channel_art"),
    ("pinterest", "Pin", 1000, 1500, "2:3", (0.20, 0.20, 0.10, 0.10), "pinterest_pin"),
    ("pinterest", "Story Pin", 1080, 1920, "9:16", (0.25, 0.15, 0.10, 0.10), "pinterest_story"),
    ("tiktok", "Video Cover", 1080, 1920, "9:16", (0.25, 0.15, 0.10, 0.10), "tiktok_video_cover"),
    ("blog", "Header", 1920, 1080, "16:9", (0.10, 0.10, 0.10, 0.10), "blog_header"),
    ("blog", "Header (Wide)", 2560, 1080, "21:9", (0.10, 0.10, 0.15, 0.15), "blog_header_wide"),
    ("email", "Banner", 1920, 1080, "16:9", (0.10, 0.10, 0.10, 0.10), "email_banner"),
    ("email", "Product Image", 1080, 1080, "1:1", (0.10, 0.10, 0.10, 0.10), "email_product"),
    ("website", "Hero Image", 2560, 1080, "21:9", (0.15, 0.10, 0.20, 0.20), "website_hero"),
    ("website", "Banner", 1920, 1080, "16:9", (0.10, 0.10, 0.15, 0.15), "website_banner"),
]


# --- templates ---------------------------------------------------------------------------------


def test_there_are_26_templates_with_the_documented_per_platform_counts() -> None:
    counts: dict[str, int] = {}
    for t in cat.templates():
        counts[t.platform] = counts.get(t.platform, 0) + 1
    assert len(cat.templates()) == 26
    assert counts == {
        "instagram": 4,
        "facebook": 4,
        "twitter": 3,
        "linkedin": 4,
        "youtube": 2,
        "pinterest": 2,
        "tiktok": 1,
        "blog": 2,
        "email": 2,
        "website": 2,
    }


@pytest.mark.parametrize(("tid", "platform", "w", "h", "ratio", "style", "quality", "category"), TEMPLATES)
def test_template_figures(
    tid: str, platform: str, w: int, h: int, ratio: str, style: str, quality: str, category: str
) -> None:
    t = cat.template(tid)
    assert (t.platform, t.width, t.height, t.aspect_ratio) == (platform, w, h, ratio)
    assert (t.style_preset, t.quality, t.category) == (style, quality, category)


def test_every_template_recommends_ideogram_on_wavespeed_and_has_searchable_text() -> None:
    for t in cat.templates():
        assert (t.recommended_provider, t.recommended_model) == ("wavespeed", "ideogram-v3-turbo")
        assert len(t.description) > 20
        assert len(t.use_cases) >= 3


def test_template_order_and_ids_match_the_reference() -> None:
    assert [t.id for t in cat.templates()] == [row[0] for row in TEMPLATES]


def test_filters_by_platform_and_category() -> None:
    assert [t.id for t in cat.templates(platform="email")] == ["email_banner", "email_product"]
    assert {t.id for t in cat.templates(category="brand_assets")} == {"website_hero", "website_banner"}
    assert cat.templates(platform="linkedin", category="blog_content") == []
    assert cat.templates(category="ad_creative") == []  # a valid category without templates


def test_conflicts_are_resolved_identically_for_template_and_format() -> None:
    post = cat.template("twitter_post")
    fmt = next(f for f in cat.platform("twitter").formats if f.name == "Post")
    assert (post.width, post.height) == (fmt.width, fmt.height) == (1600, 900)
    art = cat.template("youtube_channel_art")
    fmt = next(f for f in cat.platform("youtube").formats if f.name == "Channel Art")
    assert (art.width, art.height) == (fmt.width, fmt.height) == (2560, 1440)


@pytest.mark.parametrize("tid", [row[0] for row in TEMPLATES])
def test_ratio_labels_are_true_to_the_size(tid: str) -> None:
    t = cat.template(tid)
    assert parse_aspect_ratio(t.aspect_ratio) == pytest.approx(t.width / t.height, rel=0.02)


# --- platforms, formats, safe zones ------------------------------------------------------------


@pytest.mark.parametrize(("platform", "name", "w", "h", "ratio", "zone", "template_id"), FORMATS)
def test_social_formats_and_safe_zones(
    platform: str, name: str, w: int, h: int, ratio: str, zone: tuple[float, ...], template_id: str
) -> None:
    fmt = next(f for f in cat.platform(platform).formats if f.name == name)
    assert (fmt.width, fmt.height, fmt.aspect_ratio, fmt.template_id) == (w, h, ratio, template_id)
    sz = fmt.safe_zone
    assert (sz.top, sz.bottom, sz.left, sz.right) == zone


def test_every_platform_has_formats_and_the_catalog_has_no_others() -> None:
    listed = {(p, n) for p, n, *_ in FORMATS}
    served = {(p.name, f.name) for p in cat.platforms() for f in p.formats}
    assert served == listed
    assert len(cat.platforms()) == 10


def test_safe_zone_box_in_pixels() -> None:
    story = cat.platform("instagram").formats[2]
    assert story.safe_zone.box(1080, 1920) == (108, 480, 972, 1632)


@pytest.mark.parametrize(
    ("platform", "mb", "types", "source"),
    [
        ("instagram", 30, ["jpg", "png"], "platform"),
        ("facebook", 30, ["jpg", "png"], "platform"),
        ("twitter", 5, ["jpg", "png", "gif"], "platform"),
        ("linkedin", 8, ["jpg", "png"], "platform"),
        ("youtube", 2, ["jpg", "png"], "platform"),
        ("pinterest", 20, ["jpg", "png"], "platform"),
        ("tiktok", 10, ["jpg", "png"], "platform"),
        ("blog", 10, ["jpg", "png", "webp"], "studio"),
        ("email", 1, ["jpg", "png", "gif"], "studio"),
        ("website", 10, ["jpg", "png", "webp"], "studio"),
    ],
)
def test_platform_specs(platform: str, mb: int, types: list[str], source: str) -> None:
    specs = cat.platform(platform).specs
    assert (specs.max_upload_mb, specs.file_types, specs.source) == (mb, types, source)


def test_platform_aliases_and_case() -> None:
    assert cat.platform("x").name == "twitter"
    assert cat.platform("Instagram").name == "instagram"


# --- providers and models ----------------------------------------------------------------------


def test_five_providers_and_the_offline_one_is_free() -> None:
    assert [p.name for p in cat.providers()] == ["stability", "wavespeed", "huggingface", "gemini", "local"]
    local = cat.provider("local")
    assert local.offline and local.free_tier
    model = cat.model("local-pillow")
    assert model.typical_usd() == 0
    assert set(model.capabilities) == {
        "text-to-image",
        "edit",
        "upscale",
        "control",
        "image-to-video",
        "talking-avatar",
        "image-to-3d",
    }


@pytest.mark.parametrize(
    ("model_id", "provider", "usd"),
    [
        ("stable-image-ultra", "stability", "0.08"),
        ("stable-image-core", "stability", "0.03"),
        ("sd3.5-large", "stability", "0.065"),
        ("ideogram-v3-turbo", "wavespeed", "0.10"),
        ("qwen-image", "wavespeed", "0.05"),
        ("flux-krea-dev", "huggingface", "0"),
        ("imagen-4", "gemini", "0"),
    ],
)
def test_generation_prices_are_the_estimate_endpoints_list(model_id: str, provider: str, usd: str) -> None:
    model = cat.model(model_id, capability="text-to-image")
    assert model.provider == provider
    assert model.typical_usd() == Decimal(usd)


def test_wavespeed_generation_models_have_the_original_paths_and_steps() -> None:
    ideogram = cat.model("ideogram-v3-turbo")
    assert (ideogram.endpoint, ideogram.defaults["steps"], ideogram.max_side) == (
        "ideogram-ai/ideogram-v3-turbo",
        20,
        1024,
    )
    qwen = cat.model("qwen-image")
    assert (qwen.endpoint, qwen.defaults["steps"]) == ("wavespeed-ai/qwen-image/text-to-image", 15)
    kontext = cat.model("flux-kontext-pro")
    assert kontext.endpoint_for("text-to-image") == "wavespeed-ai/flux-kontext-pro/text-to-image"
    assert kontext.endpoint_for("edit") == "wavespeed-ai/flux-kontext-pro"


WAVESPEED_EDIT_PRICES = {
    "qwen-edit": "0.02",
    "qwen-edit-plus": "0.02",
    "nano-banana-pro-edit-ultra": "0.18",
    "seedream-v4.5-edit": "0.04",
    "flux-kontext-pro": "0.04",
    "step1x-edit": "0.03",
    "hidream-e1-full": "0.024",
    "seededit-v3": "0.027",
    "wan-2.5-image-edit": "0.035",
    "flux-kontext-pro-multi": "0.04",
    "flux-kontext-max": "0.08",
    "ideogram-character": "0.20",
    "gpt-image-1": "0.25",
    "z-image-turbo-inpaint": "0.02",
    "image-zoom-out": "0.02",
}


def test_wavespeed_edit_registry_has_15_models_with_their_prices() -> None:
    registry = {m.id: m for m in cat.edit_models() if m.provider == "wavespeed" and m.edit_operations}
    assert {k: format_usd(m.typical_usd()) for k, m in registry.items()} == {
        k: format_usd(Decimal(v)) for k, v in WAVESPEED_EDIT_PRICES.items()
    }


def test_ranged_prices_keep_both_ends() -> None:
    assert cat.model("nano-banana-pro-edit-ultra").price.variants == {
        "4k": Decimal("0.15"),
        "8k": Decimal("0.18"),
    }
    assert cat.model("gpt-image-1").price.variants == {"low": Decimal("0.011"), "high": Decimal("0.25")}


def test_edit_model_limits_from_the_reference() -> None:
    assert cat.model("qwen-edit").max_side == 1536
    assert cat.model("seedream-v4.5-edit").max_side == 4096
    assert cat.model("nano-banana-pro-edit-ultra").max_side == 8192
    assert cat.model("qwen-edit-plus").max_input_images == 3
    assert cat.model("nano-banana-pro-edit-ultra").max_input_images == 14
    assert cat.model("flux-kontext-pro").defaults["guidance_scale"] == 3.5


@pytest.mark.parametrize(
    ("model_id", "credits"),
    [
        ("stability-remove-background", 5),
        ("stability-erase", 5),
        ("stability-inpaint", 5),
        ("stability-outpaint", 4),
        ("stability-search-and-replace", 5),
        ("stability-search-and-recolor", 5),
        ("stability-relight", 8),
        ("stability-upscale-fast", 2),
        ("stability-upscale-conservative", 40),
        ("stability-upscale-creative", 60),
        ("stability-control-sketch", 5),
        ("stability-control-structure", 5),
        ("stability-control-style", 5),
        ("stability-control-style-transfer", 8),
        ("stable-fast-3d", 10),
        ("spar3d", 4),
    ],
)
def test_stability_credit_prices(model_id: str, credits: int) -> None:
    model = cat.model(model_id)
    assert model.price.kind == "credits"
    assert model.typical_usd() == Decimal(credits) / 100


def test_transform_prices() -> None:
    wan = cat.model("wan-2.5-image-to-video").price
    assert wan.kind == "per_second"
    assert wan.usd_by_resolution == {
        "480p": Decimal("0.05"),
        "720p": Decimal("0.10"),
        "1080p": Decimal("0.15"),
    }
    assert wan.allowed_durations == [5, 10]
    talk = cat.model("infinitetalk").price
    assert (talk.usd_by_resolution, talk.min_billed_seconds) == (
        {"480p": Decimal("0.03"), "720p": Decimal("0.06")},
        5,
    )
    hunyuan = cat.model("hunyuan-avatar").price
    assert hunyuan.kind == "per_block"
    assert (hunyuan.block_seconds, hunyuan.min_seconds, hunyuan.max_seconds) == (5, 5, 120)
    three_d = {m.id: format_usd(m.typical_usd()) for m in cat.models("image-to-3d", provider="wavespeed")}
    assert three_d == {
        "hunyuan3d-v2.1": "0.30",
        "hunyuan3d-v3": "0.25",
        "tripo3d-v2.5": "0.30",
        "hyper3d-rodin-v2": "0.30",
        "sam-3d-objects": "0.02",
    }


def test_provider_capabilities_come_from_their_models() -> None:
    assert {c for m in cat.models(provider="stability") for c in m.capabilities} == {
        "text-to-image",
        "edit",
        "upscale",
        "control",
        "image-to-3d",
    }
    assert {c for m in cat.models(provider="huggingface") for c in m.capabilities} == {"text-to-image"}


def test_model_fit_checks_side_pixels_and_aspect() -> None:
    assert cat.model("qwen-edit").fits(1536, 1536)
    assert not cat.model("qwen-edit").fits(1537, 800)
    fast = cat.model("stability-upscale-fast")
    assert fast.fits(1024, 1024) and not fast.fits(1536, 1000)  # over 1 MP
    inpaint = cat.model("stability-inpaint")
    assert inpaint.fit_problem(3000, 1000) is not None  # aspect 3.0 > 2.5
    assert cat.model("ideogram-v3-turbo").scale_to_fit(2560, 1080) == (1024, 432)


# --- operations, generation settings, plans ----------------------------------------------------


def test_seven_edit_operations_with_inputs_and_defaults() -> None:
    ops = {o.id: o for o in cat.edit_operations()}
    assert list(ops) == [
        "remove_background",
        "inpaint",
        "outpaint",
        "search_replace",
        "search_recolor",
        "relight",
        "general_edit",
    ]
    required = {o: [i.name for i in ops[o].inputs if i.required] for o in ops}
    assert required["inpaint"] == ["image", "prompt"]
    assert required["search_replace"] == ["image", "prompt", "search_prompt"]
    assert required["search_recolor"] == ["image", "prompt", "select_prompt"]
    assert required["general_edit"] == ["image", "prompt"]
    assert ops["inpaint"].defaults() == {"grow_mask": 5}
    assert ops["outpaint"].defaults()["creativity"] == 0.5
    assert ops["relight"].defaults() == {"preserve_original_subject": 0.6, "original_background_depth": 0.5}
    assert [o for o in ops if ops[o].runs_async] == ["relight"]


def test_control_operation_defaults() -> None:
    defaults = {c.id: c.defaults() for c in cat.control_operations()}
    assert defaults == {
        "sketch": {"control_strength": 0.7},
        "structure": {"control_strength": 0.7},
        "style": {"aspect_ratio": "1:1", "fidelity": 0.5},
        "style_transfer": {"style_strength": 1.0, "composition_fidelity": 0.9, "change_strength": 0.9},
    }


def test_upscale_modes_presets_and_auto_rule() -> None:
    assert [m.id for m in cat.upscale_modes()] == ["fast", "conservative", "creative"]
    assert cat.upscale_mode("creative").runs_async
    assert (
        cat.upscale_mode("conservative").default_prompt == "High fidelity upscale preserving original details"
    )
    assert {p.id: p.long_side for p in cat.upscale_presets()} == {"web": 2048, "print": 3072, "social": 1080}
    assert cat.data.upscale.auto.threshold_long_side == 3000


def test_quality_tiers_prefer_the_first_candidate() -> None:
    assert {q.id: q.candidates for q in cat.quality_tiers()} == {
        "draft": ["qwen-image", "flux-krea-dev"],
        "standard": ["qwen-image", "stable-image-core"],
        "premium": ["ideogram-v3-turbo", "stable-image-ultra"],
    }


def test_style_presets_ratios_and_suffixes() -> None:
    assert len(cat.style_presets()) == 17
    assert cat.aspect_ratios() == ["21:9", "16:9", "3:2", "5:4", "1:1", "4:5", "2:3", "9:16", "9:21"]
    assert (
        cat.style_suffix("cinematic")
        == "cinematic lighting, dramatic, film grain, high quality, professional"
    )
    assert cat.style_suffix("comic-book") == ""
    with pytest.raises(InvalidInput) as err:
        cat.style_suffix("watercolor")
    assert "comic-book" in err.value.message and err.value.status == 422


@pytest.mark.parametrize(
    ("plan", "price", "limits", "cap", "tiers", "max_variations"),
    [
        ("free", 0, (10, 5, 2, None), 2, ["draft", "standard", "premium"], 4),
        ("basic", 29, (25, 25, 10, 200), 25, ["draft", "standard", "premium"], 6),
        ("pro", 79, (100, 100, 30, 500), 100, ["draft", "standard", "premium"], 10),
        ("enterprise", 199, (None, None, None, None), 500, ["draft", "standard", "premium"], 10),
    ],
)
def test_plans(
    plan: str, price: int, limits: tuple[int | None, ...], cap: int, tiers: list[str], max_variations: int
) -> None:
    p = cat.plan(plan)
    assert p.monthly_price_usd == price and p.monthly_cost_cap_usd == cap
    assert (p.limits.images, p.limits.edits, p.limits.videos, p.limits.wavespeed_calls) == limits
    assert (p.quality_tiers, p.max_variations) == (tiers, max_variations)


def test_usage_buckets_count_edits_as_edits() -> None:
    assert cat.usage_bucket("edit") == "edits"
    assert cat.usage_bucket("upscale") == "edits"
    assert cat.usage_bucket("generate") == "images"
    assert cat.usage_bucket("talking-avatar") == "videos"


# --- unknown ids -------------------------------------------------------------------------------


def test_unknown_path_ids_are_404_naming_the_choices() -> None:
    with pytest.raises(NotFound) as err:
        cat.template("instagram_reel")
    assert err.value.status == 404
    assert "instagram_reel_cover" in err.value.message
    assert "instagram_reel_cover" in err.value.details["valid_choices"]
    with pytest.raises(NotFound) as err:
        cat.platform("myspace")
    assert "youtube" in err.value.message


def test_unknown_query_or_body_values_are_422_naming_the_choices() -> None:
    with pytest.raises(InvalidInput) as err:
        cat.templates(platform="myspace")
    assert err.value.status == 422 and "pinterest" in err.value.message
    with pytest.raises(InvalidInput) as err:
        cat.templates(category="memes")
    assert "email_marketing" in err.value.message
    with pytest.raises(InvalidInput) as err:
        cat.plan("gold")
    assert "enterprise" in err.value.message
    with pytest.raises(InvalidInput) as err:
        cat.edit_models(operation="blur")
    assert "general_edit" in err.value.message


def test_model_lookup_by_alias_and_capability() -> None:
    assert cat.model("ultra").id == "stable-image-ultra"
    assert cat.model("sd3").id == "sd3.5-large"
    with pytest.raises(InvalidInput) as err:
        cat.model("qwen-edit", capability="text-to-image")
    assert "ideogram-v3-turbo" in err.value.message and "qwen-edit," not in err.value.message
    with pytest.raises(NotFound):
        cat.model("dall-e-9")


# --- integrity ---------------------------------------------------------------------------------


def test_the_shipped_data_is_consistent() -> None:
    assert load_catalog().integrity_problems() == []


def _files() -> dict[str, dict]:
    return copy.deepcopy(read_data_files())


def test_integrity_catches_a_template_recommending_an_unknown_model() -> None:
    files = _files()
    files["templates.json"]["templates"][0]["recommended_model"] = "ideogram-v9"
    with pytest.raises(CatalogIntegrityError, match="instagram_feed_square: unknown recommended model"):
        load_catalog(files)


def test_integrity_catches_a_format_disagreeing_with_its_template() -> None:
    files = _files()
    twitter = next(p for p in files["platforms.json"]["platforms"] if p["name"] == "twitter")
    twitter["formats"][0].update(width=1200, height=675)
    with pytest.raises(CatalogIntegrityError, match=r"twitter/Post .* disagrees with template twitter_post"):
        load_catalog(files)


def test_integrity_catches_a_missing_tier_candidate_and_edit_default() -> None:
    files = _files()
    files["generation.json"]["quality_tiers"][0]["candidates"] = ["qwen-image", "flux-pro-9"]
    files["operations.json"]["edit_operations"][1]["default_model"] = "qwen-edit"
    with pytest.raises(CatalogIntegrityError) as err:
        load_catalog(files)
    assert "draft: candidate 'flux-pro-9'" in str(err.value)
    assert "edit operation inpaint: default model 'qwen-edit'" in str(err.value)


def test_validation_rejects_a_wrong_ratio_label() -> None:
    files = _files()
    cover = next(t for t in files["templates.json"]["templates"] if t["id"] == "facebook_cover")
    cover["aspect_ratio"] = "16:9"  # the original's mislabel
    with pytest.raises(ValidationError, match="facebook_cover"):
        load_catalog(files)


def test_every_decision_is_documented() -> None:
    doc = (REPO / "docs" / "catalog-decisions.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#### `([a-z0-9-]+)`", doc, flags=re.MULTILINE))
    assert documented == {d.id for d in cat.decisions()}
    for d in cat.decisions():
        assert d.choice in doc


def test_each_marked_conflict_has_a_decision() -> None:
    ids = {d.id for d in cat.decisions()}
    assert {
        "template-count",
        "facebook-cover-ratio",
        "linkedin-article-ratio",
        "youtube-channel-art-size",
        "twitter-post-size",
        "one-price-list",
        "upscale-credits",
        "credit-unit",
        "unlimited-is-null",
    } <= ids


# --- money -------------------------------------------------------------------------------------


def test_money_formatting_and_credits() -> None:
    assert format_usd(Decimal("0.3")) == "0.30"
    assert format_usd(Decimal("0.065")) == "0.065"
    assert format_usd(Decimal("12")) == "12.00"
    assert format_usd(Decimal("0.02455")) == "0.0246"
    assert usd_to_credits(Decimal("0.024")) == 3
    assert usd_to_credits(Decimal("0.1") * 3) == 30  # 0.1 * 3 in floats is 0.30000000000000004


@given(st.integers(min_value=0, max_value=10_000_000))
def test_whole_cents_convert_to_exactly_that_many_credits(cents: int) -> None:
    assert usd_to_credits(Decimal(cents) / 100) == cents


@given(st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False, allow_infinity=False))
def test_credits_cover_the_amount_by_less_than_one_credit(usd: Decimal) -> None:
    credits = usd_to_credits(usd)
    assert Decimal(credits) / 100 >= usd > Decimal(credits - 1) / 100


def test_parse_aspect_ratio_accepts_decimals() -> None:
    assert parse_aspect_ratio("1.91:1") == pytest.approx(1.91)
    assert parse_aspect_ratio("16:9") == pytest.approx(16 / 9)
    with pytest.raises(ValueError, match="not an aspect ratio"):
        parse_aspect_ratio("wide")
