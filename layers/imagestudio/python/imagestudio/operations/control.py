"""Control Studio: sketch, structure, style and style_transfer (Stability control services).

Strengths are 0..1 (checked by the request model); the catalog's defaults fill the ones left out
and every strength used is recorded on the output asset. style_transfer needs a style image besides
the content image. Outputs keep the input's size (style makes its own at the aspect ratio asked).
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field

from imagestudio.catalog import get_catalog
from imagestudio.catalog.models import ControlOperationName
from imagestudio.errors import InvalidInput
from imagestudio.models.requests import MAX_PROMPT, MAX_SEED, OutputFormat, RequestModel, ResponseFormat
from imagestudio.models.text import PromptText
from imagestudio.operations.core import Outcome, OutputMeta, model_unit, run_operation
from imagestudio.operations.inputs import (
    describe,
    given,
    media_of,
    optional_image,
    quoted,
    resolve_input_image,
)
from imagestudio.operations.registry import InputFacts, OperationSpec, Quote, quote_of, register
from imagestudio.ports import Ports
from imagestudio.providers.base import CallResult, ControlRequest, Provider
from imagestudio.providers.registry import Candidate

STRENGTHS = ("control_strength", "fidelity", "style_strength", "composition_fidelity", "change_strength")
STYLE_IMAGE_FIELDS = ("style_image", "style_image_asset_id", "style_image_upload_id")


def _strength(description: str) -> Any:
    return Field(None, ge=0, le=1, description=description)


class ControlStudioRequest(RequestModel):
    """Body of POST control. Give each image one way: inline, by asset id or by upload id."""

    operation: ControlOperationName
    image: str | None = Field(
        None,
        validation_alias=AliasChoices("image", "image_base64", "control_image_base64", "init_image"),
        description="The sketch, structure or style reference, or style_transfer's content image: base64 or "
        "a data URL ('control_image_base64', the original client's name, is accepted too).",
    )
    asset_id: str | None = Field(None, max_length=64, description="Or: one of your assets.")
    upload_id: str | None = Field(None, max_length=64, description="Or: one of your ready uploads.")
    style_image: str | None = Field(
        None,
        validation_alias=AliasChoices("style_image", "style_image_base64"),
        description="style_transfer: the style, inline.",
    )
    style_image_asset_id: str | None = Field(None, max_length=64, description="Or: the style as an asset.")
    style_image_upload_id: str | None = Field(None, max_length=64, description="Or: the style as an upload.")
    prompt: PromptText | None = Field(None, max_length=MAX_PROMPT)
    negative_prompt: PromptText | None = Field(None, max_length=MAX_PROMPT)
    control_strength: float | None = _strength("sketch/structure: how strictly the input is followed (0.7).")
    fidelity: float | None = _strength("style: how closely the reference style is matched (0.5).")
    style_strength: float | None = _strength("style_transfer: how strongly the style is applied (1.0).")
    composition_fidelity: float | None = _strength("style_transfer: how much composition is kept (0.9).")
    change_strength: float | None = _strength("style_transfer: how much the content may change (0.9).")
    aspect_ratio: str | None = Field(
        None, max_length=10, description="style: the output's aspect ratio (1:1)."
    )
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    output_format: OutputFormat = "png"
    response_format: ResponseFormat = "url"


def price(request: ControlStudioRequest, facts: InputFacts) -> Quote:
    return quote_of({"operation": "control", "control_operation": request.operation})


def control(ports: Ports, owner: str, request: ControlStudioRequest) -> Outcome:
    catalog = get_catalog()
    op = catalog.control_operation(request.operation)
    inputs_spec = {("image" if i.name == "init_image" else i.name): i for i in op.inputs}
    missing = [
        n
        for n, s in inputs_spec.items()
        if s.required and s.type == "string" and not given(getattr(request, n))
    ]
    style_given = any(given(getattr(request, n)) for n in STYLE_IMAGE_FIELDS)
    if "style_image" in inputs_spec and not style_given:
        missing.append("style_image")
    if missing:
        what = "; ".join(f"'{n}': {inputs_spec[n].description}" for n in missing)
        raise InvalidInput(
            f"{op.id} needs {quoted(missing)} ({what})",
            details={"field": missing[0], "missing": missing, "operation": op.id},
        )
    if style_given and "style_image" not in inputs_spec:
        raise InvalidInput(
            f"{op.id} takes no style image; leave it out "
            "(style_transfer applies one image's style to another).",
            details={"field": "style_image", "operation": op.id},
        )
    aspect = inputs_spec.get("aspect_ratio")
    if request.aspect_ratio is not None:
        if aspect is None:
            raise InvalidInput(
                f"{op.id} makes an image the size of its input; 'aspect_ratio' applies to style only.",
                details={"field": "aspect_ratio", "operation": op.id},
            )
        if aspect.choices and request.aspect_ratio not in aspect.choices:
            raise InvalidInput(
                f"Unknown aspect_ratio '{request.aspect_ratio}' for style. "
                f"Valid: {', '.join(aspect.choices)}.",
                details={"field": "aspect_ratio", "valid_choices": aspect.choices},
            )
    notes: list[str] = []
    ignored = [s for s in STRENGTHS if getattr(request, s) is not None and s not in inputs_spec]
    if ignored:
        notes.append(f"{op.id} does not use {quoted(ignored)}; ignored.")
    strengths: dict[str, Any] = {
        s: getattr(request, s) if getattr(request, s) is not None else inputs_spec[s].default
        for s in STRENGTHS
        if s in inputs_spec
    }

    source = resolve_input_image(
        ports, owner, image=request.image, asset_id=request.asset_id, upload_id=request.upload_id
    )
    style = optional_image(
        ports,
        owner,
        "style image",
        inline=request.style_image,
        asset_id=request.style_image_asset_id,
        upload_id=request.style_image_upload_id,
        names=STYLE_IMAGE_FIELDS,
    )
    spec = catalog.model(op.model)
    w, h = source.image.width, source.image.height
    problem = spec.fit_problem(w, h)
    if problem:
        raise InvalidInput(
            f"{op.id} cannot take a {w}x{h} image: {problem}.",
            details={"field": "image", "width": w, "height": h},
        )
    size = None if op.id == "style" else (w, h)
    to_provider = ControlRequest(
        operation=op.id,
        image=media_of(source.image, "image"),
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        style_image=media_of(style.image, "style") if style else None,
        control_strength=strengths.get("control_strength"),
        fidelity=strengths.get("fidelity"),
        style_strength=strengths.get("style_strength"),
        composition_fidelity=strengths.get("composition_fidelity"),
        change_strength=strengths.get("change_strength"),
        aspect_ratio=(request.aspect_ratio or (str(aspect.default) if aspect and aspect.default else None))
        if aspect
        else None,
        seed=request.seed,
        output_format=request.output_format,
    )

    def call(provider: Provider, candidate: Candidate) -> CallResult:
        return provider.control(to_provider)

    unit = model_unit(spec.provider, spec.id, call, size)
    details: dict[str, Any] = {
        "control_operation": op.id,
        "strengths": strengths,
        "input": {"width": w, "height": h, "source": source.source},
        "aspect_ratio": to_provider.aspect_ratio,
    }
    return run_operation(
        ports,
        owner,
        operation="control",
        price=price(request, InputFacts(width=w, height=h)).price,
        units=[unit],
        meta=OutputMeta(
            operation="control",
            source="controlled",
            output_format=request.output_format,
            inline=request.response_format != "url",
            prompt=request.prompt,
            parent=source.asset,
            metadata={
                "control_operation": op.id,
                **strengths,
                "aspect_ratio": to_provider.aspect_ratio,
                "seed": request.seed,
                "style_asset_id": style.asset.id if style and style.asset else None,
            },
        ),
        inputs={
            **request.model_dump(
                mode="json",
                exclude_none=True,
                exclude={"image", "asset_id", "upload_id", *STYLE_IMAGE_FIELDS},
            ),
            "image": describe(source),
            **({"style_image": describe(style)} if style else {}),
            "strengths": strengths,
            "parent_asset_id": source.asset.id if source.asset else None,
            "source": "controlled",
        },
        provider=spec.provider,
        model=spec.id,
        notes=notes,
        details=details,
    )


SPEC = register(
    OperationSpec(
        name="control",
        request=ControlStudioRequest,
        run=control,
        price=price,
        usage="control",
        batch_columns={"control_operation": "operation"},
    )
)
