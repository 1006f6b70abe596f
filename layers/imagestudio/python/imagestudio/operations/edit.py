"""Edit Studio: the seven edits, each with its inputs checked before a credit is reserved.

- Required inputs come from the catalog's operation (e.g. inpaint needs 'prompt'); images an
  operation does not take are refused, other fields it does not use are ignored and said so.
- A mask is resized to the image when it differs only by scale; another aspect ratio is a 422.
  inpaint sends it to the provider; search_replace, search_recolor and general_edit take it as a
  limit on where the edit may change pixels (Stability's search services take no mask, WaveSpeed's
  edit models ignore one): the provider's result is kept inside the mask, the original outside.
- general_edit without a model: `recommend_edit_model` picks one for the image and the caller's plan;
  the answer says which and why.
- relight runs asynchronously at the provider: the job is opened with its credits reserved, the
  provider job submitted and recorded on the job (running, provider_job_id), and the answer is 202
  with the job's links. Nothing polls inside the request.

"""

from __future__ import annotations

import io
from typing import Any, Literal

from PIL import Image
from pydantic import AliasChoices, Field, model_validator

from imagestudio.catalog import get_catalog
from imagestudio.catalog.edit_recommend import recommend_edit_model
from imagestudio.catalog.models import EditOperationName
from imagestudio.catalog.pricing import resolve_edit_model
from imagestudio.errors import InvalidInput
from imagestudio.imaging.output import open_image
from imagestudio.imaging.verify import VerifiedImage
from imagestudio.models.requests import (
    MAX_PROMPT,
    MAX_SEED,
    OutputFormat,
    RequestModel,
    ResponseFormat,
    apply_options,
)
from imagestudio.models.text import PromptText
from imagestudio.operations.core import Outcome, OutputMeta, model_unit, run_single_unit, settle_inline
from imagestudio.operations.finisher import output_bytes
from imagestudio.operations.inputs import (
    describe,
    given,
    media_of,
    optional_image,
    png_media,
    quoted,
    resolve_input_image,
)
from imagestudio.operations.registry import InputFacts, OperationSpec, Quote, quote_of, register
from imagestudio.ports import Ports
from imagestudio.providers.base import CallResult, Media, Output, Provider, Succeeded
from imagestudio.providers.base import EditRequest as ProviderEditRequest
from imagestudio.providers.registry import Candidate

MAX_EXPAND = 2048  # outpaint: pixels a side may grow by
Priority = Literal["cost", "balanced", "quality"]
LIGHT_DIRECTIONS = ("left", "right", "above", "below")

#: operations where the mask limits the provider's result here, after the call
MASK_LIMITS_RESULT = frozenset({"search_replace", "search_recolor", "general_edit"})
#: fields a provider takes for an operation beyond the catalog's inputs (see providers/stability.py)
PROVIDER_EXTRAS: dict[str, frozenset[str]] = {
    "search_replace": frozenset({"grow_mask"}),
    "search_recolor": frozenset({"grow_mask"}),
    "relight": frozenset({"prompt", "negative_prompt"}),
}
#: the edit fields that belong to some operations only (the rest apply to every edit)
OPERATION_FIELDS = (
    "prompt",
    "negative_prompt",
    "search_prompt",
    "select_prompt",
    "grow_mask",
    "left",
    "right",
    "up",
    "down",
    "creativity",
    "background_prompt",
    "light_source_direction",
    "light_source_strength",
    "preserve_original_subject",
    "original_background_depth",
    "priority",
)
#: the request fields that carry each image (inline, by asset, by upload)
IMAGE_FIELDS: dict[str, tuple[str, str, str]] = {
    "mask": ("mask", "mask_asset_id", "mask_upload_id"),
    "background_image": ("background_image", "background_image_asset_id", "background_image_upload_id"),
    "lighting_image": ("lighting_image", "lighting_image_asset_id", "lighting_image_upload_id"),
}


