"""Cost estimates for every operation the catalog prices.

`estimate(request)` resolves the provider and model a request would use, prices it from the catalog,
and returns US$ (exact Decimal) and credits: ceil(total US$ x 100), computed once on the total.
The request is a discriminated union on `operation`; bad combinations raise `InvalidInput` naming
the valid values. The same code serves the estimate endpoint and credit reservations.
"""

from __future__ import annotations

import math
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, TypeAdapter

from imagestudio.catalog.loader import Catalog, get_catalog
from imagestudio.catalog.models import (
    ControlOperationName,
    CreditsPrice,
    EditOperationName,
    ModelSpec,
    Money,
    PerBlockPrice,
    PerImagePrice,
    PerSecondPrice,
    QualityTierName,
    Scalar,
    VideoResolution,
    format_usd,
    usd_to_credits,
)
from imagestudio.errors import InvalidInput, unknown_choice
from imagestudio.models.requests import RequestModel

# --- requests ----------------------------------------------------------------------------------


class _Request(RequestModel):
    """An estimate body: unknown fields are refused by name (models/requests.py)."""

    # validators built by the first estimate (every studio imports this module at cold start)
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class GenerateEstimateRequest(_Request):
    """Create Studio text-to-image. Model: model > quality tier > template > provider > standard tier."""

    operation: Literal["generate", "create"]
    model: str | None = Field(None, description="Text-to-image model id or alias, e.g. 'ideogram-v3-turbo'.")
    provider: str | None = Field(None, description="'auto' (default) or a provider name.")
    quality: QualityTierName | None = Field(
        None, description="Quality tier; its first candidate model is used."
    )
    template_id: str | None = Field(None, description="Template whose recommended model is used.")
    num_variations: int = Field(
        1,
        ge=1,
        le=10,
        validation_alias=AliasChoices("num_variations", "num_images"),
        description="Images to generate (1-10); 'num_images' is accepted too.",
    )
    width: int | None = Field(
        None, gt=0, description="Accepted for compatibility; prices do not depend on size."
    )
    height: int | None = Field(
        None, gt=0, description="Accepted for compatibility; prices do not depend on size."
    )


class EditEstimateRequest(_Request):
    operation: Literal["edit"]
    edit_operation: EditOperationName
    model: str | None = Field(None, description="Edit model id; default: the operation's default model.")
    width: int | None = Field(None, gt=0, description="Input image width, to check the model accepts it.")
    height: int | None = Field(None, gt=0, description="Input image height, to check the model accepts it.")
    variant: str | None = Field(None, description="Price variant for ranged models (e.g. '4k', 'low').")


class UpscaleEstimateRequest(_Request):
    operation: Literal["upscale"]
    mode: Literal["fast", "conservative", "creative", "auto"] = "auto"
    preset: str | None = Field(None, description="web (2048 px), print (3072 px) or social (1080 px).")
    target_long_side: int | None = Field(
        None, gt=0, description="Wanted long side in px; overrides the preset."
    )
    width: int | None = Field(None, gt=0, description="Input image width, to check the mode's input limits.")
    height: int | None = Field(
        None, gt=0, description="Input image height, to check the mode's input limits."
    )


class ControlEstimateRequest(_Request):
    operation: Literal["control"]
    control_operation: ControlOperationName


class VideoEstimateRequest(_Request):
    operation: Literal["image-to-video"]
    model: str | None = None
    resolution: VideoResolution | None = Field(None, description="Default: the model's default (720p).")
    duration: int = Field(5, description="Seconds of video: 5 or 10.")


class AvatarEstimateRequest(_Request):
    operation: Literal["talking-avatar"]
    model: str | None = Field(None, description="infinitetalk (default) or hunyuan-avatar.")
    resolution: VideoResolution | None = Field(None, description="Default: the model's default (720p).")
    duration_seconds: float = Field(gt=0, description="Length of the audio, in seconds.")


class ThreeDEstimateRequest(_Request):
    operation: Literal["image-to-3d"]
    model: str | None = Field(None, description="Default: stable-fast-3d.")


