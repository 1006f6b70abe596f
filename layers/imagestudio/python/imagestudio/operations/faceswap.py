"""Face Swap Studio: the face shown in a face image put in place of one face of a base image.

Before any credit is reserved, faces are detected in both images (`imaging.faceswap.check_faces`):
no face in the face image, or fewer faces in the base image than `target_index` needs, is a 422
saying what was found. The model's own limits (its largest target_index, its largest image) are
checked at the same time. Then the swap runs as a provider job when the model runs asynchronously
(every WaveSpeed face-swap model does: the request submits, answers 202 and the provider-job state
machine polls and finishes it through the finisher), or inline when the provider answers at once
(the offline provider's real swap).

Consent and abuse: the result records who asked and when (`requested_by`, `requested_at`), which face
image and which base image were used, the model and provider, like every generated image's
provenance (`provider`, `model`, `operation`, `job_id`, `parent_id` on the asset).

Price: the model's catalog price per image (the catalog's `face-swap-price` decision); counted as an
edit. Batch rows: `operation=face-swap` with `asset_id` (the base image), `face_asset_id`, `model`,
`target_index`, ...

Read-only routes (`READS`): face-swap/models?tier= and face-swap/recommend.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from PIL import Image
from pydantic import AliasChoices, BaseModel, Field

from imagestudio import API_PREFIX
from imagestudio.catalog import ModelSpec, get_catalog
from imagestudio.catalog.models import PerImagePrice, usd_to_credits
from imagestudio.errors import InvalidInput, unknown_choice
from imagestudio.imaging.faceswap import MAX_TARGET_INDEX, check_faces, face_crop
from imagestudio.models.records import utcnow
from imagestudio.models.requests import OutputFormat, RequestModel, ResponseFormat
from imagestudio.operations.core import Outcome, OutputMeta, model_unit, run_single_unit
from imagestudio.operations.inputs import InputImage, describe, media_of, png_media, resolve_input_image
from imagestudio.operations.registry import InputFacts, OperationSpec, Quote, Route, register
from imagestudio.ports import Ports
from imagestudio.providers.base import CallResult, FaceSwapRequest, Provider
from imagestudio.providers.registry import Candidate

DEFAULT_MODEL = "image-face-swap"


class FaceSwapStudioRequest(RequestModel):
    """Body of POST face-swap/process. The base image (whose face is replaced) and the face image (the
    face to put there) are each given one way: inline, by asset id or by upload id."""

    image: str | None = Field(
        None,
        validation_alias=AliasChoices("image", "base_image", "base_image_base64"),
        description="The base image inline ('base_image_base64' is accepted too).",
    )
    asset_id: str | None = Field(None, max_length=64, description="Or: the base image from your assets.")
    upload_id: str | None = Field(None, max_length=64, description="Or: the base image from your uploads.")
    face_image: str | None = Field(
        None,
        validation_alias=AliasChoices("face_image", "face_image_base64"),
        description="The face to put in, inline ('face_image_base64' is accepted too).",
    )
    face_asset_id: str | None = Field(None, max_length=64, description="Or: the face image from your assets.")
    face_upload_id: str | None = Field(
        None, max_length=64, description="Or: the face image from your uploads."
    )
    model: str | None = Field(None, max_length=64, description=f"A face-swap model; default {DEFAULT_MODEL}.")
    target_index: int = Field(
        0,
        ge=0,
        le=MAX_TARGET_INDEX,
        validation_alias=AliasChoices("target_index", "target_face_index"),
        description="Which face of the base image to replace: 0 = the largest ('target_face_index' too).",
    )
    target_gender: Literal["all", "female", "male"] | None = Field(
        None, description="Replace only faces of this gender (models that take it)."
    )
    face_enhance: bool = Field(False, description="Ask the model to enhance the swapped face.")
    output_format: OutputFormat = "png"
    response_format: ResponseFormat = "url"


def face_swap_model(model_id: str | None) -> ModelSpec:
    """The catalog model a request names (default image-face-swap); a 422 listing the face-swap models."""
    catalog = get_catalog()
    wanted = model_id or DEFAULT_MODEL
    models = {m.id: m for m in catalog.face_swap_models() if m.provider != "local"}
    try:
        model = catalog.model(wanted, status=422)
    except InvalidInput:  # unknown: name the face-swap models, not every model
        raise unknown_choice("model", wanted, list(models), status=422) from None
    if "face_swap" not in model.features:
        raise unknown_choice("model", wanted, list(models), status=422)
    return model


def model_price(model: ModelSpec) -> tuple[int, Decimal]:
    usd = model.price.unit_usd(None) if isinstance(model.price, PerImagePrice) else Decimal(0)
    return usd_to_credits(usd), usd


def price(request: FaceSwapStudioRequest, facts: InputFacts) -> Quote:
    """The model's catalog price for one image."""
    model = face_swap_model(facts.model or request.model)
    credits, usd = model_price(model)
    return Quote(credits=credits, usd=usd, model=model.id)


