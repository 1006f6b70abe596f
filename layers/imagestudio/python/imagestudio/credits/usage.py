"""Plan limits and usage: what a request may do this month, checked before credits are held
(`preflight` checks without writing) and enforced again by the conditions of the usage counters."""

from __future__ import annotations

from typing import Any

from imagestudio.catalog import Plan
from imagestudio.credits import plans as pl
from imagestudio.credits import retries
from imagestudio.credits.accounts import Accounts
from imagestudio.credits.models import Account, Preflight, Reservation, Usage
from imagestudio.credits.store import as_int, check_credits, usage_sk


class UsageLimits(Accounts):
    def _counters(self, user: str, period: str) -> dict[str, int]:
        item = self._get(user, usage_sk(period)) or {}
        return {name: as_int(item.get(name)) for name in (*pl.COUNTERS, "credits")}

    def _plan(self, account: Account) -> Plan:
        return self._catalog.plan(account.plan)

    def _usage_view(self, account: Account, period: str, counters: dict[str, int]) -> Usage:
        return pl.usage_view(
            account.user,
            self._plan(account),
            period,
            counters,
            warning_fraction=self._catalog.data.usage_warning_fraction,
        )

    def usage(self, user: str, period: str | None = None) -> Usage:
        """Per-counter used / limit / fraction / warning for a month (default: this month)."""
        account = self._peek(user)
        period = pl.check_period(period) if period is not None else pl.period_of(self._now()[0])
        return self._usage_view(account, period, self._counters(user, period))

    def _check(
        self,
        account: Account,
        period: str,
        counters: dict[str, int],
        *,
        credits: int,
        bucket: str,
        count: int,
        wavespeed_calls: int,
        asked: dict[str, Any],
    ) -> tuple[Usage, Usage]:
        """Every plan limit and the balance for this request; (usage now, usage after) or raise."""
        plan = self._plan(account)
        usage = self._usage_view(account, period, counters)
        pl.check_options(
            self._catalog,
            plan,
            quality=asked.get("quality"),
            model=asked.get("model"),
            variations=asked.get("variations"),
            asked=asked,
            usage=usage,
            available=account.available,
        )
        pl.check_counters(
            self._catalog,
            plan,
            usage,
            bucket=bucket,
            count=count,
            wavespeed_calls=wavespeed_calls,
            credits=credits,
            available=account.available,
            asked=asked,
        )
        if account.available < credits:
            raise pl.insufficient(account, credits, usage, asked)
        after = pl.projected_counters(
            counters, bucket=bucket, count=count, wavespeed_calls=wavespeed_calls, credits=credits
        )
        return usage, self._usage_view(account, period, after)

    def _request(
        self,
        credits: int,
        operation: str,
        count: int,
        wavespeed_calls: int,
        quality: str | None,
        model: str | None,
        variations: int | None,
    ) -> tuple[str, dict[str, Any]]:
        """Check the request's numbers; its usage bucket and the summary refusals quote."""
        check_credits("credits", credits, minimum=0)
        check_credits("count", count, minimum=0)  # 0: free compute, counted nowhere
        check_credits("wavespeed_calls", wavespeed_calls, minimum=0)
        bucket = self._catalog.usage_bucket(operation)
        asked = pl.asked_summary(
            operation=operation,
            credits=credits,
            count=count,
            wavespeed_calls=wavespeed_calls,
            quality=quality,
            model=model,
            variations=variations,
        )
        return bucket, asked

    def preflight(
        self,
        user: str,
        credits: int,
        *,
        operation: str,
        count: int = 1,
        wavespeed_calls: int = 0,
        quality: str | None = None,
        model: str | None = None,
        variations: int | None = None,
    ) -> Preflight:
        """The checks of `reserve` without writing: raises the same 402/429, else the usage view."""
        bucket, asked = self._request(credits, operation, count, wavespeed_calls, quality, model, variations)
        account = self._peek(user)
        plan = self._plan(account)
        period = pl.period_of(self._now()[0])
        usage, projected = self._check(
            account,
            period,
            self._counters(user, period),
            credits=credits,
            bucket=bucket,
            count=count,
            wavespeed_calls=wavespeed_calls,
            asked=asked,
        )
        return Preflight(
            user=user,
            plan=plan.id,
            credits=credits,
            operation=operation,
            bucket=bucket,
            count=count,
            available=account.available,
            available_after=account.available - credits,
            usage=usage,
            projected=projected,
            warnings=projected.warnings,
        )

    def _usage_op(
        self,
        user: str,
        period: str,
        bucket: str,
        count: int,
        wavespeed_calls: int,
        credits: int,
        plan: Plan,
    ) -> retries.Op:
        """Add this request to the period's counters, only if every plan limit still holds."""
        names = {"#b": bucket, "#w": "wavespeed_calls", "#c": "credits", "#p": "period"}
        values: dict[str, Any] = {
            ":n": count,
            ":w": wavespeed_calls,
            ":c": credits,
            ":exp": pl.usage_expires_at(period),
            ":p": period,
        }
        conditions = []
        for alias, name, n in (
            ("#b", bucket, count),
            ("#w", "wavespeed_calls", wavespeed_calls),
            ("#c", "credits", credits),
        ):
            limit = pl.counter_limit(plan, name)
            if limit is None or n <= 0:
                continue
            values[f":max{alias[1:]}"] = limit - n
            conditions.append(f"(attribute_not_exists({alias}) OR {alias} <= :max{alias[1:]})")
        expression = "ADD #b :n, #w :w, #c :c SET expires_at = if_not_exists(expires_at, :exp), #p = :p"
        return (
            "usage",
            self._update(
                user,
                usage_sk(period),
                expression,
                values,
                condition=" AND ".join(conditions) or None,
                names=names,
            ),
        )

    def _undo_usage_op(self, user: str, reservation: Reservation, credits: int) -> retries.Op:
        """Take a job's counts (and `credits` of its spending) back out of its period's usage."""
        names: dict[str, str] = {"#c": "credits"}
        values: dict[str, Any] = {":c": -credits, ":exp": pl.usage_expires_at(reservation.period)}
        adds = ["#c :c"]
        for i, (name, n) in enumerate(sorted(reservation.usage.items())):
            names[f"#u{i}"] = name
            values[f":u{i}"] = -n
            adds.append(f"#u{i} :u{i}")
        expression = "ADD " + ", ".join(adds) + " SET expires_at = if_not_exists(expires_at, :exp)"
        return "usage", self._update(user, usage_sk(reservation.period), expression, values, names=names)