EstimateRequest = Annotated[
    GenerateEstimateRequest
    | EditEstimateRequest
    | UpscaleEstimateRequest
    | ControlEstimateRequest
    | VideoEstimateRequest
    | AvatarEstimateRequest
    | ThreeDEstimateRequest,
    Field(discriminator="operation"),
]


@cache
def _request_adapter() -> TypeAdapter[Any]:
    """Built by the first estimate, not at import: every studio imports pricing, few parse estimates."""
    return TypeAdapter(EstimateRequest)


def parse_estimate_request(data: dict[str, Any]) -> EstimateRequest:
    """Validate a raw request body into the matching request model (pydantic ValidationError if bad)."""
    parsed: EstimateRequest = _request_adapter().validate_python(data)
    return parsed


# --- result ------------------------------------------------------------------------------------


class LineItem(BaseModel):
    description: str
    quantity: int = Field(description="Billed units: images, requests, seconds or blocks.")
    unit: str
    unit_usd: Money
    usd: Money


class Estimate(BaseModel):
    operation: str
    provider: str
    model: str
    model_name: str
    usd: Money = Field(description="Total in US dollars.")
    credits: int = Field(description="ceil(usd x 100): 1 credit = US$0.01.")
    breakdown: list[LineItem]
    runs_async: bool = Field(description="True when the operation runs as a job (202 + job URL).")
    details: dict[str, Scalar] = Field({}, description="How the request was resolved.")
    notes: list[str] = []

    @classmethod
    def build(
        cls,
        operation: str,
        model: ModelSpec,
        lines: list[LineItem],
        *,
        runs_async: bool | None = None,
        details: dict[str, Scalar] | None = None,
        notes: list[str] | None = None,
    ) -> Estimate:
        total = sum((line.usd for line in lines), Decimal(0))
        return cls(
            operation=operation,
            provider=model.provider,
            model=model.id,
            model_name=model.name,
            usd=total,
            credits=usd_to_credits(total),
            breakdown=lines,
            runs_async=model.runs_async if runs_async is None else runs_async,
            details=details or {},
            notes=notes or [],
        )


# --- pricing -----------------------------------------------------------------------------------


def _line(description: str, quantity: int, unit: str, unit_usd: Decimal) -> LineItem:
    return LineItem(
        description=description, quantity=quantity, unit=unit, unit_usd=unit_usd, usd=unit_usd * quantity
    )


def _per_output_line(model: ModelSpec, quantity: int, unit: str, variant: str | None = None) -> LineItem:
    """Price `quantity` outputs of a per-image or flat-credit model."""
    price = model.price
    if isinstance(price, PerImagePrice):
        if variant is not None and variant not in price.variants:
            if not price.variants:
                raise InvalidInput(
                    f"Model '{model.id}' has a single price; 'variant' applies only to ranged models.",
                    details={"field": "variant", "value": variant},
                )
            raise unknown_choice("variant", variant, list(price.variants), status=422)
        chosen = variant or price.default_variant
        label = f"{model.name} ({chosen})" if chosen else model.name
        return _line(label, quantity, unit, price.unit_usd(chosen))
    if isinstance(price, CreditsPrice):
        if variant is not None:
            raise InvalidInput(
                f"Model '{model.id}' has a single price; 'variant' applies only to ranged models.",
                details={"field": "variant", "value": variant},
            )
        return _line(f"{model.name} ({price.credits} credits)", quantity, unit, price.unit_usd())
    raise InvalidInput(f"Model '{model.id}' is priced {price.kind}, not per output.")


def _size(width: int | None, height: int | None) -> tuple[int, int] | None:
    return (width, height) if width is not None and height is not None else None


def _check_provider(catalog: Catalog, provider: str | None) -> str | None:
    if provider is None or provider.strip().lower() == "auto":
        return None
    return catalog.provider(provider, status=422).name


