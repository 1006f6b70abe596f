"""Credits that arrive without a job: grants (purchases, the monthly allowance, goodwill) and admin
adjustments, each at most once per id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from imagestudio.credits import plans as pl
from imagestudio.credits.accounts import Accounts
from imagestudio.credits.models import Movement, MovementKind
from imagestudio.credits.store import check_credits, check_id
from imagestudio.errors import Conflict, InvalidInput
from imagestudio.store.conditions import Key


class Grants(Accounts):
    def grant(self, user: str, grant_id: str, credits: int, reason: str) -> Movement:
        """Add credits (purchase, monthly allowance, goodwill); once per grant_id."""
        check_id("grant_id", grant_id)
        check_credits("credits", credits, minimum=1)
        return self._give(user, grant_id, "grant", credits, reason)

    def adjust(self, user: str, adjustment_id: str, delta: int, reason: str) -> Movement:
        """Admin correction of available credits (+/-); never below 0; once per adjustment_id."""
        check_id("adjustment_id", adjustment_id)
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
            raise InvalidInput(
                "delta must be a non-zero whole number of credits.",
                details={"field": "delta", "value": delta},
            )
        return self._give(user, adjustment_id, "adjust", delta, reason)

    def _give(self, user: str, ref: str, kind: MovementKind, delta: int, reason: str) -> Movement:
        def attempt(_: int) -> Movement:
            replay = self._replay_checked(user, ref, kind, delta)
            if replay is not None:
                return replay
            account = self.account(user)
            available = account.available + delta
            if available < 0:
                raise Conflict(
                    f"Adjusting by {delta} would take available credits below 0 "
                    f"({account.available} available, {account.reserved} held by running jobs).",
                    details={
                        "available": account.available,
                        "reserved": account.reserved,
                        "delta": delta,
                    },
                )
            moment, now = self._now()
            movement, entry = self._record(
                user,
                moment,
                now,
                kind=kind,
                amount=abs(delta),
                ref=ref,
                reason=reason,
                available_after=available,
                reserved_after=account.reserved,
                direction=("up" if delta > 0 else "down") if kind == "adjust" else None,
            )
            self._transact(
                [
                    self._balance_op(
                        user,
                        account,
                        available=available,
                        reserved=account.reserved,
                        now=now,
                        add={"granted": delta},
                    ),
                    self._guard(user, ref, kind, movement),
                    entry,
                ]
            )
            return movement

        return self._retrying(user, attempt)

    def monthly_grant(self, period: str, *, page_size: int = 500) -> int:
        """Grant every user their plan's monthly credits (grant id 'monthly-{period}'); returns how many.

        Users come from the ByPlan index, a page at a time. A user who already got this period's grant
        (also under another plan, if they changed plans during the run) is skipped.
        """
        pl.check_period(period)
        granted = 0
        for plan in self._catalog.plans():
            if plan.monthly_grant_credits <= 0:
                continue
            for user in self._users_of(plan.id, page_size):
                try:
                    movement = self.grant(
                        user,
                        f"monthly-{period}",
                        plan.monthly_grant_credits,
                        f"monthly grant {period} ({plan.name} plan)",
                    )
                except Conflict:
                    continue  # granted already this period under another plan
                if not movement.replayed:
                    granted += 1
        return granted

    def _users_of(self, plan: str, page_size: int) -> Iterator[str]:
        query: dict[str, Any] = {
            "IndexName": "ByPlan",
            "Limit": page_size,
            "KeyConditionExpression": Key("gsi1pk").eq(f"PLAN#{plan}"),
        }
        while True:
            page = self._table.query(**query)
            for item in page.get("Items", []):
                yield str(item["gsi1sk"])[len("USER#") :]
            if not page.get("LastEvaluatedKey"):
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
