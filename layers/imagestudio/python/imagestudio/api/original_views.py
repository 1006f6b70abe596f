"""The original Image Studio front end's shapes for the catalog routes, built from our catalog.

The original client (the ALwrity Image Studio hook, docs/frontend-compat.md) reads keyed objects where
we keep lists, `aspect_ratio` as an object, prices as JSON numbers and a few fields under its own
names. These models are those shapes; every figure in them comes from `imagestudio.catalog`, so the
original view and our richer one (`?view=full`, or the fields beside the original's) never disagree.
Prices here are JSON numbers (the same figures as our decimal-string `usd`), because the original
client does arithmetic on them (`cost.toFixed(3)`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from imagestudio.catalog.loader import Catalog
from imagestudio.catalog.models import (
    CAPABILITIES,
    ControlOperation,
    EditOperation,
    InputSpec,
    ModelSpec,
    PerImagePrice,
    Platform,
    SafeZone,
    SocialFormat,
    Template,
    format_usd,
)
from imagestudio.catalog.pricing import Estimate

View = Literal["original", "full"]
VIEW_DESCRIPTION = (
    "'original' (default): the original Image Studio's shape, an object keyed by id. "
    "'full': our list with every catalog field."
)


# --- templates -----------------------------------------------------------------------------------


class AspectRatioView(BaseModel):
    ratio: str = Field(description="Width to height, e.g. '1.91:1'.")
    width: int
    height: int
    label: str = Field(description="Square, Portrait or Landscape.")


class TemplateView(BaseModel):
    """A template as the original returns it (`aspect_ratio` an object), with our fields beside it."""

    id: str
    name: str
    platform: str
    category: str
    aspect_ratio: AspectRatioView
    width: int
    height: int
    style_preset: str
    quality: str
    recommended_provider: str
    recommended_model: str
    description: str
    use_cases: list[str]


def _orientation(width: int, height: int) -> str:
    if width == height:
        return "Square"
    return "Portrait" if height > width else "Landscape"


def template_view(template: Template) -> TemplateView:
    data = template.model_dump()
    data["aspect_ratio"] = AspectRatioView(
        ratio=template.aspect_ratio,
        width=template.width,
        height=template.height,
        label=_orientation(template.width, template.height),
    )
    return TemplateView(**data)


# --- providers -----------------------------------------------------------------------------------


class ProviderSummary(BaseModel):
    """One provider as the original's `providers[id]`: `name` is the label the UI shows."""

    id: str
    name: str = Field(description="Display name (the original's label; the key is the id).")
    description: str
    models: list[str] = Field(
        description="Its text-to-image model ids: the `model` a create request may name."
    )
    capabilities: list[str] = Field(description="Capabilities of any of its models.")
    max_resolution: list[int] | None = Field(
        description="[width, height]: the largest its text-to-image models make; null when unpublished."
    )
    cost_range: str = Field(description="Price range of its text-to-image models.")
    free_tier: bool
    offline: bool
    default_models: dict[str, str]


def provider_summary(catalog: Catalog, name: str) -> ProviderSummary:
    provider = catalog.provider(name)
    models = catalog.provider_models(name)
    text_models = [m for m in models if m.supports("text-to-image")]
    sizes = [size for size in (max_resolution(m) for m in text_models) if size is not None]
    prices = sorted({m.typical_usd() for m in text_models})
    if not prices:
        cost_range = provider.price_note
    elif prices[-1] == 0:
        cost_range = "free"
    elif len(prices) == 1:
        cost_range = f"US${format_usd(prices[0])} per image"
    else:
        cost_range = f"US${format_usd(prices[0])}-{format_usd(prices[-1])} per image"
    return ProviderSummary(
        id=provider.name,
        name=provider.display_name,
        description=provider.description,
        models=[m.id for m in text_models],
        capabilities=[c for c in CAPABILITIES if any(m.supports(c) for m in models)],
        max_resolution=[max(w for w, _ in sizes), max(h for _, h in sizes)] if sizes else None,
        cost_range=cost_range,
        free_tier=provider.free_tier,
        offline=provider.offline,
        default_models=dict(provider.default_models),
    )


# --- edit and control operations -----------------------------------------------------------------


class EditFields(BaseModel):
    """Which inputs the original UI shows; `prompt` true means a prompt is required."""

    prompt: bool
    mask: bool
    negative_prompt: bool
    search_prompt: bool
    select_prompt: bool
    background: bool
    lighting: bool
    expansion: bool


