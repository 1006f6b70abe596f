"""Catalog routes: read-only lookups (`catalog_router`) and cost/model advice (`estimate_router`).

Everything answers from `imagestudio.catalog`; no route touches storage or a provider. Unknown ids in
a path answer 404 and unknown values in a query or body answer 422, both naming the valid choices.

The paths are the original Image Studio's and answer in its shape (docs/frontend-compat.md): keyed
objects for providers, edit and control operations, `aspect_ratio` objects, prices as numbers. Where
the original's shape and ours conflict (a keyed object vs a list), `?view=full` answers our list.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, Field

from imagestudio import API_PREFIX
from imagestudio.api.original_views import (
    VIEW_DESCRIPTION,
    ControlOperationEntry,
    CostEstimate,
    EditFields,
    ProviderSummary,
    SocialFormatView,
    TemplateView,
    View,
    control_operation_entry,
    cost_8k,
    cost_estimate,
    edit_fields,
    max_resolution,
    model_cost,
    provider_summary,
    social_format_view,
    supports_controlnet,
    supports_multi_image,
    template_view,
    use_cases,
)
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
    usd_to_credits,
)
from imagestudio.catalog.pricing import EstimateRequest, estimate
from imagestudio.catalog.search import MAX_LIMIT, TemplateMatch, recommend_templates, search_templates

catalog_router = Router()
estimate_router = Router()

_PLATFORMS = ", ".join(get_catalog().platform_names())
_CATEGORIES = ", ".join(CATEGORIES)
_OPERATIONS = ", ".join(EDIT_OPERATIONS)
_TIERS = ", ".join(t for t in MODEL_TIERS if t != "free")


# --- response models ---------------------------------------------------------------------------


class TemplateList(BaseModel):
    templates: list[TemplateView]
    total: int


class TemplateMatchView(BaseModel):
    template: TemplateView
    score: float = Field(description="Relevance; higher is better. Comparable within one answer only.")
    matched_terms: list[str] = Field(description="Query words that matched, as typed (lower-cased).")
    reasons: list[str] = Field(description="Why this template matched.")


def _match_views(matches: list[TemplateMatch]) -> list[TemplateMatchView]:
    return [TemplateMatchView(**{**m.model_dump(), "template": template_view(m.template)}) for m in matches]


class TemplateSearchResults(BaseModel):
    query: str
    templates: list[TemplateView] = Field(description="The matching templates, best first (the original's).")
    results: list[TemplateMatchView] = Field(description="Best match first, with score and reasons.")
    total: int


class TemplateRecommendations(BaseModel):
    use_case: str
    platform: str | None
    templates: list[TemplateView] = Field(
        description="The recommended templates, best first (the original's)."
    )
    results: list[TemplateMatchView] = Field(description="Most relevant first, with score and reasons.")
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
    """`?view=full`: every provider with all its models and prices."""

    providers: list[ProviderInfo]
    quality_tiers: list[QualityTier]
    total: int


class ProviderMap(BaseModel):
    """The original's shape: providers keyed by id."""

    providers: dict[str, ProviderSummary] = Field(description="Keyed by provider id, in catalog order.")
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
    formats: list[SocialFormatView]


class EditOperationInfo(EditOperation):
    models: list[str] = Field(description="Edit models that can run this operation.")
    providers: list[str]
    label: str = Field(description="Same as name (the original's field).")
    provider: str = Field(description="Provider of the default model.")
    is_async: bool = Field(
        serialization_alias="async", description="Same as runs_async (the original's field, 'async')."
    )
    fields: EditFields = Field(description="Which inputs the original UI shows (prompt: required).")


class EditOperationList(BaseModel):
    """`?view=full`: a list, in catalog order."""

    operations: list[EditOperationInfo]
    total: int


class EditOperationMap(BaseModel):
    """The original's shape: operations keyed by id."""

    operations: dict[str, EditOperationInfo] = Field(description="Keyed by operation id, in catalog order.")
    total: int


class ControlOperationList(BaseModel):
    """`?view=full`: a list, in catalog order."""

    operations: list[ControlOperationEntry]
    total: int


class ControlOperationMap(BaseModel):
    """The original's shape: operations keyed by id."""

    operations: dict[str, ControlOperationEntry] = Field(
        description="Keyed by operation id, in catalog order."
    )
    total: int


