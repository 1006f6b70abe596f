"""Create Studio: images from a prompt, a template, a quality tier or a model, at the exact size asked.

Templates fill what the request leaves empty and never override what it set. The model is chosen
as the estimate endpoint chooses it (model > quality > template > provider > standard tier); its
tier's other models are the fallbacks. Variation i uses seed + i and runs concurrently.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import Field, field_validator

from imagestudio.catalog import get_catalog
from imagestudio.catalog.models import parse_aspect_ratio
from imagestudio.catalog.pricing import GenerateEstimateRequest, resolve_generation_model
from imagestudio.errors import InvalidInput
from imagestudio.models.records import Persona
from imagestudio.models.requests import RequestModel, ResponseFormat
from imagestudio.models.text import PromptText
from imagestudio.operations.core import Outcome, OutputMeta, Unit, run_operation
from imagestudio.operations.registry import InputFacts, OperationSpec, Quote, quote_of, register
from imagestudio.ports import Ports
from imagestudio.providers.base import GenerateRequest, Provider
from imagestudio.providers.registry import Candidate

MAX_PROMPT = 2000
MIN_SIDE, MAX_SIDE = 64, 4096
DEFAULT_SIZE = 1024
RATIO_ONLY_LONG_SIDE = 1920


class CreateRequest(RequestModel):
    prompt: PromptText = Field(min_length=1, max_length=MAX_PROMPT)
    template_id: str | None = None
    provider: str = Field("auto", description="auto, or stability, wavespeed, huggingface, gemini, local")
    model: str | None = None
    width: int | None = Field(None, ge=MIN_SIDE, le=MAX_SIDE)
    height: int | None = Field(None, ge=MIN_SIDE, le=MAX_SIDE)
    aspect_ratio: str | None = Field(None, description="e.g. 16:9 or 1.91:1")
    style_preset: str | None = None
    quality: Literal["draft", "standard", "premium"] | None = None
    negative_prompt: PromptText | None = Field(None, max_length=MAX_PROMPT)
    guidance_scale: float | None = Field(None, ge=0, le=35)
    steps: int | None = Field(None, ge=1, le=150)
    seed: int | None = Field(None, ge=0, le=4_294_967_294)
    num_variations: int = Field(1, ge=1, le=10)
    enhance_prompt: bool = True
    use_persona: bool = False
    persona_id: str | None = Field(None, max_length=64)
    output_format: Literal["png", "jpeg", "webp"] = "png"
    response_format: ResponseFormat = "url"

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the prompt is blank: describe the image to create")
        return value.strip()


def resolve_size(request: CreateRequest, template_size: tuple[int, int] | None) -> tuple[int, int, str]:
    """Explicit width+height win; a ratio with one side derives the other; a ratio alone has a
    1920 px long side; then the template's size; then 1024x1024. Returns (w, h, how)."""
    w, h, ratio_label = request.width, request.height, request.aspect_ratio
    if w and h:
        return w, h, "width and height"
    if ratio_label:
        try:
            ratio = parse_aspect_ratio(ratio_label)
        except ValueError as exc:
            raise InvalidInput(
                f"aspect_ratio '{ratio_label}' is not a ratio like 16:9 or 1.91:1.",
                details={"field": "aspect_ratio"},
            ) from exc
        if w:
            size = (w, round(w / ratio))
        elif h:
            size = (round(h * ratio), h)
        elif ratio >= 1:
            size = (RATIO_ONLY_LONG_SIDE, round(RATIO_ONLY_LONG_SIDE / ratio))
        else:
            size = (round(RATIO_ONLY_LONG_SIDE * ratio), RATIO_ONLY_LONG_SIDE)
        if not all(MIN_SIDE <= s <= MAX_SIDE for s in size):
            raise InvalidInput(
                f"aspect_ratio {ratio_label} gives {size[0]}x{size[1]}: "
                f"each side must be {MIN_SIDE}..{MAX_SIDE}.",
                details={"field": "aspect_ratio"},
            )
        return size[0], size[1], "aspect ratio"
    if w or h:
        raise InvalidInput(
            "Give both width and height, or one of them with aspect_ratio.", details={"field": "width/height"}
        )
    if template_size:
        return template_size[0], template_size[1], "template"
    return DEFAULT_SIZE, DEFAULT_SIZE, "default"


def apply_persona(prompt: str, negative: str | None, persona: Persona) -> tuple[str, str | None]:
    parts = [prompt]
    if persona.style_words:
        parts.append(", ".join(persona.style_words))
    if persona.tone:
        parts.append(f"{persona.tone} tone")
    if persona.palette:
        parts.append("colour palette: " + ", ".join(persona.palette))
    negatives = [n for n in [negative, ", ".join(persona.negative_words)] if n]
    return ", ".join(parts), (", ".join(negatives) or None)


