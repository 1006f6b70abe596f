"""Edit-model recommendations: the stated priority changes the winner, big images exclude small models."""

from __future__ import annotations

from decimal import Decimal

import pytest

from imagestudio.catalog import get_catalog
from imagestudio.catalog.edit_recommend import EditRecommendRequest, recommend_edit_model
from imagestudio.errors import InvalidInput


@pytest.mark.parametrize(
    ("priority", "winner"),
    [("cost", "qwen-edit"), ("balanced", "seedream-v4.5-edit"), ("quality", "nano-banana-pro-edit-ultra")],
)
def test_priority_changes_the_winner(priority: str, winner: str) -> None:
    assert recommend_edit_model("general_edit", 1024, 1024, priority, "free").best.model_id == winner


def test_priority_changes_the_winner_for_inpainting_too() -> None:
    assert (
        recommend_edit_model("inpaint", 1024, 1024, "cost", "free").best.model_id == "z-image-turbo-inpaint"
    )
    assert recommend_edit_model("inpaint", 1024, 1024, "quality", "free").best.model_id == "stability-inpaint"


def test_too_large_images_exclude_small_models() -> None:
    rec = recommend_edit_model("general_edit", 3000, 2000, "cost", "free")
    considered = [rec.best, *rec.alternatives]
    assert all(c.max_side is not None and c.max_side >= 3000 for c in considered)
    excluded = {e.model_id: e.reason for e in rec.excluded}
    assert "over its 1536 px limit" in excluded["qwen-edit"]
    assert "over its 2048 px limit" in excluded["flux-kontext-pro"]
    assert rec.best.model_id == "seedream-v4.5-edit"  # cheapest that still fits


def test_only_the_8k_model_takes_a_5000px_image_and_nothing_takes_9000px() -> None:
    rec = recommend_edit_model("general_edit", 5000, 5000)
    assert (rec.best.model_id, rec.alternatives) == ("nano-banana-pro-edit-ultra", [])
    with pytest.raises(InvalidInput, match="largest side accepted: 8192 px"):
        recommend_edit_model("general_edit", 9000, 9000)


def test_plan_bonus_favours_premium_models_for_pro() -> None:
    free = recommend_edit_model("general_edit", 1024, 1024, "balanced", "free")
    pro = recommend_edit_model("general_edit", 1024, 1024, "balanced", "pro")
    assert pro.best.score > free.best.score  # same winner, plus the pro plan's mid-tier affinity
    assert pro.alternatives[0].model_id == "nano-banana-pro-edit-ultra"
    assert "nano-banana-pro-edit-ultra" not in [c.model_id for c in free.alternatives]
    assert "premium tier suits the pro plan" in pro.alternatives[0].reasons


def test_best_plus_up_to_three_alternatives_in_score_order_with_reasons() -> None:
    rec = recommend_edit_model("general_edit", 1024, 1024, "cost", "free")
    assert len(rec.alternatives) == 3
    scores = [rec.best.score] + [a.score for a in rec.alternatives]
    assert scores == sorted(scores, reverse=True)
    assert rec.best.model_id not in [a.model_id for a in rec.alternatives]
    assert rec.best.reasons[0] == "lowest cost: US$0.02 per edit"
    assert rec.recommended_model == rec.best.model_id and rec.reason.startswith("lowest cost")
    assert (rec.best.usd, rec.best.credits) == (Decimal("0.02"), 2)


def test_single_candidate_operation() -> None:
    rec = recommend_edit_model("remove_background", 1024, 1024)
    assert (rec.best.model_id, rec.alternatives) == ("stability-remove-background", [])


def test_the_offline_provider_is_never_recommended() -> None:
    cat = get_catalog()
    for op in cat.edit_operations():
        for priority in ("cost", "balanced", "quality"):
            rec = recommend_edit_model(op.id, 1024, 1024, priority)
            assert all(c.provider != "local" for c in [rec.best, *rec.alternatives])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("blur", 1024, 1024), "Valid operation values: general_edit"),
        (("general_edit", 1024, 1024, "speed"), "Valid priority values: balanced, cost, quality"),
        (("general_edit", 1024, 1024, "balanced", "gold"), "Valid plan values: basic, enterprise, free, pro"),
        (("general_edit", 0, 1024), "must be positive"),
    ],
)
def test_bad_inputs_name_the_valid_values(args: tuple, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as err:
        recommend_edit_model(*args)
    assert err.value.status == 422


def test_request_accepts_the_original_body_shape() -> None:
    req = EditRecommendRequest.model_validate(
        {
            "operation": "general_edit",
            "image_resolution": {"width": 2000, "height": 1000},
            "user_tier": "pro",
            "preferences": {"prioritize_cost": False, "prioritize_quality": True},
        }
    )
    assert (req.width, req.height, req.plan, req.priority) == (2000, 1000, "pro", "quality")
    flat = EditRecommendRequest.model_validate(
        {"width": 10, "height": 20, "preferences": {"prioritize_cost": True}}
    )
    assert (flat.operation, flat.priority, flat.plan) == ("general_edit", "cost", "free")