def edit_fields(op: EditOperation) -> EditFields:
    inputs = {i.name: i for i in op.inputs}
    prompt = inputs.get("prompt")
    return EditFields(
        prompt=prompt is not None and prompt.required,
        mask="mask" in inputs,
        negative_prompt="negative_prompt" in inputs,
        search_prompt="search_prompt" in inputs,
        select_prompt="select_prompt" in inputs,
        background="background_image" in inputs,
        lighting="lighting_image" in inputs,
        expansion=any(side in inputs for side in ("left", "right", "up", "down")),
    )


class ControlFields(BaseModel):
    """Which inputs the original Control Studio shows."""

    control_image: bool
    style_image: bool
    control_strength: bool
    fidelity: bool
    style_strength: bool
    aspect_ratio: bool


def control_fields(op: ControlOperation) -> ControlFields:
    names = {i.name for i in op.inputs}
    return ControlFields(
        control_image=bool(names & {"image", "init_image"}),
        style_image="style_image" in names,
        control_strength="control_strength" in names,
        fidelity="fidelity" in names,
        style_strength="style_strength" in names,
        aspect_ratio="aspect_ratio" in names,
    )


class ControlOperationEntry(BaseModel):
    """A control operation: the original's label, provider and fields, and our inputs and model."""

    id: str
    label: str
    description: str
    provider: str
    fields: ControlFields
    name: str
    model: str
    inputs: list[InputSpec]


def control_operation_entry(catalog: Catalog, op: ControlOperation) -> ControlOperationEntry:
    return ControlOperationEntry(
        id=op.id,
        label=op.name,
        description=op.description,
        provider=catalog.model(op.model).provider,
        fields=control_fields(op),
        name=op.name,
        model=op.model,
        inputs=op.inputs,
    )


# --- edit models ---------------------------------------------------------------------------------


def model_cost(model: ModelSpec) -> float:
    return float(model.typical_usd())


def cost_8k(model: ModelSpec) -> float | None:
    price = model.price
    if isinstance(price, PerImagePrice) and "8k" in price.variants:
        return float(price.variants["8k"])
    return None


def max_resolution(model: ModelSpec) -> list[int] | None:
    width = model.max_width or model.max_side
    height = model.max_height or model.max_side
    return [width, height] if width and height else None


def use_cases(catalog: Catalog, model: ModelSpec) -> list[str]:
    """What it is for, from the catalog: the names of the edit operations it runs."""
    return [catalog.edit_operation(op).name for op in model.edit_operations]


def supports_controlnet(model: ModelSpec) -> bool:
    return "controlnet" in model.features


def supports_multi_image(model: ModelSpec) -> bool:
    return "multi_image" in model.features or (model.max_input_images or 1) > 1


# --- social formats ------------------------------------------------------------------------------


class SocialFormatView(BaseModel):
    """A Social Optimizer format with the original's `ratio`, `file_type` and `max_size_mb`."""

    name: str
    width: int
    height: int
    ratio: str = Field(description="Same as aspect_ratio (the original's name).")
    aspect_ratio: str
    safe_zone: SafeZone = Field(description="Fractions of each side kept clear of platform UI.")
    file_type: str = Field(description="The platform's first accepted file type, e.g. 'JPG'.")
    max_size_mb: float = Field(description="The platform's upload limit in MB.")
    template_id: str | None


def social_format_view(platform: Platform, fmt: SocialFormat) -> SocialFormatView:
    return SocialFormatView(
        name=fmt.name,
        width=fmt.width,
        height=fmt.height,
        ratio=fmt.aspect_ratio,
        aspect_ratio=fmt.aspect_ratio,
        safe_zone=fmt.safe_zone,
        file_type=platform.specs.file_types[0].upper(),
        max_size_mb=float(platform.specs.max_upload_mb),
        template_id=fmt.template_id,
    )


# --- cost estimate -------------------------------------------------------------------------------


class CostEstimate(Estimate):
    """Our estimate, plus the original's numeric fields (`total_cost`, `cost_per_image`, ...)."""

    num_images: int = Field(description="Images (or other outputs) priced.")
    cost_per_image: float = Field(description="US$ per image or output, a number (total_cost / num_images).")
    total_cost: float = Field(description="US$, a number: the same figure as `usd`.")
    currency: Literal["USD"] = "USD"
    estimated: bool = Field(True, description="Always true: the price before the provider runs.")


def cost_estimate(found: Estimate) -> CostEstimate:
    outputs = sum(line.quantity for line in found.breakdown if line.unit == "image") or 1
    return CostEstimate(
        **found.model_dump(),
        num_images=outputs,
        cost_per_image=float(found.usd / outputs),
        total_cost=float(found.usd),
    )