def seed_for(prompt: str, seed: int | None) -> int:
    if seed is not None:
        return seed
    return int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big") % 1_000_000


def candidates_for(
    request: CreateRequest, template_quality: str | None
) -> tuple[list[Candidate], dict[str, Any]]:
    catalog = get_catalog()
    provider = None if request.provider == "auto" else request.provider
    chosen, details = resolve_generation_model(
        GenerateEstimateRequest(
            operation="generate",
            model=request.model,
            provider=provider,
            quality=request.quality,
            template_id=request.template_id,
            num_variations=request.num_variations,
        )
    )
    first = Candidate(chosen.provider, chosen.id)
    if details.get("chosen_by") == "model" or provider is not None:
        return [first], details
    tier = request.quality or template_quality or "standard"
    rest = [catalog.model(m) for m in catalog.quality_tier(tier).candidates]
    return [first] + [Candidate(m.provider, m.id) for m in rest if m.id != chosen.id], {
        **details,
        "tier": tier,
    }


def _template(request: CreateRequest) -> Any:
    return get_catalog().template(request.template_id, status=422) if request.template_id else None


def price(request: CreateRequest, facts: InputFacts) -> Quote:
    """The first candidate's price for every variation (a fallback is never charged more)."""
    template = _template(request)
    candidates, _ = candidates_for(request, template.quality if template else None)
    n = request.num_variations
    return quote_of({"operation": "generate", "model": candidates[0].model, "num_variations": n}, count=n)


def create(ports: Ports, owner: str, request: CreateRequest) -> Outcome:
    catalog = get_catalog()
    template = _template(request)
    width, height, sized_by = resolve_size(request, (template.width, template.height) if template else None)
    # Templates fill only what the request left empty (fields_set: what the client really sent).
    style = request.style_preset if "style_preset" in request.model_fields_set else None
    style = style or (template.style_preset if template else None)
    if style is not None:
        catalog.style_suffix(style)  # unknown styles answer 422 with the valid ones
    candidates, chosen = candidates_for(request, template.quality if template else None)

    prompt, negative = request.prompt, request.negative_prompt
    if request.use_persona:
        if not request.persona_id:
            raise InvalidInput("use_persona needs a persona_id.", details={"field": "persona_id"})
        prompt, negative = apply_persona(prompt, negative, ports.personas.get(owner, request.persona_id))
    if request.enhance_prompt and style:
        suffix = catalog.style_suffix(style)
        if suffix:
            prompt = f"{prompt}, {suffix}"
    if len(prompt) > MAX_PROMPT * 2:
        raise InvalidInput("The prompt with persona and style is too long: shorten the prompt.")

    base_seed = seed_for(request.prompt, request.seed)

    def call_for(i: int) -> Any:
        def call(provider: Provider, candidate: Candidate) -> Any:
            return provider.generate(
                GenerateRequest(
                    prompt=prompt,
                    model=candidate.model,
                    width=width,
                    height=height,
                    negative_prompt=negative,
                    aspect_ratio=request.aspect_ratio,
                    style_preset=style,
                    seed=base_seed + i,
                    steps=request.steps,
                    guidance_scale=request.guidance_scale,
                    output_format=request.output_format,
                )
            )

        return call

    units = [
        Unit(index=i, candidates=candidates, call=call_for(i), width=width, height=height)
        for i in range(request.num_variations)
    ]
    wavespeed = sum(1 for _ in units) if candidates[0].provider == "wavespeed" else 0
    details = {
        "applied_prompt": prompt,
        "negative_prompt": negative,
        "width": width,
        "height": height,
        "sized_by": sized_by,
        "style_preset": style,
        "seeds": [base_seed + i for i in range(request.num_variations)],
        "model_chosen_by": chosen.get("chosen_by"),
        "template_id": template.id if template else None,
    }
    return run_operation(
        ports,
        owner,
        operation="generate",
        price=price(request, InputFacts()).price,
        units=units,
        meta=OutputMeta(
            operation="create",
            source="generated",
            output_format=request.output_format,
            inline=request.response_format != "url",
            prompt=prompt,
            metadata={"template_id": template.id if template else None, "seed": base_seed, "style": style},
        ),
        inputs={
            **request.model_dump(mode="json", exclude_none=True),
            "applied_prompt": prompt,
            "width": width,
            "height": height,
        },
        provider=candidates[0].provider,
        model=candidates[0].model,
        quality=str(chosen.get("tier") or chosen.get("quality") or "") or None,
        wavespeed_calls=wavespeed,
        notes=[f"Prompt applied: {prompt}"],
        details=details,
    )


SPEC = register(
    OperationSpec(name="create", request=CreateRequest, run=create, price=price, usage="generate")
)
