"""Typed catalog records. Every data file is validated against these when the catalog loads.

Money is `Decimal` in Python and a decimal string with 2 to 4 places in JSON ("0.30", "0.065"),
so no figure ever passes through a float.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    computed_field,
    model_validator,
)

Capability = Literal[
    "text-to-image", "edit", "upscale", "control", "image-to-video", "talking-avatar", "image-to-3d"
]
Category = Literal[
    "social_media", "blog_content", "ad_creative", "product", "brand_assets", "email_marketing"
]
QualityTierName = Literal["draft", "standard", "premium"]
ModelTier = Literal["free", "budget", "mid", "premium"]
EditOperationName = Literal[
    "remove_background", "inpaint", "outpaint", "search_replace", "search_recolor", "relight", "general_edit"
]
UpscaleModeName = Literal["fast", "conservative", "creative"]
ControlOperationName = Literal["sketch", "structure", "style", "style_transfer"]
PlanName = Literal["free", "basic", "pro", "enterprise"]
VideoResolution = Literal["480p", "720p", "1080p"]
UsageBucket = Literal["images", "edits", "videos"]
InputType = Literal["image", "string", "integer", "number", "boolean"]
Scalar = str | int | float | bool | None

CAPABILITIES: tuple[str, ...] = get_args(Capability)
CATEGORIES: tuple[str, ...] = get_args(Category)
QUALITY_TIERS: tuple[str, ...] = get_args(QualityTierName)
MODEL_TIERS: tuple[str, ...] = get_args(ModelTier)
EDIT_OPERATIONS: tuple[str, ...] = get_args(EditOperationName)
PLAN_NAMES: tuple[str, ...] = get_args(PlanName)

USD_PER_CREDIT = Decimal("0.01")
_FOUR_PLACES = Decimal("0.0001")


def format_usd(value: Decimal) -> str:
    """US dollars as a string with 2 to 4 decimals: 0.3 -> '0.30', 0.065 -> '0.065', 0.02455 -> '0.0246'."""
    text = format(value.quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP).normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def usd_to_credits(usd: Decimal) -> int:
    """Credits for a US$ total: ceil(usd / 0.01), on the exact Decimal, once per request."""
    if usd < 0:
        raise ValueError("a price cannot be negative")
    return int((usd / USD_PER_CREDIT).to_integral_value(rounding=ROUND_CEILING))


Money = Annotated[
    Decimal,
    PlainSerializer(format_usd, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d+\.\d{2,4}$",
            "description": "US dollars as a decimal string with 2 to 4 places.",
            "examples": ["0.30"],
        }
    ),
]

_RATIO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")


def parse_aspect_ratio(label: str) -> float:
    """'16:9' -> 1.777..., '1.91:1' -> 1.91. Decimal ratios are accepted (the original rejected them)."""
    match = _RATIO.match(label)
    if not match or float(match.group(2)) == 0 or float(match.group(1)) == 0:
        raise ValueError(f"'{label}' is not an aspect ratio like '16:9' or '1.91:1'")
    return float(match.group(1)) / float(match.group(2))


def _check_ratio_label(label: str, width: int, height: int, what: str) -> None:
    labelled = parse_aspect_ratio(label)
    real = width / height
    if abs(labelled - real) / real > 0.02:
        raise ValueError(
            f"{what}: label '{label}' ({labelled:.3f}) does not match {width}x{height} ({real:.3f})"
        )


class Record(BaseModel):
    # built on first use (the catalog loads at the first request that needs it), not at cold start
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Size(Record):
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class Decision(Record):
    """One resolved conflict or assumption: what we chose and why (mirrored in docs/catalog-decisions.md)."""

    id: str
    topic: str
    choice: str
    reason: str
    file: str = ""


# --- templates and platforms -------------------------------------------------------------------


class Template(Record):
    id: str
    name: str
    platform: str
    category: Category
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    aspect_ratio: str = Field(description="The real ratio of width to height, e.g. '2.63:1'.")
    style_preset: str
    quality: QualityTierName
    recommended_provider: str
    recommended_model: str
    description: str
    use_cases: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _ratio_matches_size(self) -> Template:
        _check_ratio_label(self.aspect_ratio, self.width, self.height, f"template {self.id}")
        return self


class SafeZone(Record):
    """Fractions of the canvas kept clear of interface overlays, per side."""

    top: float = Field(0.1, ge=0, lt=0.5)
    bottom: float = Field(0.1, ge=0, lt=0.5)
    left: float = Field(0.1, ge=0, lt=0.5)
    right: float = Field(0.1, ge=0, lt=0.5)

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The safe area in pixels as (left, top, right, bottom), for a canvas of width x height."""
        return (
            round(width * self.left),
            round(height * self.top),
            width - round(width * self.right),
            height - round(height * self.bottom),
        )