class EditModelInfo(BaseModel):
    id: str
    name: str
    provider: str
    description: str
    tier: ModelTier
    usd: Money = Field(description="Price of one edit (the default variant for ranged prices).")
    cost: float = Field(description="The same price as a number (the original's field).")
    cost_8k: float | None = Field(description="Price of an 8K edit where the model prices one.")
    credits: int
    price: Price
    max_resolution: list[int] | None = Field(description="[width, height] of the largest input accepted.")
    max_size: Size | None = Field(
        description="The same limit as an object, where the catalog gives both sides."
    )
    max_side: int | None
    operations: list[str]
    capabilities: list[str]
    use_cases: list[str] = Field(description="The edit operations it runs, by name.")
    features: list[str]
    supports_multi_image: bool
    supports_controlnet: bool
    languages: list[str] = Field(
        description="Prompt languages: not in our catalog, so empty (the original's field)."
    )
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
        cost=model_cost(model),
        cost_8k=cost_8k(model),
        credits=usd_to_credits(usd),
        price=model.price,
        max_resolution=max_resolution(model),
        max_size=size,
        max_side=model.max_side,
        operations=list(model.edit_operations),
        capabilities=list(model.capabilities),
        use_cases=use_cases(get_catalog(), model),
        features=model.features,
        supports_multi_image=supports_multi_image(model),
        supports_controlnet=supports_controlnet(model),
        languages=[],
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
    return TemplateList(templates=[template_view(t) for t in templates], total=len(templates))


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
    results = _match_views(search_templates(query, limit))
    return TemplateSearchResults(
        query=query, templates=[r.template for r in results], results=results, total=len(results)
    )


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
    results = _match_views(recommend_templates(use_case, platform, limit))
    name = get_catalog().platform(platform, status=422).name if platform else None
    return TemplateRecommendations(
        use_case=use_case,
        platform=name,
        templates=[r.template for r in results],
        results=results,
        total=len(results),
    )


@catalog_router.get(
    f"{API_PREFIX}/providers",
    summary="List providers and their models",
    description="Every provider (stability, wavespeed, huggingface, gemini, local). By default the original "
    "Image Studio's shape: an object keyed by provider id, each with its display name, text-to-image model "
    "ids, capabilities, max_resolution [w, h] and cost_range. With view=full: a list, each provider with "
    "its limits and models, each model with its price, tier, resolution limits and endpoint. Both carry "
    "the quality tiers.",
    tags=["Providers"],
)
def list_providers(
    view: Annotated[View, Query(description=VIEW_DESCRIPTION)] = "original",
) -> ProviderMap | ProviderList:
    cat = get_catalog()
    if view == "original":
        summaries = {p.name: provider_summary(cat, p.name) for p in cat.providers()}
        return ProviderMap(providers=summaries, quality_tiers=cat.quality_tiers(), total=len(summaries))
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
    description="Output formats (size, ratio, safe-zone fractions, the platform's file type and upload "
    "limit) the Social Optimizer can produce for one platform; the first is the default.",
    tags=["Platforms"],
)
def platform_formats(platform: Annotated[str, Path(description=f"One of: {_PLATFORMS}.")]) -> PlatformFormats:
    found = get_catalog().platform(platform)
    return PlatformFormats(
        platform=found.name,
        display_name=found.display_name,
        default_format=found.formats[0].name,
        formats=[social_format_view(found, f) for f in found.formats],
    )


@catalog_router.get(
    f"{API_PREFIX}/edit/operations",
    summary="List edit operations",
    description="The seven Edit Studio operations with their inputs (required, optional, defaults), "
    "default model, the models that can run them and whether they run as a job, plus the original's "
    "label, provider, async and fields. By default an object keyed by operation id (the original's "
    "shape); view=full answers a list.",
    tags=["Edit"],
)
def list_edit_operations(
    view: Annotated[View, Query(description=VIEW_DESCRIPTION)] = "original",
) -> EditOperationMap | EditOperationList:
    cat = get_catalog()
    infos = []
    for op in cat.edit_operations():
        models = cat.edit_models(op.id)
        infos.append(
            EditOperationInfo(
                **op.model_dump(),
                models=[m.id for m in models],
                providers=sorted({m.provider for m in models}),
                label=op.name,
                provider=cat.model(op.default_model).provider,
                is_async=op.runs_async,
                fields=edit_fields(op),
            )
        )
    if view == "original":
        return EditOperationMap(operations={i.id: i for i in infos}, total=len(infos))
    return EditOperationList(operations=infos, total=len(infos))


@catalog_router.get(
    f"{API_PREFIX}/control/operations",
    summary="List control operations",
    description="The four Control Studio operations (sketch, structure, style, style_transfer) with the "
    "original's label, provider and fields, and our model and inputs. By default an object keyed by "
    "operation id (the original's shape); view=full answers a list. Run one with POST control.",
    tags=["Control"],
)
def list_control_operations(
    view: Annotated[View, Query(description=VIEW_DESCRIPTION)] = "original",
) -> ControlOperationMap | ControlOperationList:
    cat = get_catalog()
    entries = [control_operation_entry(cat, op) for op in cat.control_operations()]
    if view == "original":
        return ControlOperationMap(operations={e.id: e for e in entries}, total=len(entries))
    return ControlOperationList(operations=entries, total=len(entries))


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
    "the US$ total (decimal string), credits (ceil(US$ x 100)) and a per-unit breakdown; and the original's "
    "numbers: total_cost, cost_per_image, num_images, currency.",
    tags=["Estimates"],
)
def estimate_cost(request: Annotated[EstimateRequest, Body(description="What to price.")]) -> CostEstimate:
    return cost_estimate(estimate(request))


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