def resolve_generation_model(
    req: GenerateEstimateRequest, catalog: Catalog | None = None
) -> tuple[ModelSpec, dict[str, Scalar]]:
    """The text-to-image model a create request uses, and how it was chosen.

    Order: explicit model > explicit quality tier (wins over a template's quality) > template's
    recommended model > provider's default > the standard tier's first candidate.
    """
    cat = catalog or get_catalog()
    provider = _check_provider(cat, req.provider)
    template = cat.template(req.template_id, status=422) if req.template_id else None
    details: dict[str, Scalar] = {"template_id": template.id if template else None}
    if req.model:
        model = cat.model(req.model, capability="text-to-image", status=422)
        if provider is not None and model.provider != provider:
            raise InvalidInput(
                f"Model '{model.id}' is a {model.provider} model, not {provider}. {provider} text-to-image "
                f"models: {', '.join(m.id for m in cat.models('text-to-image', provider))}.",
                details={"field": "model", "value": req.model},
            )
        details["chosen_by"] = "model"
        return model, details
    if req.quality is not None:
        tier = cat.quality_tier(req.quality)
        candidates = [cat.model(i) for i in tier.candidates]
        if provider is not None:
            candidates = [m for m in candidates if m.provider == provider]
            if not candidates:
                raise InvalidInput(
                    f"Quality '{tier.id}' has no {provider} model. Its models: {', '.join(tier.candidates)}; "
                    "pick one of those providers or name a model.",
                    details={"field": "provider", "value": provider, "valid_choices": tier.candidates},
                )
        details.update(chosen_by="quality", quality=tier.id)
        return candidates[0], details
    if template is not None:
        model = cat.model(template.recommended_model)
        if provider is None or model.provider == provider:
            details.update(chosen_by="template", template_quality=template.quality)
            return model, details
    if provider is not None:
        default_id = cat.provider(provider).default_models.get("text-to-image")
        if default_id is None:
            raise InvalidInput(f"Provider '{provider}' has no text-to-image model.")
        details["chosen_by"] = "provider"
        return cat.model(default_id), details
    details.update(chosen_by="default", quality="standard")
    return cat.default_model("text-to-image"), details


def _estimate_generate(req: GenerateEstimateRequest, cat: Catalog) -> Estimate:
    model, details = resolve_generation_model(req, cat)
    details["num_variations"] = req.num_variations
    line = _per_output_line(model, req.num_variations, "image")
    return Estimate.build("generate", model, [line], details=details)


def resolve_edit_model(
    operation: str,
    model_id: str | None = None,
    width: int | None = None,
    height: int | None = None,
    catalog: Catalog | None = None,
) -> tuple[ModelSpec, list[str]]:
    """The model an edit uses: the named one (checked), else the operation's default, else the
    cheapest model for the operation that accepts the image. Returns the model and notes."""
    cat = catalog or get_catalog()
    op = cat.edit_operation(operation, status=422)
    size = _size(width, height)
    if model_id:
        model = cat.model(model_id, capability="edit", status=422)
        if op.id not in model.edit_operations:
            valid = [m.id for m in cat.edit_models(op.id)]
            raise InvalidInput(
                f"Model '{model.id}' cannot do {op.id}. Models that can: {', '.join(valid)}.",
                details={"field": "model", "value": model_id, "valid_choices": valid},
            )
        if size and (problem := model.fit_problem(*size)):
            raise InvalidInput(
                f"Model '{model.id}' cannot take a {width}x{height} image: {problem}.",
                details={"field": "model", "value": model_id},
            )
        return model, []
    model = cat.model(op.default_model)
    if size is None or model.fits(*size):
        return model, []
    fitting = [m for m in cat.edit_models(op.id) if m.fits(*size)]
    if not fitting:
        largest = max((m.max_side or 0) for m in cat.edit_models(op.id))
        raise InvalidInput(
            f"No {op.id} model accepts a {width}x{height} image (largest side accepted: {largest} px). "
            "Downscale the image first.",
            details={"field": "width", "value": width},
        )
    chosen = min(fitting, key=lambda m: (m.typical_usd(), m.id))
    return chosen, [f"{model.id} cannot take {width}x{height}; using the cheapest model that can."]


def _estimate_edit(req: EditEstimateRequest, cat: Catalog) -> Estimate:
    model, notes = resolve_edit_model(req.edit_operation, req.model, req.width, req.height, cat)
    op = cat.edit_operation(req.edit_operation)
    line = _per_output_line(model, 1, "edit", req.variant)
    return Estimate.build(
        "edit",
        model,
        [line],
        runs_async=op.runs_async or model.runs_async,
        details={"edit_operation": op.id},
        notes=notes,
    )


