"""Plan limits, usage views and the pre-flight checks shared by `Ledger.preflight` and `Ledger.reserve`.

Pure functions over catalog plans and usage counters: no I/O. A limit of None is unlimited, 0 is
none allowed. Usage periods are calendar months in UTC ("YYYY-MM").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from imagestudio.catalog import Catalog, Plan, format_usd, usd_to_credits
from imagestudio.credits.models import Account, CounterUsage, Usage
from imagestudio.errors import InsufficientCredits, InvalidInput, PlanLimitExceeded

COUNTERS: tuple[str, ...] = ("images", "edits", "videos", "wavespeed_calls")
LABELS = {
    "images": "images",
    "edits": "image edits",
    "videos": "videos",
    "wavespeed_calls": "WaveSpeed calls",
    "credits": "credits",
}
USAGE_RETENTION_MONTHS = 13
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


# --- periods -----------------------------------------------------------------------------------


def period_of(moment: datetime) -> str:
    """The usage period (UTC calendar month) of a moment: '2025-06'."""
    moment = moment.astimezone(UTC)
    return f"{moment.year:04d}-{moment.month:02d}"


def check_period(period: str) -> str:
    if not isinstance(period, str) or not _PERIOD.match(period):
        raise InvalidInput(
            f"'{period}' is not a usage period: use the month as YYYY-MM, e.g. '2025-06'.",
            details={"field": "period", "value": period},
        )
    return period


def _add_months(period: str, months: int) -> datetime:
    match = _PERIOD.match(check_period(period))
    assert match is not None
    index = int(match.group(1)) * 12 + int(match.group(2)) - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def period_resets_at(period: str) -> datetime:
    """When the period's counters stop applying: the first moment of the next month."""
    return _add_months(period, 1)


def usage_expires_at(period: str) -> int:
    """The TTL (epoch seconds) of a usage item: 13 months after its period starts."""
    return int(_add_months(period, USAGE_RETENTION_MONTHS).timestamp())


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- limits and usage views --------------------------------------------------------------------


def cap_credits(plan: Plan) -> int:
    """The plan's monthly cost cap in credits (US$2 -> 200)."""
    return usd_to_credits(plan.monthly_cost_cap_usd)


def counter_limit(plan: Plan, counter: str) -> int | None:
    if counter == "credits":
        return cap_credits(plan)
    value: int | None = getattr(plan.limits, counter)
    return value


def counter_usage(used: int, limit: int | None, warning_fraction: float) -> CounterUsage:
    if limit is None:
        return CounterUsage(used=used, limit=None, remaining=None, fraction=None, warning=False)
    fraction = 1.0 if limit == 0 else round(used / limit, 4)
    return CounterUsage(
        used=used,
        limit=limit,
        remaining=max(limit - used, 0),
        fraction=fraction,
        warning=limit > 0 and fraction >= warning_fraction,
    )


def usage_view(
    user: str, plan: Plan, period: str, counters: Mapping[str, int], *, warning_fraction: float
) -> Usage:
    """Per-counter used / limit / fraction / warning for a period, from raw counters."""
    buckets = {
        c: counter_usage(int(counters.get(c, 0)), counter_limit(plan, c), warning_fraction) for c in COUNTERS
    }
    credits = counter_usage(int(counters.get("credits", 0)), cap_credits(plan), warning_fraction)
    warnings = [
        f"{u.used} of {u.limit} {LABELS[name]} used this month ({round((u.fraction or 0) * 100)}%)."
        for name, u in [*buckets.items(), ("credits", credits)]
        if u.warning
    ]
    return Usage(
        user=user,
        plan=plan.id,
        period=period,
        resets_at=iso(period_resets_at(period)),
        buckets=buckets,
        credits=credits,
        warnings=warnings,
    )


def projected_counters(
    counters: Mapping[str, int], *, bucket: str, count: int, wavespeed_calls: int, credits: int
) -> dict[str, int]:
    after = {name: int(counters.get(name, 0)) for name in (*COUNTERS, "credits")}
    after[bucket] += count
    after["wavespeed_calls"] += wavespeed_calls
    after["credits"] += credits
    return after


def asked_summary(
    *,
    operation: str,
    credits: int,
    count: int,
    wavespeed_calls: int,
    quality: str | None,
    model: str | None,
    variations: int | None,
) -> dict[str, Any]:
    asked: dict[str, Any] = {"operation": operation, "credits": credits, "count": count}
    if wavespeed_calls:
        asked["wavespeed_calls"] = wavespeed_calls
    for name, value in (("quality", quality), ("model", model), ("variations", variations)):
        if value is not None:
            asked[name] = value
    return asked


def _upgrade_to(catalog: Catalog, current: Plan, allows: Callable[[Plan], bool]) -> str | None:
    plans = catalog.plans()
    ids = [p.id for p in plans]
    later = plans[ids.index(current.id) + 1 :] if current.id in ids else plans
    return next((p.id for p in later if allows(p)), None)


def _upgrade_text(upgrade: str | None) -> str:
    return f" or upgrade to the {upgrade} plan" if upgrade else ""


# --- checks ------------------------------------------------------------------------------------


def check_options(
    catalog: Catalog,
    plan: Plan,
    *,
    quality: str | None,
    model: str | None,
    variations: int | None,
    asked: dict[str, Any],
    usage: Usage | None = None,
    available: int | None = None,
) -> None:
    """The plan's quality tiers, model tiers and variations per request (429 naming what is allowed)."""
    try:
        _check_options(catalog, plan, quality=quality, model=model, variations=variations, asked=asked)
    except PlanLimitExceeded as err:
        if available is not None:
            err.details["available_credits"] = available
        if usage is not None:
            err.details["usage"] = usage.model_dump(mode="json", exclude={"user"})
        raise