class SocialFormat(Record):
    name: str
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    aspect_ratio: str
    safe_zone: SafeZone = SafeZone()
    template_id: str | None = Field(None, description="The Create Studio template with the same size.")

    @model_validator(mode="after")
    def _ratio_matches_size(self) -> SocialFormat:
        _check_ratio_label(self.aspect_ratio, self.width, self.height, f"format {self.name}")
        return self


class PlatformSpecs(Record):
    max_upload_mb: int = Field(gt=0)
    file_types: list[str] = Field(min_length=1)
    source: Literal["platform", "studio"] = Field(
        description="'platform': the platform's published limit; 'studio': our recommendation."
    )
    note: str | None = None


class Platform(Record):
    name: str
    display_name: str
    kind: Literal["social", "owned"]
    aliases: list[str] = []
    specs: PlatformSpecs
    formats: list[SocialFormat] = Field(min_length=1)

    def format_names(self) -> list[str]:
        return [f.name for f in self.formats]


# --- prices ------------------------------------------------------------------------------------


class PerImagePrice(Record):
    """US$ per output (image, edit, 3D model). A price range is split into named variants."""

    kind: Literal["per_image"]
    usd: Money | None = None
    variants: dict[str, Money] = {}
    default_variant: str | None = None
    provider_credits: Decimal | None = Field(
        None, description="The provider's own credit price, for reference."
    )

    @model_validator(mode="after")
    def _one_price(self) -> PerImagePrice:
        if (self.usd is None) == (not self.variants):
            raise ValueError("a per_image price has either 'usd' or 'variants'")
        if self.variants and self.default_variant not in self.variants:
            raise ValueError(f"default_variant must be one of {sorted(self.variants)}")
        return self

    def unit_usd(self, variant: str | None = None) -> Decimal:
        if self.usd is not None:
            return self.usd
        return self.variants[variant or self.default_variant or ""]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> str:
        if self.usd is not None:
            return "free" if self.usd == 0 else f"US${format_usd(self.usd)} per image"
        parts = ", ".join(f"{name} US${format_usd(usd)}" for name, usd in self.variants.items())
        return f"per image by variant: {parts}"


class CreditsPrice(Record):
    """A flat price in credits per request (1 credit = US$0.01)."""

    kind: Literal["credits"]
    credits: int = Field(ge=0)

    def unit_usd(self) -> Decimal:
        return self.credits * USD_PER_CREDIT

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> str:
        return f"{self.credits} credits (US${format_usd(self.unit_usd())}) per request"


class PerSecondPrice(Record):
    """US$ per second of output, by resolution; `min_billed_seconds` is the billing minimum."""

    kind: Literal["per_second"]
    usd_by_resolution: dict[str, Money] = Field(min_length=1)
    allowed_durations: list[int] | None = None
    min_billed_seconds: int = Field(1, ge=1)
    max_seconds: int | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> str:
        rates = ", ".join(f"{res} US${format_usd(usd)}/s" for res, usd in self.usd_by_resolution.items())
        extra = f", minimum {self.min_billed_seconds} s" if self.min_billed_seconds > 1 else ""
        return f"per second: {rates}{extra}"


class PerBlockPrice(Record):
    """US$ per started block of `block_seconds`, by resolution."""

    kind: Literal["per_block"]
    block_seconds: int = Field(gt=0)
    usd_by_resolution: dict[str, Money] = Field(min_length=1)
    min_seconds: int = Field(ge=1)
    max_seconds: int = Field(ge=1)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> str:
        rates = ", ".join(f"{res} US${format_usd(usd)}" for res, usd in self.usd_by_resolution.items())
        return f"per {self.block_seconds} s block: {rates} ({self.min_seconds}-{self.max_seconds} s)"


Price = Annotated[PerImagePrice | CreditsPrice | PerSecondPrice | PerBlockPrice, Field(discriminator="kind")]


# --- providers and models ----------------------------------------------------------------------


class Provider(Record):
    name: str
    display_name: str
    description: str
    features: list[str] = []
    base_url: str | None
    auth: str
    max_file_mb: int | None
    rate_limit: str | None
    free_tier: bool
    offline: bool
    async_results: str | None
    price_note: str
    default_models: dict[Capability, str] = {}