def resolve_upscale_mode(
    mode: str = "auto",
    preset: str | None = None,
    target_long_side: int | None = None,
    width: int | None = None,
    height: int | None = None,
    catalog: Catalog | None = None,
) -> tuple[str, int | None, list[str]]:
    """(mode, target long side, notes). 'auto' -> conservative when the target long side is at least
    the threshold (3000 px), else fast; fast falls back to conservative when it cannot take the input."""
    cat = catalog or get_catalog()
    rule = cat.data.upscale.auto
    target = target_long_side
    if target is None and preset is not None:
        target = cat.upscale_preset(preset).long_side
    elif preset is not None:
        cat.upscale_preset(preset)
    notes: list[str] = []
    size = _size(width, height)
    if mode == "auto":
        chosen = rule.at_or_above if target is not None and target >= rule.threshold_long_side else rule.below
        notes.append(
            f"auto: target long side {target} px -> {chosen}"
            if target is not None
            else f"auto: no target size -> {chosen}"
        )
        fallback = cat.model(cat.upscale_mode(rule.at_or_above).model)
        if size and not cat.model(cat.upscale_mode(chosen).model).fits(*size) and fallback.fits(*size):
            notes.append(f"{chosen} cannot take {width}x{height}; using {rule.at_or_above}")
            chosen = rule.at_or_above
    else:
        chosen = cat.upscale_mode(mode).id
    if size:
        model = cat.model(cat.upscale_mode(chosen).model)
        problem = model.fit_problem(*size)
        if problem:
            ok = [m.id for m in cat.upscale_modes() if cat.model(m.model).fits(*size)]
            raise InvalidInput(
                f"{chosen} upscale cannot take a {width}x{height} image: {problem}. "
                f"Modes that can: {', '.join(ok) or 'none (downscale first)'}.",
                details={"field": "mode", "value": chosen, "valid_choices": ok},
            )
    return chosen, target, notes


def _estimate_upscale(req: UpscaleEstimateRequest, cat: Catalog) -> Estimate:
    mode_id, target, notes = resolve_upscale_mode(
        req.mode, req.preset, req.target_long_side, req.width, req.height, cat
    )
    mode = cat.upscale_mode(mode_id)
    model = cat.model(mode.model)
    line = _per_output_line(model, 1, "request")
    details: dict[str, Scalar] = {"mode": mode.id, "requested_mode": req.mode, "target_long_side": target}
    return Estimate.build("upscale", model, [line], runs_async=mode.runs_async, details=details, notes=notes)


def _estimate_control(req: ControlEstimateRequest, cat: Catalog) -> Estimate:
    op = cat.control_operation(req.control_operation)
    model = cat.model(op.model)
    return Estimate.build(
        "control", model, [_per_output_line(model, 1, "request")], details={"control_operation": op.id}
    )


def _media_model(cat: Catalog, capability: str, model_id: str | None) -> ModelSpec:
    if model_id:
        return cat.model(model_id, capability=capability, status=422)
    return cat.default_model(capability)


def _resolution_rate(
    model: ModelSpec, rates: dict[str, Decimal], resolution: str | None
) -> tuple[str, Decimal]:
    chosen = resolution or model.default_resolution or next(iter(rates))
    if chosen not in rates:
        raise InvalidInput(
            f"Model '{model.id}' does not offer {chosen}. Resolutions: {', '.join(rates)}.",
            details={"field": "resolution", "value": chosen, "valid_choices": list(rates)},
        )
    return chosen, rates[chosen]


def _estimate_video(req: VideoEstimateRequest, cat: Catalog) -> Estimate:
    model = _media_model(cat, "image-to-video", req.model)
    price = model.price
    details: dict[str, Scalar] = {"duration": req.duration}
    if isinstance(price, PerSecondPrice):
        allowed = price.allowed_durations
        if allowed is not None and req.duration not in allowed:
            raise InvalidInput(
                f"Duration must be one of {', '.join(f'{d} s' for d in allowed)} for {model.id}.",
                details={"field": "duration", "value": req.duration, "valid_choices": allowed},
            )
        resolution, rate = _resolution_rate(model, dict(price.usd_by_resolution), req.resolution)
        details["resolution"] = resolution
        line = _line(f"{model.name} at {resolution}", req.duration, "second", rate)
    else:
        line = _per_output_line(model, 1, "video")
    return Estimate.build("image-to-video", model, [line], details=details)