def _check_options(
    catalog: Catalog,
    plan: Plan,
    *,
    quality: str | None,
    model: str | None,
    variations: int | None,
    asked: dict[str, Any],
) -> None:
    tiers = list(plan.quality_tiers)
    if quality is not None:
        catalog.quality_tier(quality)  # unknown tier -> 422 naming the tiers
        if quality not in tiers:
            upgrade = _upgrade_to(catalog, plan, lambda p: quality in p.quality_tiers)
            raise PlanLimitExceeded(
                f"The {plan.name} plan allows quality {', '.join(tiers)}; '{quality}' is not included. "
                f"Choose {' or '.join(tiers)}{_upgrade_text(upgrade)}.",
                details={
                    "limit": "quality_tier",
                    "plan": plan.id,
                    "asked": asked,
                    "allowed_quality_tiers": tiers,
                    "upgrade_to": upgrade,
                },
            )
    if model is not None:
        spec = catalog.model(model, status=422)
        if spec.tier == "premium" and "premium" not in tiers:
            upgrade = _upgrade_to(catalog, plan, lambda p: "premium" in p.quality_tiers)
            raise PlanLimitExceeded(
                f"Model '{spec.id}' is a premium model and the {plan.name} plan allows quality "
                f"{', '.join(tiers)} only. Choose a budget or mid-tier model{_upgrade_text(upgrade)}.",
                details={
                    "limit": "model_tier",
                    "plan": plan.id,
                    "asked": asked,
                    "model_tier": spec.tier,
                    "allowed_quality_tiers": tiers,
                    "allowed_model_tiers": ["free", "budget", "mid"],
                    "upgrade_to": upgrade,
                },
            )
    if variations is not None:
        if variations < 1:
            raise InvalidInput(
                "num_variations must be at least 1.", details={"field": "variations", "value": variations}
            )
        if variations > plan.max_variations:
            upgrade = _upgrade_to(catalog, plan, lambda p: variations <= p.max_variations)
            raise PlanLimitExceeded(
                f"The {plan.name} plan allows at most {plan.max_variations} variations per request; "
                f"{variations} were asked. Lower num_variations to {plan.max_variations}"
                f"{_upgrade_text(upgrade)}.",
                details={
                    "limit": "variations",
                    "plan": plan.id,
                    "asked": asked,
                    "max_variations": plan.max_variations,
                    "upgrade_to": upgrade,
                },
            )


def check_counters(
    catalog: Catalog,
    plan: Plan,
    usage: Usage,
    *,
    bucket: str,
    count: int,
    wavespeed_calls: int,
    credits: int,
    available: int,
    asked: dict[str, Any],
) -> None:
    """Projected usage (current + this request) within every monthly limit, else 429."""
    resets = usage.resets_at[:10]
    needs = (
        (bucket, count, usage.buckets[bucket]),
        ("wavespeed_calls", wavespeed_calls, usage.buckets["wavespeed_calls"]),
        ("credits", credits, usage.credits),
    )
    for name, n, current in needs:
        if n <= 0 or current.limit is None or current.used + n <= current.limit:
            continue
        label = LABELS[name]
        remaining = max(current.limit - current.used, 0)
        upgrade = _upgrade_to(catalog, plan, _fits_with(name, current.used + n))
        if name == "credits":
            fix = "choose a cheaper model or fewer outputs"
            head = (
                f"The {plan.name} plan caps spending at {current.limit} credits "
                f"(US${format_usd(plan.monthly_cost_cap_usd)}) per month"
            )
        elif current.limit == 0:
            fix = "remove them from the request"
            head = f"The {plan.name} plan includes no {label}"
        else:
            fix = "lower num_variations" if name == bucket else "choose a model that is not on WaveSpeed"
            head = f"The {plan.name} plan allows {current.limit} {label} per month"
        raise PlanLimitExceeded(
            f"{head}: {current.used} used, {remaining} left, this request needs {n}. "
            f"To go ahead, {fix}, wait until {resets}{_upgrade_text(upgrade)}.",
            details={
                "limit": name,
                "plan": plan.id,
                "asked": asked,
                "needed": n,
                "used": current.used,
                "limit_value": current.limit,
                "remaining": remaining,
                "available_credits": available,
                "period": usage.period,
                "resets_at": usage.resets_at,
                "upgrade_to": upgrade,
                "usage": usage.model_dump(mode="json", exclude={"user"}),
            },
        )


def _fits_with(counter: str, total: int) -> Callable[[Plan], bool]:
    def fits(plan: Plan) -> bool:
        limit = counter_limit(plan, counter)
        return limit is None or total <= limit

    return fits


def insufficient(account: Account, credits: int, usage: Usage, asked: dict[str, Any]) -> InsufficientCredits:
    held = f" ({account.reserved} more are held by running jobs)" if account.reserved else ""
    return InsufficientCredits(
        f"This request needs {credits} credits and {account.available} are available{held}: "
        "buy credits, or lower num_variations or choose a cheaper model.",
        details={
            "asked": asked,
            "needed": credits,
            "available": account.available,
            "reserved": account.reserved,
            "shortfall": credits - account.available,
            "plan": account.plan,
            "usage": usage.model_dump(mode="json", exclude={"user"}),
        },
    )
