"""Catalog routes: read-only lookups (`catalog_router`) and cost/model advice (`estimate_router`).

Everything answers from `imagestudio.catalog`; no route touches storage or a provider. Unknown ids in
a path answer 404 and unknown values in a query or body answer 422, both naming the valid choices.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, Field

from imagestudio import API_PREFIX
from imagestudio.catalog import get_catalog
from imagestudio.catalog.edit_recommend import EditRecommendation, EditRecommendRequest, recommend_edit_model
from imagestudio.catalog.models import (
    CAPABILITIES,
    CATEGORIES,
    EDIT_OPERATIONS,
    MODEL_TIERS,
    EditOperation,
    ModelSpec,
    ModelTier,
    Money,
    PlatformSpecs,
    Price,
    QualityTier,
    Size,
    SocialFormat,
    Template,
    usd_to_credits,
)
from imagestudio.catalog.pricing import Estimate, EstimateRequest, estimate
from imagestudio.catalog.search import MAX_LIMIT, TemplateMatch, recommend_templates, search_templates

catalog_router = Router()
estimate_router = Router()

_PLATFORMS = ", ".join(get_catalog().platform_names())
_CATEGORIES = ", ".join(CATEGORIES)
_OPERATIONS = ", ".join(EDIT_OPERATIONS)
_TIERS = ", ".join(t for t in MODEL_TIERS if t != "free")


# --- response models ---------------------------------------------------------------------------


class TemplateList(BaseModel):
    templates: list[Template]
    total: int


class TemplateSearchResults(BaseModel):
    query: str
    results: list[TemplateMatch] = Field(description="Best match first.")
    total: int


class TemplateRecommendations(BaseModel):
    use_case: str
    platform: str | None
    results: list[TemplateMatch] = Field(description="Most relevant first.")
    total: int


class ProviderInfo(BaseModel):
    name: str
    display_name: str
    description: str
    capabilities: list[str] = Field(description="Exactly the capabilities of its models.")
    features: list[str]
    free_tier: bool
    offline: bool
    base_url: str | None
    auth: str
    max_file_mb: int | None
    rate_limit: str | None
    async_results: str | None
    price_note: str
    max_side: int | None = Field(description="Largest image side any of its models accepts.")
    default_models: dict[str, str]
    models: list[ModelSpec]


class ProviderList(BaseModel):
    providers: list[ProviderInfo]
    quality_tiers: list[QualityTier]
    total: int


class PlatformSpec(BaseModel):
    platform: str
    display_name: str
    kind: str
    specs: PlatformSpecs
    formats: list[SocialFormat]
    templates: list[str] = Field(description="Template ids for this platform.")


class PlatformFormats(BaseModel):
    platform: str
    display_name: str
    default_format: str = Field(description="Used when a request names no format for this platform.")
    formats: list[SocialFormat]


class EditOperationInfo(EditOperation):
    models: list[str] = Field(description="Edit models that can run this operation.")
    providers: list[str]


class EditOperationList(BaseModel):
    operations: list[EditOperationInfo]
    total: int


class EditModelInfo(BaseModel):
    id: str
    name: str
    provider: str
    description: str
    tier: ModelTier
    usd: Money = Field(description="Price of one edit (the default variant for ranged prices).")
    credits: int
    price: Price
    max_resolution: Size | None
    max_side: int | None
    operations: list[str]
    features: list[str]
    max_input_images: int | None
    runs_async: bool
    endpoint: str
    assumed: list[str]


class EditModelList(BaseModel):
    models: list[EditModelInfo]
    total: int


def _edit_model_info(model: ModelSpec) -> EditModelInfo:
    size = (
        Size(width=model.max_width, height=model.max_height)
        if model.max_width is not None and model.max_height is not None
        else None
    )
    usd = model.typical_usd()
    return EditModelInfo(
        id=model.id,
        name=model.name,
        provider=model.provider,
        description=model.description,
        tier=model.tier,
        usd=usd,
        credits=usd_to_credits(usd),
        price=model.price,
        max_resolution=size,
        max_side=model.max_side,
        operations=list(model.edit_operations),
        features=model.features,
        max_input_images=model.max_input_images,
        runs_async=model.runs_async,
        endpoint=model.endpoint_for("edit"),
        assumed=model.assumed,
    )


# --- catalog_router ----------------------------------------------------------------------------


@catalog_router.get(
    f"{API_PREFIX}/templates",
    summary="List platform templates",
    description="The 26 Create Studio templates (size, ratio, style, quality, recommended model), "
    "optionally filtered by platform and/or category.",
    tags=["Templates"],
)
def list_templates(
    platform: Annotated[str | None, Query(description=f"One of: {_PLATFORMS}.")] = None,
    category: Annotated[str | None, Query(description=f"One of: {_CATEGORIES}.")] = None,
) -> TemplateList:
    templates = get_catalog().templates(platform=platform, category=category)
    return TemplateList(templates=templates, total=len(templates))


@catalog_router.get(
    f"{API_PREFIX}/templates/search",
    summary="Search templates",
    description="Ranked full-text search over template ids, names, use cases, descriptions, platforms "
    "and categories (case-insensitive, plurals and prefixes match). Each result has a score and reasons.",
    tags=["Templates"],
)
def search_templates_route(
    query: Annotated[
        str, Query(min_length=1, max_length=200, description="Words to look for, e.g. 'product'.")
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Maximum results.")] = 10,
) -> TemplateSearchResults:
    results = search_templates(query, limit)
    return TemplateSearchResults(query=query, results=results, total=len(results))


@catalog_router.get(
    f"{API_PREFIX}/templates/recommend",
    summary="Recommend templates for a use case",
    description="Templates ranked by how well their use cases (then names and descriptions) fit the "
    "given use case, optionally on one platform.",
    tags=["Templates"],
)
def recommend_templates_route(
    use_case: Annotated[
        str, Query(min_length=1, max_length=200, description="What the image is for, e.g. 'product launch'.")
    ],
    platform: Annotated[str | None, Query(description=f"Only this platform; one of: {_PLATFORMS}.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Maximum results.")] = 5,
) -> TemplateRecommendations:
    results = recommend_templates(use_case, platform, limit)
    name = get_catalog().platform(platform, status=422).name if platform else None
    return TemplateRecommendations(use_case=use_case, platform=name, results=results, total=len(results))


@catalog_router.get(
    f"{API_PREFIX}/providers",
    summary="List providers and their models",
    description="Every provider (stability, wavespeed, huggingface, gemini, local) with its capabilities, "
    "limits and models, each model with its price, tier, resolution limits and endpoint; plus the "
    "quality tiers.",
    tags=["Providers"],
)
def list_providers() -> ProviderList:
    cat = get_catalog()
    infos = []
    for provider in cat.providers():
        models = cat.provider_models(provider.name)
        sides = [m.max_side for m in models if m.max_side is not None]
        capabilities = [c for c in CAPABILITIES if any(m.supports(c) for m in models)]
        infos.append(
            ProviderInfo(
                name=provider.name,
                display_name=provider.display_name,
                description=provider.description,
                capabilities=capabilities,
                features=provider.features,
                free_tier=provider.free_tier,
                offline=provider.offline,
                base_url=provider.base_url,
                auth=provider.auth,
                max_file_mb=provider.max_file_mb,
                rate_limit=provider.rate_limit,
                async_results=provider.async_results,
                price_note=provider.price_note,
                max_side=max(sides) if sides else None,
                default_models=dict(provider.default_models),
                models=models,
            )
        )
    return ProviderList(providers=infos, quality_tiers=cat.quality_tiers(), total=len(infos))


@catalog_router.get(
    f"{API_PREFIX}/platform-specs/<platform>",
    summary="Platform specifications",
    description="Upload limits, file types, formats (with safe zones) and template ids for one platform.",
    tags=["Platforms"],
)
def platform_specs(platform: Annotated[str, Path(description=f"One of: {_PLATFORMS}.")]) -> PlatformSpec:
    cat = get_catalog()
    found = cat.platform(platform)
    return PlatformSpec(
        platform=found.name,
        display_name=found.display_name,
        kind=found.kind,
        specs=found.specs,
        formats=found.formats,
        templates=[t.id for t in cat.templates(platform=found.name)],
    )


@catalog_router.get(
    f"{API_PREFIX}/social/platforms/<platform>/formats",
    summary="Social Optimizer formats for a platform",
    description="Output formats (size, ratio, safe-zone fractions) the Social Optimizer can produce for one "
    "platform; the first is the default.",
    tags=["Platforms"],
)
def platform_formats(platform: Annotated[str, Path(description=f"One of: {_PLATFORMS}.")]) -> PlatformFormats:
    found = get_catalog().platform(platform)
    return PlatformFormats(
        platform=found.name,
        display_name=found.display_name,
        default_format=found.formats[0].name,
        formats=found.formats,
    )


@catalog_router.get(
    f"{API_PREFIX}/edit/operations",
    summary="List edit operations",
    description="The seven Edit Studio operations with their inputs (required, optional, defaults), "
    "default model, the models that can run them and whether they run as a job.",
    tags=["Edit"],
)
def list_edit_operations() -> EditOperationList:
    cat = get_catalog()
    infos = []
    for op in cat.edit_operations():
        models = cat.edit_models(op.id)
        infos.append(
            EditOperationInfo(
                **op.model_dump(),
                models=[m.id for m in models],
                providers=sorted({m.provider for m in models}),
            )
        )
    return EditOperationList(operations=infos, total=len(infos))


@catalog_router.get(
    f"{API_PREFIX}/edit/models",
    summary="List edit models",
    description="Edit models with price, tier, maximum resolution, operations and features, optionally "
    "filtered by operation and/or tier.",
    tags=["Edit"],
)
def list_edit_models(
    operation: Annotated[str | None, Query(description=f"One of: {_OPERATIONS}.")] = None,
    tier: Annotated[str | None, Query(description=f"One of: {_TIERS}.")] = None,
) -> EditModelList:
    models = [_edit_model_info(m) for m in get_catalog().edit_models(operation=operation, tier=tier)]
    return EditModelList(models=models, total=len(models))


# --- estimate_router ---------------------------------------------------------------------------


@estimate_router.post(
    f"{API_PREFIX}/estimate-cost",
    summary="Estimate the cost of an operation",
    description="Prices one request before it runs: generate/create, edit, upscale, control, image-to-video, "
    "talking-avatar or image-to-3d (field 'operation'). Answers the provider and model that would be used, "
    "the US$ total (decimal string), credits (ceil(US$ x 100)) and a per-unit breakdown.",
    tags=["Estimates"],
)
def estimate_cost(request: Annotated[EstimateRequest, Body(description="What to price.")]) -> Estimate:
    return estimate(request)


@estimate_router.post(
    f"{API_PREFIX}/edit/recommend",
    summary="Recommend an edit model",
    description="Picks the best edit model for an operation and image size, weighing cost, quality and plan "
    "by the given priority (balanced, cost or quality); returns up to 3 alternatives with reasons and "
    "the models excluded because the image is too large for them.",
    tags=["Edit"],
)
def recommend_edit(request: EditRecommendRequest) -> EditRecommendation:
    return recommend_edit_model(
        request.operation, request.width, request.height, request.priority, request.plan
    )


__all__ = ["catalog_router", "estimate_router"]