def _expand(side: str, where: str) -> Any:
    return Field(
        0,
        ge=0,
        le=MAX_EXPAND,
        validation_alias=AliasChoices(side, f"expand_{side}"),
        description=f"outpaint: pixels to add {where} ('expand_{side}' is accepted too).",
    )


def _id_field(description: str) -> Any:
    return Field(None, max_length=64, description=description)


class EditStudioRequest(RequestModel):
    """Body of POST edit/process. Give each image one way: inline, by asset id or by upload id."""

    operation: EditOperationName = Field(description="The edit; GET edit/operations lists their inputs.")
    image: str | None = Field(
        None,
        validation_alias=AliasChoices("image", "image_base64", "subject_image"),
        description="The image inline: base64 or a data URL ('image_base64' is accepted too).",
    )
    asset_id: str | None = _id_field("Or: one of your assets.")
    upload_id: str | None = _id_field("Or: one of your ready uploads.")
    mask: str | None = Field(
        None,
        validation_alias=AliasChoices("mask", "mask_base64"),
        description="White marks where to change (inpaint, search_replace, search_recolor, general_edit); "
        "resized to the image when only the scale differs.",
    )
    mask_asset_id: str | None = _id_field("Or: the mask as one of your assets.")
    mask_upload_id: str | None = _id_field("Or: the mask as one of your ready uploads.")
    background_image: str | None = Field(
        None,
        validation_alias=AliasChoices("background_image", "background_image_base64"),
        description="relight: the new background, inline.",
    )
    background_image_asset_id: str | None = _id_field("Or: the background as one of your assets.")
    background_image_upload_id: str | None = _id_field("Or: the background as one of your ready uploads.")
    lighting_image: str | None = Field(
        None,
        validation_alias=AliasChoices("lighting_image", "lighting_image_base64"),
        description="relight: an image whose lighting to match, inline.",
    )
    lighting_image_asset_id: str | None = _id_field("Or: the lighting image as one of your assets.")
    lighting_image_upload_id: str | None = _id_field("Or: the lighting image as one of your ready uploads.")
    prompt: PromptText | None = Field(None, max_length=MAX_PROMPT)
    negative_prompt: PromptText | None = Field(None, max_length=MAX_PROMPT)
    search_prompt: PromptText | None = Field(
        None, max_length=MAX_PROMPT, description="search_replace: what to find."
    )
    select_prompt: PromptText | None = Field(
        None, max_length=MAX_PROMPT, description="search_recolor: what to recolour."
    )
    grow_mask: int | None = Field(None, ge=0, le=100, description="Pixels to grow the mask's edges by.")
    left: int = _expand("left", "on the left")
    right: int = _expand("right", "on the right")
    up: int = _expand("up", "at the top")
    down: int = _expand("down", "at the bottom")
    creativity: float | None = Field(None, ge=0, le=1, description="outpaint: how freely to invent.")
    background_prompt: PromptText | None = Field(
        None, max_length=MAX_PROMPT, description="relight: the background."
    )
    light_source_direction: Literal["left", "right", "above", "below"] | None = None
    light_source_strength: float | None = Field(None, ge=0, le=1)
    preserve_original_subject: float | None = Field(None, ge=0, le=1)
    original_background_depth: float | None = Field(None, ge=0, le=1)
    model: str | None = Field(
        None, max_length=100, description="Edit model id; general_edit picks one for you without it."
    )
    priority: Priority = Field(
        "cost", description="general_edit without a model: what the recommendation favours."
    )
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    provider: str | None = Field(
        None,
        max_length=40,
        description="The model's provider (the original client sends it with a model): checked against "
        "the model that runs.",
    )
    output_format: OutputFormat = "png"
    response_format: ResponseFormat = "url"
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="The original client's extra parameters: each entry naming a field of this request "
        "is applied as that field; any other is refused by name.",
    )

    @model_validator(mode="before")
    @classmethod
    def _options(cls, data: Any) -> Any:
        return apply_options(cls, data)


