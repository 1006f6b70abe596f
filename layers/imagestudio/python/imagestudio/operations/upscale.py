"""Upscale Studio: fast (exactly 4x), conservative, creative (a long job at the provider) and auto.

auto is conservative when the target long side is at least 3,000 px, else fast (the catalog's rule,
also used by the estimate); a preset (web 2048, print 3072, social 1080) sets the target long side
when no explicit target is given. The chosen mode's input limits (the catalog's figures) are checked
before a credit is reserved, and the error says the limit. With a target, the result's long side is
exactly the target (fast makes 4x at the provider, then the result is resized to it).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from imagestudio.catalog import ModelSpec, get_catalog
from imagestudio.catalog.pricing import resolve_upscale_mode
from imagestudio.errors import InvalidInput
from imagestudio.models.requests import MAX_PROMPT, MAX_SEED, OutputFormat, ResponseFormat
from imagestudio.models.text import PromptText
from imagestudio.operations.core import Outcome, OutputMeta, model_unit, run_single_unit
from imagestudio.operations.inputs import ImageSourceRequest, describe, media_of, resolve_input_image
from imagestudio.operations.registry import InputFacts, OperationSpec, Quote, quote_of, register
from imagestudio.ports import Ports
from imagestudio.providers.base import CallResult, Provider, UpscaleRequest
from imagestudio.providers.registry import Candidate

FAST_FACTOR = 4
MAX_TARGET_LONG_SIDE = 8192
#: the creativity each mode takes (Stability v2beta: conservative 0.2..0.5, creative 0..0.35)
CREATIVITY_RANGE: dict[str, tuple[float, float]] = {"conservative": (0.2, 0.5), "creative": (0.0, 0.35)}


class UpscaleStudioRequest(ImageSourceRequest):
    """Body of POST upscale. Give the image one way: inline, by asset id or by upload id."""

    mode: Literal["fast", "conservative", "creative", "auto"] = Field(
        "auto", description="auto: conservative when the target long side is >= 3000 px, else fast."
    )
    preset: str | None = Field(
        None, max_length=20, description="web (2048 px), print (3072 px) or social (1080 px) long side."
    )
    target_long_side: int | None = Field(
        None, ge=64, le=MAX_TARGET_LONG_SIDE, description="The result's long side in px; wins over a preset."
    )
    prompt: PromptText | None = Field(
        None, max_length=MAX_PROMPT, description="conservative/creative guidance."
    )
    negative_prompt: PromptText | None = Field(None, max_length=MAX_PROMPT)
    creativity: float | None = Field(
        None, ge=0, le=1, description="conservative 0.2..0.5, creative 0..0.35; fast takes none."
    )
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    output_format: OutputFormat = "png"
    response_format: ResponseFormat = "url"


def _mp(pixels: int) -> str:
    return f"{round(pixels / 1e6, 1):g} MP ({pixels:,} px)"


def limits_text(model: ModelSpec) -> str:
    """A model's input limits in words, from the catalog's figures."""
    parts = []
    max_side = max((s for s in (model.max_width, model.max_height) if s is not None), default=None)
    if model.min_side and max_side:
        parts.append(f"{model.min_side} to {max_side:,} px a side")
    elif model.min_side:
        parts.append(f"at least {model.min_side} px a side")
    elif max_side:
        parts.append(f"at most {max_side:,} px a side")
    if model.min_pixels and model.max_pixels:
        parts.append(f"{model.min_pixels:,} px² to {_mp(model.max_pixels)}")
    elif model.max_pixels:
        parts.append(f"at most {_mp(model.max_pixels)}")
    elif model.min_pixels:
        parts.append(f"at least {model.min_pixels:,} px²")
    return " and ".join(parts) or "any size"


def scaled(width: int, height: int, long_side: int) -> tuple[int, int]:
    """width x height with its long side made `long_side` (aspect kept)."""
    if width >= height:
        return long_side, max(1, round(height * long_side / width))
    return max(1, round(width * long_side / height)), long_side


def price(request: UpscaleStudioRequest, facts: InputFacts) -> Quote:
    """Priced by the mode that runs (auto and presets resolved for the image's size)."""
    mode, _target, _notes = resolve_upscale_mode(
        request.mode, request.preset, request.target_long_side, facts.width, facts.height
    )
    return quote_of({"operation": "upscale", "mode": mode, "width": facts.width, "height": facts.height})


def upscale(ports: Ports, owner: str, request: UpscaleStudioRequest) -> Outcome:
    catalog = get_catalog()
    # the mode and preset are checked before the image is read
    resolve_upscale_mode(request.mode, request.preset, request.target_long_side)
    source = resolve_input_image(
        ports, owner, image=request.image, asset_id=request.asset_id, upload_id=request.upload_id
    )
    w, h = source.image.width, source.image.height
    try:
        mode, target, notes = resolve_upscale_mode(
            request.mode, request.preset, request.target_long_side, w, h
        )
    except InvalidInput as exc:
        if exc.details.get("field") != "mode":
            raise
        refused = catalog.upscale_mode(str(exc.details["value"]))
        limits = limits_text(catalog.model(refused.model))
        raise InvalidInput(
            f"{exc.message} {refused.id} takes {limits}.",
            details={**exc.details, "width": w, "height": h, "limits": limits},
        ) from exc
    spec = catalog.model(catalog.upscale_mode(mode).model)
    long_side = max(w, h)
    if target is not None and target <= long_side:
        raise InvalidInput(
            f"The target long side {target} px is not above the image's {long_side} px: nothing to upscale. "
            "Ask for a larger target (or preset) or leave both out.",
            details={"field": "target_long_side", "value": target, "image_long_side": long_side},
        )
    output_limit = spec.limits.get("output_long_side")
    if target is not None and mode != "fast" and isinstance(output_limit, int) and target > output_limit:
        raise InvalidInput(
            f"{mode} upscales to at most {output_limit:,} px on the long side; {target:,} px was asked.",
            details={"field": "target_long_side", "value": target, "limit": output_limit},
        )
    creativity = request.creativity
    if creativity is not None:
        if mode == "fast":
            notes.append("fast upscale takes no creativity; ignored.")
            creativity = None
        else:
            low, high = CREATIVITY_RANGE[mode]
            if not low <= creativity <= high:
                raise InvalidInput(
                    f"{mode} upscale takes a creativity of {low:g} to {high:g}; {creativity:g} was given.",
                    details={"field": "creativity", "value": creativity, "minimum": low, "maximum": high},
                )

    size: tuple[int, int] | None = None
    if mode == "fast":
        size = (w * FAST_FACTOR, h * FAST_FACTOR)
        if target is not None:
            notes.append(
                f"fast makes exactly 4x ({size[0]}x{size[1]}); the result is resized to the "
                f"{target} px long side."
            )
            size = scaled(w, h, target)
    elif target is not None:
        size = scaled(w, h, target)
    if request.preset and request.target_long_side is not None:
        notes.append(f"target_long_side {request.target_long_side} px was used instead of the preset.")

    cost = price(request, InputFacts(width=w, height=h)).price
    media = media_of(source.image, "image")
    to_provider = UpscaleRequest(
        mode=mode,  # type: ignore[arg-type]  # resolve_upscale_mode answers one of the three modes
        image=media,
        prompt=request.prompt if mode != "fast" else None,
        negative_prompt=request.negative_prompt if mode != "fast" else None,
        creativity=creativity,
        target_long_side=target if mode != "fast" else None,
        seed=request.seed,
        output_format=request.output_format,
    )

    def call(provider: Provider, candidate: Candidate) -> CallResult:
        return provider.upscale(to_provider)

    unit = model_unit(spec.provider, spec.id, call, size)
    mode_spec = catalog.upscale_mode(mode)
    meta = OutputMeta(
        operation="upscale",
        source="upscaled",
        output_format=request.output_format,
        inline=request.response_format != "url",
        prompt=request.prompt or mode_spec.default_prompt,
        parent=source.asset,
        metadata={"mode": mode, "target_long_side": target, "preset": request.preset},
    )
    inputs: dict[str, Any] = {
        **request.model_dump(mode="json", exclude_none=True, exclude={"image", "asset_id", "upload_id"}),
        "image": describe(source),
        "resolved_mode": mode,
        "target_long_side": target,
        "output_width": size[0] if size else None,
        "output_height": size[1] if size else None,
        "parent_asset_id": source.asset.id if source.asset else None,
        "source": "upscaled",
    }
    details: dict[str, Any] = {
        "mode": mode,
        "requested_mode": request.mode,
        "preset": request.preset,
        "target_long_side": target,
        "input": {"width": w, "height": h, "source": source.source},
        "output_size": {"width": size[0], "height": size[1]} if size else None,
        "input_limits": limits_text(spec),
    }
    return run_single_unit(
        ports,
        owner,
        operation="upscale",
        label=f"{mode} upscale",
        long_job=mode_spec.runs_async or spec.runs_async,
        price=cost,
        unit=unit,
        meta=meta,
        inputs=inputs,
        provider=spec.provider,
        model=spec.id,
        notes=notes,
        details=details,
    )


SPEC = register(
    OperationSpec(name="upscale", request=UpscaleStudioRequest, run=upscale, price=price, usage="upscale")
)
