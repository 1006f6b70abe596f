"""Recommend an edit model for an operation, an image size, a priority and a plan.

The original added 1/cost x 50..100 to max_side / 10..20, so the cost term (up to 5,000) swamped
everything and 'quality' barely changed the winner. Here every term is normalised to 0..1 over the
models that can take the image, so the weights mean what they say:

- cost:    log-scaled, cheapest = 1, dearest = 0
- quality: half model tier (budget 0, mid 0.5, premium 1), half log-scaled maximum side
- plan:    the plan's affinity for the model's tier (plans.json: model_tier_preference)

    score = w_cost * cost + w_quality * quality + w_plan * plan

with (w_cost, w_quality, w_plan) = cost (0.70, 0.20, 0.10), balanced (0.45, 0.45, 0.10),
quality (0.15, 0.75, 0.10). Models whose limits the image exceeds are excluded (and listed).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Literal, cast

from pydantic import BaseModel, Field, computed_field, model_validator

from imagestudio.catalog.loader import Catalog, get_catalog
from imagestudio.catalog.models import (
    EditOperationName,
    ModelSpec,
    ModelTier,
    Money,
    PlanName,
    format_usd,
    usd_to_credits,
)
from imagestudio.errors import InvalidInput, unknown_choice
from imagestudio.models.requests import RequestModel

Priority = Literal["balanced", "cost", "quality"]
PRIORITIES: tuple[str, ...] = ("balanced", "cost", "quality")

WEIGHTS: dict[str, tuple[float, float, float]] = {
    "cost": (0.70, 0.20, 0.10),
    "balanced": (0.45, 0.45, 0.10),
    "quality": (0.15, 0.75, 0.10),
}
TIER_QUALITY: dict[str, float] = {"free": 0.0, "budget": 0.0, "mid": 0.5, "premium": 1.0}
MAX_ALTERNATIVES = 3


class EditRecommendRequest(RequestModel):
    """Body of POST /edit/recommend. The original's shape is accepted too: image_resolution
    {width, height}, user_tier, preferences {prioritize_cost, prioritize_quality}."""

    operation: EditOperationName = "general_edit"
    width: int = Field(gt=0, le=65536, description="Input image width in px.")
    height: int = Field(gt=0, le=65536, description="Input image height in px.")
    priority: Priority = "balanced"
    plan: PlanName = "free"

    @model_validator(mode="before")
    @classmethod
    def _accept_original_shape(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        resolution = data.pop("image_resolution", None)
        if isinstance(resolution, dict):
            data.setdefault("width", resolution.get("width"))
            data.setdefault("height", resolution.get("height"))
        if "user_tier" in data:
            data.setdefault("plan", data.pop("user_tier"))
        preferences = data.pop("preferences", None)
        if isinstance(preferences, dict) and "priority" not in data:
            if preferences.get("prioritize_quality"):
                data["priority"] = "quality"
            elif preferences.get("prioritize_cost"):
                data["priority"] = "cost"
        return data


class EditModelCandidate(BaseModel):
    model_id: str
    name: str
    provider: str
    tier: ModelTier
    usd: Money = Field(description="Price of one edit (default variant for ranged prices).")
    credits: int
    max_side: int | None
    score: float = Field(description="0..1; higher is better.")
    reasons: list[str]

    @computed_field(description="The price as a number (the original's field; same figure as usd).")  # type: ignore[prop-decorator]
    @property
    def cost(self) -> float:
        return float(self.usd)

    @computed_field(description="The reasons joined (the original's field).")  # type: ignore[prop-decorator]
    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


class ExcludedModel(BaseModel):
    model_id: str
    reason: str


class EditRecommendation(BaseModel):
    operation: str
    width: int
    height: int
    priority: Priority
    plan: str
    best: EditModelCandidate
    alternatives: list[EditModelCandidate] = Field(description="Up to 3 runners-up, best first.")
    excluded: list[ExcludedModel] = Field(description="Models that support the operation but not this image.")
    recommended_model: str = Field(description="Same as best.model_id (the original's field).")
    reason: str = Field(description="best.reasons joined (the original's field).")


def _log_scale(value: float, low: float, high: float, *, invert: bool = False) -> float:
    if high <= low:
        return 1.0
    position = (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
    return 1.0 - position if invert else position


def _reasons(
    model: ModelSpec,
    cost: Decimal,
    cheapest: Decimal,
    long_side: int,
    plan_fit: float,
    plan: str,
    priority: str,
    is_best: bool,
) -> list[str]:
    reasons = []
    if cost == cheapest:
        reasons.append(f"lowest cost: US${format_usd(cost)} per edit")
    else:
        reasons.append(f"US${format_usd(cost)} per edit")
    if model.max_side is not None:
        reasons.append(f"supports up to {model.max_side} px (image {long_side} px)")
    if model.tier in ("mid", "premium") and priority != "cost":
        reasons.append(f"{model.tier} tier quality")
    if plan_fit >= 0.6:
        reasons.append(f"{model.tier} tier suits the {plan} plan")
    if is_best:
        reasons.append(f"best {priority} score")
    return reasons


def recommend_edit_model(
    operation: str,
    width: int,
    height: int,
    priority: str = "balanced",
    plan: str = "free",
    *,
    catalog: Catalog | None = None,
) -> EditRecommendation:
    """The best edit model for the operation and image, with up to 3 alternatives and exclusions."""
    cat = catalog or get_catalog()
    op = cat.edit_operation(operation, status=422)
    if priority not in WEIGHTS:
        raise unknown_choice("priority", priority, list(PRIORITIES), status=422)
    plan_record = cat.plan(plan)
    if width <= 0 or height <= 0:
        raise InvalidInput(f"Image size must be positive; got {width}x{height}.", details={"field": "width"})

    candidates = cat.edit_models(op.id)
    fitting: list[ModelSpec] = []
    excluded: list[ExcludedModel] = []
    for model in candidates:
        problem = model.fit_problem(width, height)
        if problem is None:
            fitting.append(model)
        else:
            excluded.append(ExcludedModel(model_id=model.id, reason=problem))
    if not fitting:
        largest = max((m.max_side or 0) for m in candidates)
        raise InvalidInput(
            f"No {op.id} model accepts a {width}x{height} image (largest side accepted: {largest} px). "
            "Downscale the image first.",
            details={"field": "width", "value": width},
        )

    floor = Decimal("0.001")  # free models would make the log scale infinite
    costs = {m.id: max(m.typical_usd(), floor) for m in fitting}
    sides = {m.id: m.max_side or max(width, height) for m in fitting}
    low_cost, high_cost = float(min(costs.values())), float(max(costs.values()))
    low_side, high_side = min(sides.values()), max(sides.values())
    w_cost, w_quality, w_plan = WEIGHTS[priority]

    scored: list[tuple[float, Decimal, str, ModelSpec, float]] = []
    for model in fitting:
        cost_score = _log_scale(float(costs[model.id]), low_cost, high_cost, invert=True)
        side_score = _log_scale(sides[model.id], low_side, high_side)
        quality_score = 0.5 * TIER_QUALITY[model.tier] + 0.5 * side_score
        plan_fit = plan_record.model_tier_preference.get(model.tier, 0.0)
        score = w_cost * cost_score + w_quality * quality_score + w_plan * plan_fit
        scored.append((round(score, 4), model.typical_usd(), model.id, model, plan_fit))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))

    cheapest = min(m.typical_usd() for m in fitting)
    long_side = max(width, height)
    ranked = [
        EditModelCandidate(
            model_id=model.id,
            name=model.name,
            provider=model.provider,
            tier=model.tier,
            usd=model.typical_usd(),
            credits=usd_to_credits(model.typical_usd()),
            max_side=model.max_side,
            score=score,
            reasons=_reasons(
                model, model.typical_usd(), cheapest, long_side, plan_fit, plan_record.id, priority, i == 0
            ),
        )
        for i, (score, _, _, model, plan_fit) in enumerate(scored)
    ]
    best = ranked[0]
    return EditRecommendation(
        operation=op.id,
        width=width,
        height=height,
        priority=cast(Priority, priority),
        plan=plan_record.id,
        best=best,
        alternatives=ranked[1 : 1 + MAX_ALTERNATIVES],
        excluded=excluded,
        recommended_model=best.model_id,
        reason="; ".join(best.reasons),
    )


__all__ = [
    "EditModelCandidate",
    "EditRecommendRequest",
    "EditRecommendation",
    "ExcludedModel",
    "Priority",
    "recommend_edit_model",
]