def same_aspect(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two sizes differ only by scale (within a pixel of rounding)."""
    return abs(a[0] * b[1] - a[1] * b[0]) <= max(a[0], a[1], b[0], b[1])


def fit_mask(mask: VerifiedImage, image: VerifiedImage) -> tuple[Image.Image, list[str]]:
    """The mask as L at the image's size; resized when only the scale differs, else a 422."""
    size, mask_size = (image.width, image.height), (mask.width, mask.height)
    if not same_aspect(mask_size, size):
        raise InvalidInput(
            f"The mask is {mask.width}x{mask.height} but the image is {image.width}x{image.height}: "
            "a mask must have the image's aspect ratio (one of the same shape at another scale is "
            "resized to the image).",
            details={"field": "mask", "mask_size": list(mask_size), "image_size": list(size)},
        )
    grey = open_image(mask.data).convert("L")
    notes = []
    if mask_size != size:
        grey = grey.resize(size, Image.Resampling.BILINEAR)
        notes.append(f"The mask was resized from {mask.width}x{mask.height} to {image.width}x{image.height}.")
    return grey, notes


def keep_inside(original: bytes, edited: bytes, mask: Image.Image) -> bytes:
    """The edited image where the mask is white, the original elsewhere (PNG, at the original's size)."""
    base = open_image(original)
    result = open_image(edited)
    mode = "RGBA" if "A" in base.getbands() or "A" in result.getbands() else "RGB"
    base, result = base.convert(mode), result.convert(mode)
    if result.size != base.size:
        result = result.resize(base.size, Image.Resampling.LANCZOS)
    merged = Image.composite(result, base, mask.resize(base.size, Image.Resampling.BILINEAR))
    out = io.BytesIO()
    merged.save(out, "PNG")
    return out.getvalue()


# ----------------------------------------------------------------------------- the edit


def _set(value: object) -> bool:
    """A field the user filled: a non-blank text or a non-zero number."""
    return given(value) and value != 0


def _check_inputs(request: EditStudioRequest, images_given: dict[str, bool]) -> list[str]:
    """Per-operation checks that need no image: required inputs, groups, images not taken.
    Returns the fields that will be ignored."""
    catalog = get_catalog()
    op = catalog.edit_operation(request.operation, status=422)
    inputs = {("image" if i.name == "subject_image" else i.name): i for i in op.inputs}
    missing = [
        name
        for name, spec in inputs.items()
        if spec.required and spec.type == "string" and not given(getattr(request, name))
    ]
    if missing:
        what = "; ".join(f"'{n}': {inputs[n].description}" for n in missing)
        raise InvalidInput(
            f"{op.id} needs {quoted(missing)} ({what})",
            details={"field": missing[0], "missing": missing, "operation": op.id},
        )
    for group in op.requires_one_of:
        if not any(images_given.get(n) or _set(getattr(request, n, None)) for n in group):
            raise InvalidInput(
                f"{op.id} needs at least one of {quoted(group, 'or')}"
                + (" above 0 (pixels to add on that side)." if op.id == "outpaint" else "."),
                details={"field": group[0], "requires_one_of": group, "operation": op.id},
            )
    if op.id == "relight":
        if not given(request.background_prompt) and not images_given["background_image"]:
            raise InvalidInput(
                "relight needs 'background_prompt' or a background image (a lighting image alone is not "
                "enough: the provider replaces the background and needs to know with what).",
                details={"field": "background_prompt", "operation": op.id},
            )
        if request.light_source_strength is not None and not (
            request.light_source_direction or images_given["lighting_image"]
        ):
            raise InvalidInput(
                "relight uses 'light_source_strength' only with 'light_source_direction' or a "
                "lighting image.",
                details={"field": "light_source_strength", "operation": op.id},
            )
    if op.id == "remove_background" and request.output_format == "jpeg":
        raise InvalidInput(
            "remove_background makes a transparent image: ask for png or webp (jpeg has no transparency).",
            details={"field": "output_format", "valid_choices": ["png", "webp"]},
        )
    refused = [n for n, g in images_given.items() if g and n not in inputs]
    if refused:
        raise InvalidInput(
            f"{op.id} takes no {quoted(refused)}; leave {'it' if len(refused) == 1 else 'them'} out.",
            details={"field": refused[0], "operation": op.id},
        )
    allowed = set(inputs) | PROVIDER_EXTRAS.get(op.id, frozenset())
    if op.id == "general_edit":
        allowed.add("priority")
    return [
        n
        for n in OPERATION_FIELDS
        if n in request.model_fields_set and n not in allowed and _set(getattr(request, n))
    ]


def _provider_request(
    request: EditStudioRequest,
    ignored: list[str],
    image: Media,
    model: str,
    *,
    mask: Media | None,
    background: Media | None,
    lighting: Media | None,
) -> ProviderEditRequest:
    def value(name: str) -> Any:
        return None if name in ignored else getattr(request, name)

    return ProviderEditRequest(
        operation=request.operation,
        image=image,
        model=model,
        prompt=value("prompt"),
        negative_prompt=value("negative_prompt"),
        mask=mask,
        search_prompt=value("search_prompt"),
        select_prompt=value("select_prompt"),
        grow_mask=value("grow_mask"),
        left=request.left if request.operation == "outpaint" else 0,
        right=request.right if request.operation == "outpaint" else 0,
        up=request.up if request.operation == "outpaint" else 0,
        down=request.down if request.operation == "outpaint" else 0,
        creativity=value("creativity"),
        background_prompt=value("background_prompt"),
        background_image=background,
        lighting_image=lighting,
        light_source_direction=value("light_source_direction"),
        light_source_strength=value("light_source_strength"),
        preserve_original_subject=value("preserve_original_subject"),
        original_background_depth=value("original_background_depth"),
        seed=request.seed,
        output_format=request.output_format,
    )


def _choose_model(
    ports: Ports, owner: str, request: EditStudioRequest, width: int, height: int
) -> tuple[str, str, list[str], dict[str, Any]]:
    """(model id, how it was chosen, notes, details)."""
    if request.operation == "general_edit" and not request.model:
        plan = ports.ledger.account(owner).plan
        rec = recommend_edit_model("general_edit", width, height, request.priority, plan)
        why = {
            "model": rec.recommended_model,
            "name": rec.best.name,
            "provider": rec.best.provider,
            "reason": rec.reason,
            "priority": rec.priority,
            "plan": rec.plan,
            "alternatives": [
                {"model": a.model_id, "usd": str(a.usd), "reasons": a.reasons} for a in rec.alternatives
            ],
        }
        note = (
            f"No model was given, so {rec.best.name} ({rec.recommended_model}) was chosen for a "
            f"{width}x{height} image on the {rec.plan} plan, favouring {rec.priority}: {rec.reason}."
        )
        return rec.recommended_model, "recommendation", [note], {"recommendation": why}
    spec, notes = resolve_edit_model(request.operation, request.model, width, height)
    return spec.id, ("request" if request.model else "default"), notes, {}


def price(request: EditStudioRequest, facts: InputFacts) -> Quote:
    """Priced by the model that runs (the request's, the recommendation, else the catalog default)
    and the image's size."""
    body = {
        "operation": "edit",
        "edit_operation": request.operation,
        "model": facts.model or request.model,
        "width": facts.width,
        "height": facts.height,
    }
    return quote_of(body)


def edit(ports: Ports, owner: str, request: EditStudioRequest) -> Outcome:
    catalog = get_catalog()
    op = request.operation
    images_given = {
        label: any(given(getattr(request, n)) for n in names) for label, names in IMAGE_FIELDS.items()
    }
    ignored = _check_inputs(request, images_given)
    notes: list[str] = []
    if ignored:
        notes.append(f"{op} does not use {quoted(ignored)}; ignored.")

    source = resolve_input_image(
        ports, owner, image=request.image, asset_id=request.asset_id, upload_id=request.upload_id
    )
    image = source.image
    extra_images = {
        label: optional_image(
            ports,
            owner,
            label.replace("_", " "),
            inline=getattr(request, names[0]),
            asset_id=getattr(request, names[1]),
            upload_id=getattr(request, names[2]),
            names=names,
        )
        for label, names in IMAGE_FIELDS.items()
    }
    mask_image: Image.Image | None = None
    if extra_images["mask"] is not None:
        mask_image, mask_notes = fit_mask(extra_images["mask"].image, image)
        notes += mask_notes

    model_id, chosen_by, model_notes, details = _choose_model(
        ports, owner, request, image.width, image.height
    )
    notes += model_notes
    spec = catalog.model(model_id)
    if request.provider and request.provider != spec.provider:
        raise InvalidInput(
            f"provider '{request.provider}' does not serve {spec.id} ({spec.provider} does): give the "
            "model's provider or leave provider out.",
            details={"field": "provider", "model": spec.id, "valid_choices": [spec.provider]},
        )
    cost = price(request, InputFacts(width=image.width, height=image.height, model=model_id)).price
    width, height = image.width, image.height
    if op == "outpaint":
        width, height = width + request.left + request.right, height + request.up + request.down

    media = media_of(image, "image")
    background = extra_images["background_image"]
    lighting = extra_images["lighting_image"]
    to_provider = _provider_request(
        request,
        ignored,
        media,
        model_id,
        mask=png_media(mask_image, "mask")
        if mask_image is not None and op not in MASK_LIMITS_RESULT
        else None,
        background=media_of(background.image, "background") if background else None,
        lighting=media_of(lighting.image, "lighting") if lighting else None,
    )
    limit = mask_image if op in MASK_LIMITS_RESULT else None

    def call(provider: Provider, candidate: Candidate) -> CallResult:
        answer = provider.edit(to_provider)
        if limit is None:
            return answer
        settled = settle_inline(provider, answer)
        outputs = [
            Output(
                mime="image/png",
                data=keep_inside(image.data, output_bytes(provider.name, o), limit),
                width=image.width,
                height=image.height,
                seed=o.seed,
                extra={**o.extra, "limited_to_mask": True},
            )
            for o in settled.outputs
        ]
        return Succeeded(outputs=outputs, provider_job_id=settled.provider_job_id, cost_usd=settled.cost_usd)

    unit = model_unit(spec.provider, spec.id, call, (width, height))
    meta = OutputMeta(
        operation="edit",
        source="edited",
        output_format=request.output_format,
        inline=request.response_format != "url",
        prompt=(None if "prompt" in ignored else request.prompt) or request.background_prompt,
        parent=source.asset,
        metadata={"edit_operation": op, "seed": request.seed},
    )
    inputs: dict[str, Any] = {
        **request.model_dump(
            mode="json",
            exclude_none=True,
            exclude={
                "image",
                "asset_id",
                "upload_id",
                *(n for names in IMAGE_FIELDS.values() for n in names),
            },
        ),
        "edit_operation": op,
        "image": describe(source),
        **{label: describe(found) for label, found in extra_images.items() if found is not None},
        "output_width": width,
        "output_height": height,
        "parent_asset_id": source.asset.id if source.asset else None,
        "source": "edited",
    }
    details.update(
        edit_operation=op,
        model=model_id,
        model_chosen_by=chosen_by,
        input={"width": image.width, "height": image.height, "source": source.source},
        output_size={"width": width, "height": height},
    )
    if ignored:
        details["ignored"] = ignored
    wavespeed = 1 if spec.provider == "wavespeed" else 0
    operation_kind = catalog.edit_operation(op)
    return run_single_unit(
        ports,
        owner,
        operation="edit",
        label=op,
        long_job=operation_kind.runs_async or spec.runs_async,
        price=cost,
        unit=unit,
        meta=meta,
        inputs=inputs,
        provider=spec.provider,
        model=spec.id,
        notes=notes,
        details=details,
        wavespeed_calls=wavespeed,
    )


SPEC = register(
    OperationSpec(
        name="edit",
        request=EditStudioRequest,
        run=edit,
        price=price,
        usage="edit",
        batch_columns={"edit_operation": "operation"},
    )
)