def _estimate_avatar(req: AvatarEstimateRequest, cat: Catalog) -> Estimate:
    model = _media_model(cat, "talking-avatar", req.model)
    price = model.price
    seconds = req.duration_seconds
    details: dict[str, Scalar] = {"duration_seconds": seconds}
    notes: list[str] = []
    if isinstance(price, PerSecondPrice):
        if price.max_seconds is not None and seconds > price.max_seconds:
            raise InvalidInput(
                f"{model.name} takes at most {price.max_seconds} s of audio; this is {seconds:g} s.",
                details={"field": "duration_seconds", "value": seconds},
            )
        resolution, rate = _resolution_rate(model, dict(price.usd_by_resolution), req.resolution)
        billed = max(price.min_billed_seconds, math.ceil(seconds))
        if billed > seconds:
            notes.append(f"billed as {billed} s (per started second, minimum {price.min_billed_seconds} s)")
        details.update(resolution=resolution, billed_seconds=billed)
        line = _line(f"{model.name} at {resolution}", billed, "second", rate)
    elif isinstance(price, PerBlockPrice):
        if seconds > price.max_seconds:
            raise InvalidInput(
                f"{model.name} takes {price.min_seconds}-{price.max_seconds} s of audio; "
                f"this is {seconds:g} s. Use infinitetalk for longer audio.",
                details={"field": "duration_seconds", "value": seconds},
            )
        resolution, rate = _resolution_rate(model, dict(price.usd_by_resolution), req.resolution)
        blocks = math.ceil(max(seconds, price.min_seconds) / price.block_seconds)
        notes.append(f"billed in {price.block_seconds} s blocks: {seconds:g} s -> {blocks} block(s)")
        details.update(resolution=resolution, billed_seconds=blocks * price.block_seconds, blocks=blocks)
        line = _line(f"{model.name} at {resolution}", blocks, f"{price.block_seconds}-second block", rate)
    else:
        line = _per_output_line(model, 1, "video")
    return Estimate.build("talking-avatar", model, [line], details=details, notes=notes)


def _estimate_3d(req: ThreeDEstimateRequest, cat: Catalog) -> Estimate:
    model = _media_model(cat, "image-to-3d", req.model)
    return Estimate.build("image-to-3d", model, [_per_output_line(model, 1, "model")])


def estimate(request: EstimateRequest | dict[str, Any], catalog: Catalog | None = None) -> Estimate:
    """Price one request. Accepts a request model or a raw dict (validated first)."""
    cat = catalog or get_catalog()
    req = parse_estimate_request(request) if isinstance(request, dict) else request
    if isinstance(req, GenerateEstimateRequest):
        return _estimate_generate(req, cat)
    if isinstance(req, EditEstimateRequest):
        return _estimate_edit(req, cat)
    if isinstance(req, UpscaleEstimateRequest):
        return _estimate_upscale(req, cat)
    if isinstance(req, ControlEstimateRequest):
        return _estimate_control(req, cat)
    if isinstance(req, VideoEstimateRequest):
        return _estimate_video(req, cat)
    if isinstance(req, AvatarEstimateRequest):
        return _estimate_avatar(req, cat)
    return _estimate_3d(req, cat)


__all__ = [
    "AvatarEstimateRequest",
    "ControlEstimateRequest",
    "EditEstimateRequest",
    "Estimate",
    "EstimateRequest",
    "GenerateEstimateRequest",
    "LineItem",
    "ThreeDEstimateRequest",
    "UpscaleEstimateRequest",
    "VideoEstimateRequest",
    "estimate",
    "format_usd",
    "parse_estimate_request",
    "resolve_edit_model",
    "resolve_generation_model",
    "resolve_upscale_mode",
]