def _pixels(image: InputImage) -> Image.Image:
    with Image.open(io.BytesIO(image.image.data)) as im:
        return im.convert("RGB")


def _check_size(model: ModelSpec, image: InputImage, label: str) -> None:
    w, h = image.image.width, image.image.height
    if (model.max_width and w > model.max_width) or (model.max_height and h > model.max_height):
        raise InvalidInput(
            f"{model.name} takes images up to {model.max_width}x{model.max_height} px;"
            f" the {label} is {w}x{h}. Resize it (e.g. with POST compress and max_side) and try again.",
            details={"field": label, "width": w, "height": h, "max_width": model.max_width},
        )


def run(ports: Ports, owner: str, request: FaceSwapStudioRequest) -> Outcome:
    model = face_swap_model(request.model)
    limit = model.limits.get("max_target_index", MAX_TARGET_INDEX)
    max_index = limit if isinstance(limit, int) else MAX_TARGET_INDEX
    base = resolve_input_image(
        ports, owner, image=request.image, asset_id=request.asset_id, upload_id=request.upload_id
    )
    face = resolve_input_image(
        ports,
        owner,
        image=request.face_image,
        asset_id=request.face_asset_id,
        upload_id=request.face_upload_id,
        field="face_image",
    )
    _check_size(model, base, "image")
    _check_size(model, face, "face_image")
    base_pixels = _pixels(base)
    check = check_faces(
        base_pixels, _pixels(face), target_index=request.target_index, max_target_index=max_index
    )

    credits, usd = model_price(model)
    target_face = png_media(face_crop(base_pixels, check.target), "target_face") if check.target else None
    to_provider = FaceSwapRequest(
        image=media_of(base.image, "image"),
        face_image=media_of(face.image, "face_image"),
        model=model.id,
        target_index=request.target_index,
        target_gender=request.target_gender,
        target_face=target_face,
        face_enhance=request.face_enhance,
        output_format=request.output_format,
    )

    def call(provider: Provider, candidate: Candidate) -> CallResult:
        return provider.face_swap(to_provider)

    requested_at = utcnow().isoformat()
    faces = {
        "detector": check.detector,
        "base_faces": len(check.base_faces),
        "face_image_faces": len(check.face_faces),
        "target_face": check.target.__dict__ if check.target else None,
        "checked": not check.skipped,
    }
    meta = OutputMeta(
        operation="face-swap",
        source="face-swapped",
        output_format=request.output_format,
        parent=base.asset,
        inline=request.response_format != "url",
        metadata={
            "requested_by": owner,
            "requested_at": requested_at,
            "face_image_asset_id": face.asset.id if face.asset else None,
            "face_image_source": face.source,
            "target_index": request.target_index,
            "synthetic": "face swap",
        },
    )
    inputs: dict[str, Any] = {
        **request.model_dump(
            mode="json",
            exclude_none=True,
            exclude={"image", "asset_id", "upload_id", "face_image", "face_asset_id", "face_upload_id"},
        ),
        "image": describe(base),
        "face_image": describe(face),
        "parent_asset_id": base.asset.id if base.asset else None,
        "requested_by": owner,
        "requested_at": requested_at,
        "source": "face-swapped",
    }
    details: dict[str, Any] = {
        "model": model.id,
        "provider": model.provider,
        "target_index": request.target_index,
        "faces": faces,
        "requested_by": owner,
        "requested_at": requested_at,
    }
    return run_single_unit(
        ports,
        owner,
        operation="face-swap",
        label="face swap",
        long_job=model.runs_async,
        price=Quote(credits=credits, usd=usd).price,
        # the base image's size: what the swap makes, so an inline answer can be checked up front
        unit=model_unit(model.provider, model.id, call, (base.image.width, base.image.height)),
        meta=meta,
        inputs=inputs,
        provider=model.provider,
        model=model.id,
        notes=list(check.notes),
        details=details,
        wavespeed_calls=1 if model.provider == "wavespeed" else 0,
    )


# --------------------------------------------------------------------------------------- read-only

READS = Router()