class ModelSpec(Record):
    """One priced model at one provider. Resolution limits are None where the provider publishes none."""

    id: str
    name: str
    provider: str
    tier: ModelTier
    description: str
    capabilities: list[Capability] = Field(min_length=1)
    endpoint: str = Field(description="Provider path: a Stability URL path or a WaveSpeed/HF model path.")
    endpoints: dict[Capability, str] = Field({}, description="Per-capability endpoints where they differ.")
    price: Price
    max_width: int | None = None
    max_height: int | None = None
    max_pixels: int | None = None
    min_pixels: int | None = None
    min_side: int | None = None
    min_aspect: float | None = None
    max_aspect: float | None = None
    aspect_ratios: list[str] | None = None
    edit_operations: list[EditOperationName] = []
    features: list[str] = []
    max_input_images: int | None = None
    runs_async: bool = False
    resolutions: dict[str, Size] | None = None
    default_resolution: str | None = None
    defaults: dict[str, Scalar] = {}
    limits: dict[str, Scalar | list[str]] = {}
    aliases: list[str] = []
    assumed: list[str] = Field([], description="Fields that are our assumptions, not published figures.")

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        extra = set(self.endpoints) - set(self.capabilities)
        if extra:
            raise ValueError(f"model {self.id}: endpoints for capabilities it lacks: {sorted(extra)}")
        if self.edit_operations and "edit" not in self.capabilities:
            raise ValueError(f"model {self.id}: edit_operations without the 'edit' capability")
        if self.default_resolution is not None and self.default_resolution not in (self.resolutions or {}):
            raise ValueError(f"model {self.id}: default_resolution is not one of its resolutions")
        return self

    def supports(self, capability: str) -> bool:
        return capability in self.capabilities

    def endpoint_for(self, capability: str) -> str:
        for cap, path in self.endpoints.items():
            if cap == capability:
                return path
        return self.endpoint

    @computed_field  # type: ignore[prop-decorator]
    @property
    def max_side(self) -> int | None:
        """The longest side accepted: the side limit, else the side of a square at the pixel limit."""
        sides = [s for s in (self.max_width, self.max_height) if s is not None]
        if sides:
            return max(sides)
        if self.max_pixels is not None:
            return math.isqrt(self.max_pixels)
        return None

    def fit_problem(self, width: int, height: int) -> str | None:
        """Why a width x height image cannot go to this model, or None if it can."""
        if self.max_width is not None and width > self.max_width:
            return f"{width} px wide is over its {self.max_width} px limit"
        if self.max_height is not None and height > self.max_height:
            return f"{height} px high is over its {self.max_height} px limit"
        pixels = width * height
        if self.max_pixels is not None and pixels > self.max_pixels:
            return f"{pixels / 1e6:.1f} MP is over its {self.max_pixels / 1e6:.1f} MP limit"
        if self.min_pixels is not None and pixels < self.min_pixels:
            return f"{pixels} px² is under its {self.min_pixels} px² minimum"
        if self.min_side is not None and min(width, height) < self.min_side:
            return f"a {min(width, height)} px side is under its {self.min_side} px minimum"
        ratio = width / height
        if self.min_aspect is not None and ratio < self.min_aspect:
            return f"aspect ratio {ratio:.2f} is under its {self.min_aspect} minimum"
        if self.max_aspect is not None and ratio > self.max_aspect:
            return f"aspect ratio {ratio:.2f} is over its {self.max_aspect} maximum"
        return None

    def fits(self, width: int, height: int) -> bool:
        return self.fit_problem(width, height) is None

    def scale_to_fit(self, width: int, height: int) -> tuple[int, int]:
        """The largest size with the same aspect ratio that this model accepts (never larger than asked)."""
        scale = 1.0
        if self.max_width is not None:
            scale = min(scale, self.max_width / width)
        if self.max_height is not None:
            scale = min(scale, self.max_height / height)
        if self.max_pixels is not None:
            scale = min(scale, math.sqrt(self.max_pixels / (width * height)))
        return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))

    def typical_usd(self) -> Decimal:
        """The price of one typical unit: the default variant, or the default resolution's rate."""
        price = self.price
        if isinstance(price, PerImagePrice | CreditsPrice):
            return price.unit_usd()
        resolution = self.default_resolution or next(iter(price.usd_by_resolution))
        return price.usd_by_resolution[resolution]


# --- operations --------------------------------------------------------------------------------


class InputSpec(Record):
    name: str
    type: InputType
    required: bool
    default: Scalar = None
    minimum: float | None = None
    maximum: float | None = None
    choices: list[str] | None = None
    description: str


