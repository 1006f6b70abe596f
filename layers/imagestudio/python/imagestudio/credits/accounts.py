"""Balances: an account is created on first use with the Free plan's sign-up grant."""

from __future__ import annotations

from contextlib import suppress

from imagestudio.credits import retries
from imagestudio.credits.models import Account
from imagestudio.credits.movements import Movements
from imagestudio.credits.store import BALANCE, DEFAULT_PLAN, SIGNUP_REF, check_id
from imagestudio.store.dynamo import user_pk


class Accounts(Movements):
    def account(self, user: str) -> Account:
        """The user's balance; a new user is created on the Free plan with its grant (ref 'signup')."""
        stored = self._stored(user)
        if stored is not None:
            return stored
        plan = self._catalog.plan(DEFAULT_PLAN)
        credits = plan.monthly_grant_credits
        moment, now = self._now()
        movement, entry = self._record(
            user,
            moment,
            now,
            kind="grant",
            amount=credits,
            ref=SIGNUP_REF,
            reason=f"sign-up grant ({plan.name} plan)",
            available_after=credits,
            reserved_after=0,
        )
        balance = {
            "plan": plan.id,
            "available": credits,
            "reserved": 0,
            "granted": credits,
            "captured": 0,
            "refunded": 0,
            "created_at": now,
            "updated_at": now,
            "gsi1pk": f"PLAN#{plan.id}",
            "gsi1sk": user_pk(user),
        }
        # cancelled: a concurrent first call created the account
        with retries.busy_as_conflict(user), suppress(retries.Cancelled):
            self._transact(
                [
                    ("balance", self._put(user, BALANCE, balance)),
                    self._guard(user, SIGNUP_REF, "grant", movement),
                    entry,
                ]
            )
        item = self._get(user, BALANCE)
        if item is None:  # pragma: no cover - the put either succeeded or lost to one that did
            raise retries.busy(user)
        return self._account(user, item)

    def balance(self, user: str) -> Account:
        """The user's balance (created with the sign-up grant on first use, like `account`)."""
        return self.account(user)

    def set_plan(self, user: str, plan: str) -> Account:
        """Move the user to another plan (limits apply from now; no credits move)."""
        chosen = self._catalog.plan(plan)
        self.account(user)
        _, now = self._now()
        self._table.update_item(
            Key={"pk": user_pk(user), "sk": BALANCE},
            UpdateExpression="SET #plan = :plan, gsi1pk = :gsi, updated_at = :now",
            ExpressionAttributeNames={"#plan": "plan"},
            ExpressionAttributeValues={":plan": chosen.id, ":gsi": f"PLAN#{chosen.id}", ":now": now},
        )
        return self.account(user)

    def _stored(self, user: str) -> Account | None:
        """The user's balance item, if they have one (the read `account` and `_peek` share)."""
        check_id("user", user)
        item = self._get(user, BALANCE)
        return None if item is None else self._account(user, item)

    def _peek(self, user: str) -> Account:
        """The balance without creating it: a user not seen yet looks as they would after sign-up."""
        stored = self._stored(user)
        if stored is not None:
            return stored
        plan = self._catalog.plan(DEFAULT_PLAN)
        return Account(
            user=user,
            plan=plan.id,
            available=plan.monthly_grant_credits,
            reserved=0,
            granted=plan.monthly_grant_credits,
            captured=0,
            refunded=0,
            created_at="",
            updated_at="",
        )