def _model_view(model: ModelSpec) -> dict[str, Any]:
    credits, usd = model_price(model)
    max_index = model.limits.get("max_target_index", MAX_TARGET_INDEX)
    max_faces = model.limits.get("max_faces", 1)
    return {
        "id": model.id,
        "name": model.name,
        "description": model.description,
        "provider": model.provider,
        "tier": model.tier,
        "cost": float(usd),
        "price_usd": str(usd),
        "credits": credits,
        "capabilities": list(model.capabilities),
        "features": list(model.features),
        "use_cases": ["group photos"] if "multi_face" in model.features else ["portraits"],
        "max_faces": max_faces if isinstance(max_faces, int) else 1,
        "max_target_index": max_index,
        "max_width": model.max_width,
        "max_height": model.max_height,
        "runs_async": model.runs_async,
    }


def _listed(tier: str | None = None) -> list[ModelSpec]:
    return [
        m
        for m in get_catalog().face_swap_models()
        if m.provider != "local" and (tier is None or m.tier == tier)
    ]


@READS.get(f"{API_PREFIX}/face-swap/models", summary="Face-swap models and prices", tags=["Studios"])
def face_swap_models(tier: Annotated[str | None, Query(max_length=20)] = None) -> dict[str, Any]:
    models = _listed(tier or None)
    return {"models": [_model_view(m) for m in models], "total": len(models), "default": DEFAULT_MODEL}


class Resolution(BaseModel):
    width: int = Field(ge=1, le=100_000)
    height: int = Field(ge=1, le=100_000)


class Preferences(BaseModel):
    prioritize_cost: bool = False
    prioritize_quality: bool = False
    multi_face: bool = False


class RecommendRequest(RequestModel):
    base_image_resolution: Resolution | None = None
    face_image_resolution: Resolution | None = None
    target_index: int = Field(0, ge=0, le=MAX_TARGET_INDEX)
    preferences: Preferences = Preferences()


_TIER_RANK = {"budget": 0, "mid": 1, "premium": 2}


@READS.post(
    f"{API_PREFIX}/face-swap/recommend",
    summary="Recommend a face-swap model",
    description="Among the models that accept the given resolutions and target_index: the cheapest with "
    "prioritize_cost, else the highest tier (then the cheapest).",
    tags=["Studios"],
)
def recommend(request: RecommendRequest) -> dict[str, Any]:
    fits: list[ModelSpec] = []
    refused: list[dict[str, str]] = []
    for model in _listed():
        why = None
        for label, res in (
            ("base image", request.base_image_resolution),
            ("face image", request.face_image_resolution),
        ):
            if res and (
                (model.max_width and res.width > model.max_width)
                or (model.max_height and res.height > model.max_height)
            ):
                why = f"the {label} ({res.width}x{res.height}) is over {model.max_width}x{model.max_height}"
        limit = model.limits.get("max_target_index", MAX_TARGET_INDEX)
        if why is None and isinstance(limit, int) and request.target_index > limit:
            why = f"replaces faces 0 to {limit} only"
        if why is None and request.preferences.multi_face and "multi_face" not in model.features:
            why = "swaps one face at a time"
        if why:
            refused.append({"model": model.id, "reason": why})
        else:
            fits.append(model)
    if not fits:
        raise InvalidInput(
            "No face-swap model accepts this request: "
            + "; ".join(f"{r['model']}: {r['reason']}" for r in refused)
            + ". Use smaller images (at most 2048 px a side).",
            details={"refused": refused},
        )
    if request.preferences.prioritize_cost:
        fits.sort(key=lambda m: (model_price(m)[1], -_TIER_RANK.get(m.tier, 0)))
        reason = "the cheapest model that accepts these images"
    else:
        fits.sort(key=lambda m: (-_TIER_RANK.get(m.tier, 0), model_price(m)[1]))
        reason = "the highest-tier model that accepts these images"
    best = fits[0]
    return {
        "recommended_model": best.id,
        "reason": reason,
        "model": _model_view(best),
        "alternatives": [
            {**_model_view(m), "model_id": m.id, "reason": f"{m.tier} tier, US${model_price(m)[1]} an image"}
            for m in fits[1:]
        ],
        "not_suitable": refused,
    }


SPEC = register(
    OperationSpec(
        name="face-swap",
        request=FaceSwapStudioRequest,
        run=run,
        price=price,
        usage="edit",
        deadline_minutes=30,
        route=Route(
            path="face-swap/process",
            summary="Swap a face",
            description="Faces are checked in both images before any charge (422 with what was found); "
            "WaveSpeed models run as a provider job (202, follow status_url); the offline swap answers "
            "at once.",
        ),
        reads=READS,
    )
)
