"""Plan limits, usage views and pre-flight refusals of the credits ledger: pure functions, no AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagestudio.catalog import get_catalog
from imagestudio.credits import LedgerEntry
from imagestudio.credits import plans as pl
from imagestudio.errors import InvalidInput, PlanLimitExceeded

cat = get_catalog()
FREE, BASIC, PRO, ENTERPRISE = (cat.plan(p) for p in ("free", "basic", "pro", "enterprise"))
# Every catalog plan now has every tier; the tier rules are checked on a plan restricted to two.
RESTRICTED = FREE.model_copy(update={"quality_tiers": ["draft", "standard"]})
ASKED: dict[str, Any] = {"operation": "generate", "credits": 10, "count": 1}


def view(plan: Any, **counters: int) -> Any:
    return pl.usage_view("u", plan, "2025-06", counters, warning_fraction=cat.data.usage_warning_fraction)


def check(
    plan: Any, usage: Any, *, bucket: str = "images", count: int = 1, ws: int = 0, credits: int = 10
) -> None:
    pl.check_counters(
        cat,
        plan,
        usage,
        bucket=bucket,
        count=count,
        wavespeed_calls=ws,
        credits=credits,
        available=500,
        asked=ASKED,
    )


# --- catalog figures the ledger relies on --------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "grant", "cap"),
    [("free", 200, 200), ("basic", 2500, 2500), ("pro", 10000, 10000), ("enterprise", 50000, 50000)],
)
def test_monthly_grant_is_the_cost_cap_in_credits(plan: str, grant: int, cap: int) -> None:
    p = cat.plan(plan)
    assert p.monthly_grant_credits == grant
    assert pl.cap_credits(p) == cap == int(p.monthly_cost_cap_usd * 100)


# --- periods -------------------------------------------------------------------------------------


def test_periods_are_utc_months_and_usage_is_kept_13_months() -> None:
    late_evening_in_new_york = datetime(2025, 6, 30, 23, 30, tzinfo=timezone(timedelta(hours=-4)))
    assert pl.period_of(late_evening_in_new_york) == "2025-07"
    assert pl.period_resets_at("2025-12") == datetime(2026, 1, 1, tzinfo=UTC)
    assert pl.usage_expires_at("2025-06") == int(datetime(2026, 7, 1, tzinfo=UTC).timestamp())
    for bad in ("2025-13", "2025-6", "June", ""):
        with pytest.raises(InvalidInput, match="YYYY-MM"):
            pl.check_period(bad)


# --- usage views ---------------------------------------------------------------------------------


def test_usage_view_flags_80_percent_and_treats_null_as_unlimited() -> None:
    usage = view(FREE, images=8, edits=3, wavespeed_calls=40, credits=150)
    images = usage.buckets["images"]
    assert (images.used, images.limit, images.remaining, images.fraction, images.warning) == (
        8,
        10,
        2,
        0.8,
        True,
    )
    assert not usage.buckets["edits"].warning and usage.buckets["edits"].fraction == 0.6
    ws = usage.buckets["wavespeed_calls"]
    assert (ws.limit, ws.remaining, ws.fraction, ws.warning) == (None, None, None, False)
    assert (usage.credits.limit, usage.credits.remaining, usage.credits.warning) == (200, 50, False)
    assert usage.warnings == ["8 of 10 images used this month (80%)."]
    assert usage.resets_at == "2025-07-01T00:00:00Z"
    assert not view(FREE, images=7).buckets["images"].warning
    assert view(FREE, credits=160).credits.warning


def test_enterprise_counts_are_unlimited_but_spending_is_capped() -> None:
    usage = view(ENTERPRISE, images=10_000)
    check(ENTERPRISE, usage, count=5_000, credits=100)
    with pytest.raises(PlanLimitExceeded) as err:
        check(ENTERPRISE, view(ENTERPRISE, credits=49_990), credits=11)
    assert err.value.details["limit"] == "credits" and err.value.details["upgrade_to"] is None
    assert "upgrade" not in err.value.message


# --- counter limits ------------------------------------------------------------------------------


def test_a_count_over_the_limit_is_429_saying_what_is_left_and_how_to_fix() -> None:
    with pytest.raises(PlanLimitExceeded) as err:
        check(FREE, view(FREE, images=9), count=2)
    e = err.value
    assert e.status == 429
    assert e.message == (
        "The Free plan allows 10 images per month: 9 used, 1 left, this request needs 2. "
        "To go ahead, lower num_variations, wait until 2025-07-01 or upgrade to the basic plan."
    )
    d = e.details
    assert (d["limit"], d["needed"], d["used"], d["limit_value"], d["remaining"]) == ("images", 2, 9, 10, 1)
    assert d["available_credits"] == 500 and d["asked"] == ASKED and d["period"] == "2025-06"
    assert d["usage"]["buckets"]["images"]["warning"] is True and "user" not in d["usage"]
    check(FREE, view(FREE, images=9), count=1)  # exactly up to the limit is fine


def test_the_upgrade_named_is_the_first_plan_that_fits() -> None:
    with pytest.raises(PlanLimitExceeded) as err:
        check(FREE, view(FREE, videos=1), bucket="videos", count=20)
    assert err.value.details["upgrade_to"] == "pro"  # basic allows 10 videos, pro 30
    with pytest.raises(PlanLimitExceeded) as err:
        check(BASIC, view(BASIC, wavespeed_calls=150), ws=100)
    assert err.value.details["limit"] == "wavespeed_calls" and err.value.details["upgrade_to"] == "pro"
    assert "choose a model that is not on WaveSpeed" in err.value.message


def test_edits_count_in_their_own_bucket() -> None:
    usage = view(FREE, images=10, edits=4)
    check(FREE, usage, bucket="edits", count=1)
    with pytest.raises(PlanLimitExceeded):
        check(FREE, usage, bucket="edits", count=2)
    with pytest.raises(PlanLimitExceeded):
        check(FREE, usage, bucket="images", count=1)


@given(used=st.integers(0, 12), count=st.integers(1, 12))
def test_a_request_passes_exactly_when_it_fits_the_images_limit(used: int, count: int) -> None:
    usage = view(FREE, images=used)
    if used + count <= 10:
        check(FREE, usage, count=count, credits=0)
    else:
        with pytest.raises(PlanLimitExceeded) as err:
            check(FREE, usage, count=count, credits=0)
        assert err.value.details["remaining"] == max(10 - used, 0)


# --- quality tiers, models, variations -----------------------------------------------------------


def test_free_plan_asking_premium_quality_names_the_allowed_tiers() -> None:
    with pytest.raises(PlanLimitExceeded) as err:
        pl.check_options(cat, RESTRICTED, quality="premium", model=None, variations=None, asked=ASKED)
    assert err.value.status == 429
    assert err.value.message == (
        "The Free plan allows quality draft, standard; 'premium' is not included. "
        "Choose draft or standard or upgrade to the basic plan."
    )
    assert err.value.details["allowed_quality_tiers"] == ["draft", "standard"]
    pl.check_options(cat, BASIC, quality="premium", model=None, variations=None, asked=ASKED)


def test_premium_models_need_a_plan_with_the_premium_tier() -> None:
    with pytest.raises(PlanLimitExceeded) as err:
        pl.check_options(
            cat, RESTRICTED, quality=None, model="stable-image-ultra", variations=None, asked=ASKED
        )
    assert err.value.details["limit"] == "model_tier" and err.value.details["upgrade_to"] == "basic"
    for budget_or_mid in ("qwen-image", "flux-kontext-pro", "local-pillow"):
        pl.check_options(cat, RESTRICTED, quality=None, model=budget_or_mid, variations=None, asked=ASKED)
    pl.check_options(cat, FREE, quality=None, model="stable-image-ultra", variations=None, asked=ASKED)
    pl.check_options(cat, PRO, quality=None, model="stable-image-ultra", variations=None, asked=ASKED)
    with pytest.raises(InvalidInput):
        pl.check_options(cat, PRO, quality=None, model="no-such-model", variations=None, asked=ASKED)


@pytest.mark.parametrize(
    ("plan", "allowed", "upgrade"), [(FREE, 4, "basic"), (BASIC, 6, "pro"), (PRO, 10, None)]
)
def test_variations_per_request(plan: Any, allowed: int, upgrade: str | None) -> None:
    pl.check_options(cat, plan, quality=None, model=None, variations=allowed, asked=ASKED)
    if allowed < 10:
        with pytest.raises(PlanLimitExceeded) as err:
            pl.check_options(cat, plan, quality=None, model=None, variations=allowed + 1, asked=ASKED)
        assert f"at most {allowed} variations" in err.value.message
        assert err.value.details["upgrade_to"] == upgrade


# --- ledger entries ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "direction", "delta"),
    [
        ("grant", None, 7),
        ("refund", None, 7),
        ("capture", None, -7),
        ("adjust", "up", 7),
        ("adjust", "down", -7),
        ("reserve", None, 0),
        ("release", None, 0),
    ],
)
def test_each_entry_kind_moves_the_total_as_the_money_rules_say(
    kind: str, direction: str | None, delta: int
) -> None:
    entry = LedgerEntry(
        id="01J",
        kind=kind,  # type: ignore[arg-type]
        amount=7,
        direction=direction,  # type: ignore[arg-type]
        ref="r",
        reason="",
        available_after=0,
        reserved_after=0,
        created_at="",
    )
    assert entry.total_delta == delta