class EditOperation(Record):
    id: EditOperationName
    name: str
    description: str
    default_model: str
    runs_async: bool
    inputs: list[InputSpec]
    requires_one_of: list[list[str]] = Field(
        [], description="Groups of inputs of which at least one must be given (outpaint: a non-zero side)."
    )

    def defaults(self) -> dict[str, Scalar]:
        return {i.name: i.default for i in self.inputs if i.default is not None}


class UpscaleMode(Record):
    id: UpscaleModeName
    name: str
    model: str
    runs_async: bool
    description: str
    default_prompt: str | None


class UpscaleAutoRule(Record):
    threshold_long_side: int = Field(gt=0)
    at_or_above: UpscaleModeName
    below: UpscaleModeName


class UpscalePreset(Record):
    id: str
    name: str
    long_side: int = Field(gt=0)
    description: str


class CompressionPreset(Record):
    """A named set of compression options (see imagestudio.imaging.compress.CompressOptions)."""

    id: str
    name: str
    description: str
    format: Literal["jpeg", "webp", "avif", "png"]
    quality: int | None = Field(None, ge=1, le=100)
    target_kb: float | None = Field(None, gt=0)
    progressive: bool = False
    lossless: bool = False
    palette: bool = False
    max_side: int | None = Field(None, gt=0)
    strip_metadata: bool = True
    keep_icc: bool = True


class UpscaleSettings(Record):
    modes: list[UpscaleMode] = Field(min_length=1)
    auto: UpscaleAutoRule
    presets: list[UpscalePreset]


class ControlOperation(Record):
    id: ControlOperationName
    name: str
    model: str
    description: str
    inputs: list[InputSpec]

    def defaults(self) -> dict[str, Scalar]:
        return {i.name: i.default for i in self.inputs if i.default is not None}


# --- generation settings and plans -------------------------------------------------------------


class QualityTier(Record):
    id: QualityTierName
    name: str
    description: str
    candidates: list[str] = Field(min_length=1, description="Model ids; the first is preferred.")


class Dimensions(Record):
    default_width: int = Field(gt=0)
    default_height: int = Field(gt=0)
    ratio_only_long_side: int = Field(gt=0)


class Variations(Record):
    min: int = Field(ge=1)
    max: int = Field(ge=1)
    seed_rule: str


class PlanLimits(Record):
    """Monthly counts; None means unlimited, 0 means none allowed."""

    images: int | None = Field(ge=0)
    edits: int | None = Field(ge=0)
    videos: int | None = Field(ge=0)
    wavespeed_calls: int | None = Field(ge=0)


class Plan(Record):
    id: PlanName
    name: str
    monthly_price_usd: Money
    limits: PlanLimits
    monthly_cost_cap_usd: Money
    monthly_grant_credits: int = Field(
        ge=0, description="Credits granted every month (and on sign-up for Free): the cost cap x 100."
    )
    quality_tiers: list[QualityTierName] = Field(min_length=1)
    max_variations: int = Field(ge=1, le=10)
    model_tier_preference: dict[ModelTier, float] = Field(
        {}, description="0..1 affinity for each model tier, used by edit-model recommendations."
    )


class CreditsRule(Record):
    usd_per_credit: Decimal
    rounding: str


class CatalogData(Record):
    """Everything the data files hold, validated together."""

    templates: list[Template]
    platforms: list[Platform]
    providers: list[Provider]
    models: list[ModelSpec]
    edit_operations: list[EditOperation]
    upscale: UpscaleSettings
    control_operations: list[ControlOperation]
    transform_defaults: dict[Capability, str]
    quality_tiers: list[QualityTier]
    style_presets: list[str]
    style_suffixes: dict[str, str]
    aspect_ratios: list[str]
    dimensions: Dimensions
    variations: Variations
    enhance_prompt_default: bool
    credits: CreditsRule
    usage_warning_fraction: float = Field(gt=0, le=1)
    usage_buckets: dict[str, UsageBucket]
    plans: list[Plan]
    compression_presets: list[CompressionPreset] = []
    decisions: list[Decision]

    @classmethod
    def from_files(cls, files: dict[str, dict[str, Any]]) -> CatalogData:
        """Merge the parsed data files (name -> content); each file's '_decisions' are collected."""
        merged: dict[str, Any] = {"decisions": []}
        for file_name, content in files.items():
            body = dict(content)
            merged["decisions"].extend({**d, "file": file_name} for d in body.pop("_decisions", []))
            for key, value in body.items():
                if key in merged:
                    raise ValueError(f"key '{key}' is defined in more than one data file")
                merged[key] = value
        return cls.model_validate(merged)
