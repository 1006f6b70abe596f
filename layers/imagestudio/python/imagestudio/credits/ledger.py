"""The credits ledger on the Credits table: balances, reservations, movements and plan usage.

Every movement is ONE DynamoDB TransactWriteItems:
- the balance item, updated with a condition on the (available, reserved) pair it was computed from
  (so it never goes negative, and each ledger entry's `available_after` / `reserved_after` is exact);
- a movement guard `MOVE#{ref}#{kind}` put with attribute_not_exists (so a retry cannot move twice);
- the append-only ledger entry (or two: a capture that used less than it reserved also writes the
  release of the rest);
- the reservation and this period's usage counters where the movement touches them. Usage counters
  are incremented with conditions enforcing the plan's monthly limits, so concurrent requests cannot
  exceed them.

A cancelled transaction is mapped back to the condition that failed: a changed balance or usage
item is re-read and the movement retried (or refused with 402/429 if it no longer fits); a guard or
reservation that already exists turns the call into a no-op returning the first result.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from botocore.exceptions import ClientError

from imagestudio.catalog import Catalog, Plan, get_catalog
from imagestudio.credits import plans as pl
from imagestudio.credits.models import (
    Account,
    LedgerEntry,
    Movement,
    MovementKind,
    Preflight,
    Reservation,
    Usage,
)
from imagestudio.errors import Conflict, InvalidInput, NotFound
from imagestudio.ids import new_id
from imagestudio.store.conditions import Key
from imagestudio.store.dynamo import decode_cursor, encode_cursor, table, user_pk

Clock = Callable[[], datetime]

BALANCE = "BALANCE"
SIGNUP_REF = "signup"
DEFAULT_PLAN = "free"
MAX_PAGE = 100
_RETRYABLE_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
_RETRYABLE_ERRORS = {
    "TransactionConflictException",
    "TransactionInProgressException",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


def res_sk(job_id: str) -> str:
    return f"RES#{job_id}"


def move_sk(ref: str, kind: str) -> str:
    return f"MOVE#{ref}#{kind}"


def usage_sk(period: str) -> str:
    return f"USAGE#{period}"


_id_lock = threading.Lock()
_last_ms = 0


def _entry_id(moment: datetime) -> str:
    """A ULID for a ledger entry; strictly increasing within a process so 'newest first' is exact."""
    global _last_ms
    with _id_lock:
        ms = max(int(moment.timestamp() * 1000), _last_ms + 1)
        _last_ms = ms
    return new_id(now_ms=ms)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, Decimal | int) else 0


class _Cancelled(Exception):
    """A transaction was cancelled because these named items failed their conditions."""

    def __init__(self, failed: set[str]) -> None:
        super().__init__(", ".join(sorted(failed)))
        self.failed = failed


class _Busy(Exception):
    """Optimistic retries ran out."""


def _check_id(field: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200 or value != value.strip():
        raise InvalidInput(
            f"{field} must be a non-empty id without surrounding spaces (at most 200 characters).",
            details={"field": field, "value": value},
        )
    return value


def _check_credits(field: str, value: int, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(
            f"{field} must be a whole number of credits, at least {minimum}.",
            details={"field": field, "value": value},
        )
    return value


class Ledger:
    """Credits of every user in one Credits table (see docs/data-model.md for the items)."""

    def __init__(
        self,
        table_name: str,
        *,
        clock: Clock = utc_now,
        catalog: Catalog | None = None,
        max_attempts: int = 40,
    ) -> None:
        self.table_name = table_name
        self._clock = clock
        self._catalog = catalog or get_catalog()
        self._max_attempts = max_attempts
        self._table_handle: Any = None

    # --- plumbing -----------------------------------------------------------------------------

    @property
    def _table(self) -> Any:
        if self._table_handle is None:
            self._table_handle = table(self.table_name)
        return self._table_handle

    def _now(self) -> tuple[datetime, str]:
        moment = self._clock().astimezone(UTC)
        return moment, pl.iso(moment)

    def _get(self, user: str, sk: str) -> dict[str, Any] | None:
        found = self._table.get_item(Key={"pk": user_pk(user), "sk": sk}, ConsistentRead=True)
        item: dict[str, Any] | None = found.get("Item")
        return item

    def _attempts(self) -> Iterator[int]:
        for attempt in range(self._max_attempts):
            if attempt:
                time.sleep(random.uniform(0, min(0.002 * attempt, 0.05)))
            yield attempt
        raise _Busy

    def _transact(self, ops: list[tuple[str, dict[str, Any]]]) -> None:
        """Run named operations as one transaction; raise _Cancelled naming the failed conditions."""
        client = self._table.meta.client
        for attempt in range(5):
            try:
                client.transact_write_items(TransactItems=[op for _, op in ops])
                return
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                if code == "TransactionCanceledException":
                    reasons = err.response.get("CancellationReasons") or []
                    failed = {
                        ops[i][0]
                        for i, r in enumerate(reasons)
                        if i < len(ops) and r.get("Code") == "ConditionalCheckFailed"
                    }
                    if failed:
                        raise _Cancelled(failed) from None
                    if not any(r.get("Code") in _RETRYABLE_REASONS for r in reasons):
                        raise
                elif code not in _RETRYABLE_ERRORS:
                    raise
                if attempt == 4:
                    raise _Busy from None
                time.sleep(random.uniform(0, 0.02 * 2**attempt))

    def _busy(self, user: str) -> Conflict:
        return Conflict(
            "The credits of this account are being changed by other requests right now; retry in a moment.",
            details={"user": user},
        )

    def _put(self, user: str, sk: str, attrs: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": {"pk": user_pk(user), "sk": sk, **attrs},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _update(
        self,
        user: str,
        sk: str,
        expression: str,
        values: dict[str, Any],
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        op: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"pk": user_pk(user), "sk": sk},
            "UpdateExpression": expression,
            "ExpressionAttributeValues": values,
        }
        if condition:
            op["ConditionExpression"] = condition
        if names:
            op["ExpressionAttributeNames"] = names
        return {"Update": op}

    def _balance_op(
        self,
        user: str,
        before: Account,
        *,
        available: int,
        reserved: int,
        now: str,
        add: dict[str, int] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Set the balance to (available, reserved), only if it still is what it was read as."""
        values: dict[str, Any] = {
            ":a0": before.available,
            ":r0": before.reserved,
            ":a1": available,
            ":r1": reserved,
            ":now": now,
        }
        expression = "SET available = :a1, reserved = :r1, updated_at = :now"
        adds = {k: v for k, v in (add or {}).items() if v}
        if adds:
            expression += " ADD " + ", ".join(f"{k} :add_{k}" for k in adds)
            values.update({f":add_{k}": v for k, v in adds.items()})
        return (
            "balance",
            self._update(user, BALANCE, expression, values, condition="available = :a0 AND reserved = :r0"),
        )

    def _entry(
        self,
        user: str,
        moment: datetime,
        now: str,
        *,
        kind: MovementKind,
        amount: int,
        ref: str,
        reason: str,
        available_after: int,
        reserved_after: int,
        direction: str | None = None,
    ) -> tuple[str, tuple[str, dict[str, Any]]]:
        entry_id = _entry_id(moment)
        attrs: dict[str, Any] = {
            "kind": kind,
            "amount": amount,
            "ref": ref,
            "reason": reason,
            "available_after": available_after,
            "reserved_after": reserved_after,
            "created_at": now,
        }
        if direction:
            attrs["direction"] = direction
        return entry_id, (f"entry:{entry_id}", self._put(user, f"LEDGER#{entry_id}", attrs))

    def _guard(
        self, user: str, ref: str, kind: MovementKind, movement: Movement
    ) -> tuple[str, dict[str, Any]]:
        attrs = movement.model_dump(exclude={"user", "replayed", "kind", "ref"})
        return "guard", self._put(user, move_sk(ref, kind), {"kind": kind, "ref": ref, **attrs})

    def _replay(self, user: str, ref: str, kind: MovementKind) -> Movement | None:
        item = self._get(user, move_sk(ref, kind))
        if item is None:
            return None
        return Movement(
            user=user,
            kind=kind,
            ref=ref,
            amount=_int(item.get("amount")),
            returned=_int(item.get("returned")),
            entry_id=str(item.get("entry_id", "")),
            reason=str(item.get("reason", "")),
            available_after=_int(item.get("available_after")),
            reserved_after=_int(item.get("reserved_after")),
            created_at=str(item.get("created_at", "")),
            replayed=True,
        )

    @staticmethod
    def _account(user: str, item: dict[str, Any]) -> Account:
        return Account(
            user=user,
            plan=str(item.get("plan", DEFAULT_PLAN)),
            available=_int(item.get("available")),
            reserved=_int(item.get("reserved")),
            granted=_int(item.get("granted")),
            captured=_int(item.get("captured")),
            refunded=_int(item.get("refunded")),
            created_at=str(item.get("created_at", "")),
            updated_at=str(item.get("updated_at", "")),
        )

    @staticmethod
    def _reservation(user: str, item: dict[str, Any], *, replayed: bool = False) -> Reservation:
        return Reservation(
            user=user,
            job_id=str(item["sk"])[len("RES#") :],
            amount=_int(item.get("amount")),
            status=item.get("status", "held"),
            captured_amount=_int(item.get("captured_amount")),
            refunded_amount=_int(item.get("refunded_amount")),
            operation=str(item.get("operation", "")),
            period=str(item.get("period", "")),
            usage={str(k): _int(v) for k, v in (item.get("usage") or {}).items()},
            created_at=str(item.get("created_at", "")),
            settled_at=item.get("settled_at"),
            replayed=replayed,
        )

    # --- accounts -----------------------------------------------------------------------------

    def account(self, user: str) -> Account:
        """The user's balance; a new user is created on the Free plan with its grant (ref 'signup')."""
        _check_id("user", user)
        item = self._get(user, BALANCE)
        if item is not None:
            return self._account(user, item)
        plan = self._catalog.plan(DEFAULT_PLAN)
        credits = plan.monthly_grant_credits
        moment, now = self._now()
        entry_id, entry = self._entry(
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
        movement = Movement(
            user=user,
            kind="grant",
            ref=SIGNUP_REF,
            amount=credits,
            entry_id=entry_id,
            reason=f"sign-up grant ({plan.name} plan)",
            available_after=credits,
            reserved_after=0,
            created_at=now,
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
        try:
            self._transact(
                [
                    ("balance", self._put(user, BALANCE, balance)),
                    self._guard(user, SIGNUP_REF, "grant", movement),
                    entry,
                ]
            )
        except _Cancelled:
            pass  # a concurrent first call created the account
        except _Busy:
            raise self._busy(user) from None
        item = self._get(user, BALANCE)
        if item is None:  # pragma: no cover - the put either succeeded or lost to one that did
            raise self._busy(user)
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

    def _peek(self, user: str) -> Account:
        """The balance without creating it: a user not seen yet looks as they would after sign-up."""
        _check_id("user", user)
        item = self._get(user, BALANCE)
        if item is not None:
            return self._account(user, item)
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

    # --- usage --------------------------------------------------------------------------------

    def _counters(self, user: str, period: str) -> dict[str, int]:
        item = self._get(user, usage_sk(period)) or {}
        return {name: _int(item.get(name)) for name in (*pl.COUNTERS, "credits")}

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
        operation: str,
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
        _check_credits("credits", credits, minimum=0)
        _check_credits("count", count, minimum=1)
        _check_credits("wavespeed_calls", wavespeed_calls, minimum=0)
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
            operation=operation,
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

    # --- reservations -------------------------------------------------------------------------

    def reservation(self, user: str, job_id: str) -> Reservation:
        item = self._get(user, res_sk(_check_id("job_id", job_id)))
        if item is None:
            raise NotFound(
                f"No credit reservation for job '{job_id}'.", details={"field": "job_id", "value": job_id}
            )
        return self._reservation(user, item)

    def _existing_reservation(self, user: str, job_id: str, credits: int) -> Reservation | None:
        item = self._get(user, res_sk(job_id))
        if item is None:
            return None
        found = self._reservation(user, item, replayed=True)
        if found.amount != credits:
            raise Conflict(
                f"Job '{job_id}' already reserved {found.amount} credits; a repeat must ask the same "
                f"amount ({credits} asked). Use a new job id for a different request.",
                details={
                    "job_id": job_id,
                    "reserved": found.amount,
                    "asked": credits,
                    "status": found.status,
                },
            )
        return found

    def reserve(
        self,
        user: str,
        job_id: str,
        credits: int,
        *,
        operation: str,
        count: int = 1,
        wavespeed_calls: int = 0,
        quality: str | None = None,
        model: str | None = None,
        variations: int | None = None,
    ) -> Reservation:
        """Hold credits for a job and count it against the plan; a repeat with the same amount is a no-op."""
        _check_id("job_id", job_id)
        bucket, asked = self._request(credits, operation, count, wavespeed_calls, quality, model, variations)
        existing = self._existing_reservation(user, job_id, credits)
        if existing is not None:
            return existing
        account = self.account(user)
        usage_counts = {bucket: count}
        if wavespeed_calls:
            usage_counts["wavespeed_calls"] = wavespeed_calls
        try:
            for attempt in self._attempts():
                if attempt:
                    account = self.account(user)
                moment, now = self._now()
                period = pl.period_of(moment)
                counters = self._counters(user, period)
                self._check(
                    account,
                    period,
                    counters,
                    credits=credits,
                    operation=operation,
                    bucket=bucket,
                    count=count,
                    wavespeed_calls=wavespeed_calls,
                    asked=asked,
                )
                available, reserved = account.available - credits, account.reserved + credits
                reason = f"{operation} x{count}"
                entry_id, entry = self._entry(
                    user,
                    moment,
                    now,
                    kind="reserve",
                    amount=credits,
                    ref=job_id,
                    reason=reason,
                    available_after=available,
                    reserved_after=reserved,
                )
                movement = Movement(
                    user=user,
                    kind="reserve",
                    ref=job_id,
                    amount=credits,
                    entry_id=entry_id,
                    reason=reason,
                    available_after=available,
                    reserved_after=reserved,
                    created_at=now,
                )
                reservation = {
                    "amount": credits,
                    "status": "held",
                    "captured_amount": 0,
                    "refunded_amount": 0,
                    "operation": operation,
                    "period": period,
                    "usage": usage_counts,
                    "created_at": now,
                }
                for name, value in (("quality", asked.get("quality")), ("model", asked.get("model"))):
                    if value is not None:
                        reservation[name] = value
                try:
                    self._transact(
                        [
                            self._balance_op(user, account, available=available, reserved=reserved, now=now),
                            ("reservation", self._put(user, res_sk(job_id), reservation)),
                            self._guard(user, job_id, "reserve", movement),
                            entry,
                            self._usage_op(
                                user, period, bucket, count, wavespeed_calls, credits, self._plan(account)
                            ),
                        ]
                    )
                except _Cancelled as cancelled:
                    if cancelled.failed & {"reservation", "guard"}:
                        existing = self._existing_reservation(user, job_id, credits)
                        if existing is not None:
                            return existing
                    continue  # the balance or the usage changed: re-read and check again
                return self.reservation(user, job_id)
        except _Busy:
            raise self._busy(user) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _usage_op(
        self,
        user: str,
        period: str,
        bucket: str,
        count: int,
        wavespeed_calls: int,
        credits: int,
        plan: Plan,
    ) -> tuple[str, dict[str, Any]]:
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

    def _undo_usage_op(self, user: str, reservation: Reservation, credits: int) -> tuple[str, dict[str, Any]]:
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

    # --- settling -----------------------------------------------------------------------------

    def _settle_target(self, user: str, job_id: str) -> Reservation:
        item = self._get(user, res_sk(_check_id("job_id", job_id)))
        if item is None:
            raise NotFound(
                f"No credit reservation for job '{job_id}': credits are reserved before a job runs.",
                details={"field": "job_id", "value": job_id},
            )
        return self._reservation(user, item)

    def _settle(
        self,
        user: str,
        job_id: str,
        kind: Literal["capture", "release"],
        refuse: Callable[[Reservation], Conflict],
        build: Callable[
            [Reservation, Account, datetime, str], tuple[Movement, list[tuple[str, dict[str, Any]]]]
        ],
    ) -> Movement:
        """Settle a held reservation once: a repeat answers the first result, a reservation settled the
        other way is `refuse`d, and `build` gives the movement and its writes (the guard is added here)."""
        settled = "captured" if kind == "capture" else "released"
        try:
            for _ in self._attempts():
                res = self._settle_target(user, job_id)
                if res.status == settled:
                    replay = self._replay(user, job_id, kind)
                    if replay is not None:
                        return replay
                    continue
                if res.status != "held":
                    raise refuse(res)
                movement, ops = build(res, self.account(user), *self._now())
                ops.append(self._guard(user, job_id, kind, movement))
                try:
                    self._transact(ops)
                except _Cancelled:
                    continue  # re-read: settled by a concurrent call, or the balance moved
                return movement
        except _Busy:
            raise self._busy(user) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def capture(self, user: str, job_id: str, actual: int) -> Movement:
        """Charge a held job its actual cost (at most what it reserved) and give back the rest."""
        _check_credits("actual", actual, minimum=0)

        def refuse(res: Reservation) -> Conflict:
            return Conflict(
                f"Job '{job_id}' had its {res.amount} reserved credits released ({res.settled_at}); "
                "it can no longer be charged.",
                details={"job_id": job_id, "status": res.status, "reserved": res.amount},
            )

        def build(
            res: Reservation, account: Account, moment: datetime, now: str
        ) -> tuple[Movement, list[tuple[str, dict[str, Any]]]]:
            charge = min(actual, res.amount)
            rest = res.amount - charge
            if actual > res.amount:
                reason = (
                    f"actual cost {actual} credits exceeded the {res.amount} reserved: "
                    f"charged the reserved {res.amount}"
                )
            else:
                reason = f"job succeeded: {charge} of {res.amount} reserved credits"
            capture_id, capture_entry = self._entry(
                user,
                moment,
                now,
                kind="capture",
                amount=charge,
                ref=job_id,
                reason=reason,
                available_after=account.available,
                reserved_after=account.reserved - charge,
            )
            available, reserved = account.available + rest, account.reserved - res.amount
            ops = [
                self._balance_op(
                    user, account, available=available, reserved=reserved, now=now, add={"captured": charge}
                ),
                (
                    "reservation",
                    self._update(
                        user,
                        res_sk(job_id),
                        "SET #s = :captured, captured_amount = :charge, settled_at = :now",
                        {":captured": "captured", ":held": "held", ":charge": charge, ":now": now},
                        condition="#s = :held",
                        names={"#s": "status"},
                    ),
                ),
                capture_entry,
            ]
            if rest:
                _, release_entry = self._entry(
                    user,
                    moment,
                    now,
                    kind="release",
                    amount=rest,
                    ref=job_id,
                    reason=f"unused part of the {res.amount} credits reserved",
                    available_after=available,
                    reserved_after=reserved,
                )
                ops += [release_entry, self._undo_usage_op(user, res.model_copy(update={"usage": {}}), rest)]
            movement = Movement(
                user=user,
                kind="capture",
                ref=job_id,
                amount=charge,
                returned=rest,
                entry_id=capture_id,
                reason=reason,
                available_after=available,
                reserved_after=reserved,
                created_at=now,
            )
            return movement, ops

        return self._settle(user, job_id, "capture", refuse, build)

    def release(self, user: str, job_id: str, reason: str) -> Movement:
        """Give a held job's credits back and take it out of the usage counters."""

        def refuse(res: Reservation) -> Conflict:
            return Conflict(
                f"Job '{job_id}' was already charged {res.captured_amount} credits, so its "
                "reservation cannot be released; use a refund to give credits back.",
                details={"job_id": job_id, "status": res.status, "captured": res.captured_amount},
            )

        def build(
            res: Reservation, account: Account, moment: datetime, now: str
        ) -> tuple[Movement, list[tuple[str, dict[str, Any]]]]:
            available, reserved = account.available + res.amount, account.reserved - res.amount
            entry_id, entry = self._entry(
                user,
                moment,
                now,
                kind="release",
                amount=res.amount,
                ref=job_id,
                reason=reason,
                available_after=available,
                reserved_after=reserved,
            )
            movement = Movement(
                user=user,
                kind="release",
                ref=job_id,
                amount=res.amount,
                entry_id=entry_id,
                reason=reason,
                available_after=available,
                reserved_after=reserved,
                created_at=now,
            )
            ops = [
                self._balance_op(user, account, available=available, reserved=reserved, now=now),
                (
                    "reservation",
                    self._update(
                        user,
                        res_sk(job_id),
                        "SET #s = :released, settled_at = :now, release_reason = :why",
                        {":released": "released", ":held": "held", ":now": now, ":why": reason},
                        condition="#s = :held",
                        names={"#s": "status"},
                    ),
                ),
                entry,
                self._undo_usage_op(user, res, res.amount),
            ]
            return movement, ops

        return self._settle(user, job_id, "release", refuse, build)

    def expire(self, user: str, job_id: str) -> Movement:
        """Release a job that passed its deadline (the jobs sweeper)."""
        return self.release(user, job_id, "deadline passed")

    def refund(self, user: str, job_id: str, credits: int, reason: str, refund_id: str) -> Movement:
        """Give back part or all of what a job was charged; at most once per refund_id."""
        _check_credits("credits", credits, minimum=1)
        _check_id("refund_id", refund_id)
        try:
            for _ in self._attempts():
                replay = self._replay_checked(user, refund_id, "refund", credits, job_id=job_id)
                if replay is not None:
                    return replay
                res = self._settle_target(user, job_id)
                if res.status != "captured":
                    fix = "capture it first" if res.status == "held" else "nothing was charged"
                    raise Conflict(
                        f"Job '{job_id}' has not been charged ({res.status}): {fix}.",
                        details={"job_id": job_id, "status": res.status},
                    )
                refundable = res.captured_amount - res.refunded_amount
                if credits > refundable:
                    raise Conflict(
                        f"Job '{job_id}' was charged {res.captured_amount} credits and {res.refunded_amount} "
                        f"were refunded already: at most {refundable} can be refunded, {credits} asked.",
                        details={
                            "job_id": job_id,
                            "captured": res.captured_amount,
                            "refunded": res.refunded_amount,
                            "refundable": refundable,
                            "asked": credits,
                        },
                    )
                account = self.account(user)
                available = account.available + credits
                moment, now = self._now()
                entry_id, entry = self._entry(
                    user,
                    moment,
                    now,
                    kind="refund",
                    amount=credits,
                    ref=refund_id,
                    reason=f"{reason} (job {job_id})",
                    available_after=available,
                    reserved_after=account.reserved,
                )
                movement = Movement(
                    user=user,
                    kind="refund",
                    ref=refund_id,
                    amount=credits,
                    entry_id=entry_id,
                    reason=f"{reason} (job {job_id})",
                    available_after=available,
                    reserved_after=account.reserved,
                    created_at=now,
                )
                guard_name, guard = self._guard(user, refund_id, "refund", movement)
                guard["Put"]["Item"]["job_id"] = job_id
                try:
                    self._transact(
                        [
                            self._balance_op(
                                user,
                                account,
                                available=available,
                                reserved=account.reserved,
                                now=now,
                                add={"refunded": credits},
                            ),
                            (
                                "reservation",
                                self._update(
                                    user,
                                    res_sk(job_id),
                                    "SET refunded_amount = :after",
                                    {":seen": res.refunded_amount, ":after": res.refunded_amount + credits},
                                    condition="refunded_amount = :seen",
                                ),
                            ),
                            (guard_name, guard),
                            entry,
                        ]
                    )
                except _Cancelled:
                    continue
                return movement
        except _Busy:
            raise self._busy(user) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _replay_checked(
        self, user: str, ref: str, kind: MovementKind, amount: int, *, job_id: str | None = None
    ) -> Movement | None:
        """The first result of a movement id, or Conflict if the id was used for something else."""
        item = self._get(user, move_sk(ref, kind))
        if item is None:
            return None
        same_job = job_id is None or item.get("job_id") == job_id
        if _int(item.get("amount")) != amount or not same_job:
            raise Conflict(
                f"The {kind} id '{ref}' was already used for {_int(item.get('amount'))} credits"
                f"{' on job ' + str(item.get('job_id')) if job_id else ''}; use a new id for another {kind}.",
                details={"field": f"{kind}_id", "value": ref, "amount": _int(item.get("amount"))},
            )
        return self._replay(user, ref, kind)

    # --- grants and adjustments ---------------------------------------------------------------

    def grant(self, user: str, grant_id: str, credits: int, reason: str) -> Movement:
        """Add credits (purchase, monthly allowance, goodwill); once per grant_id."""
        _check_id("grant_id", grant_id)
        _check_credits("credits", credits, minimum=1)
        return self._give(user, grant_id, "grant", credits, reason)

    def adjust(self, user: str, adjustment_id: str, delta: int, reason: str) -> Movement:
        """Admin correction of available credits (+/-); never below 0; once per adjustment_id."""
        _check_id("adjustment_id", adjustment_id)
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
            raise InvalidInput(
                "delta must be a non-zero whole number of credits.",
                details={"field": "delta", "value": delta},
            )
        return self._give(user, adjustment_id, "adjust", delta, reason)

    def _give(self, user: str, ref: str, kind: MovementKind, delta: int, reason: str) -> Movement:
        try:
            for _ in self._attempts():
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
                entry_id, entry = self._entry(
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
                movement = Movement(
                    user=user,
                    kind=kind,
                    ref=ref,
                    amount=delta,
                    entry_id=entry_id,
                    reason=reason,
                    available_after=available,
                    reserved_after=account.reserved,
                    created_at=now,
                )
                try:
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
                except _Cancelled:
                    continue
                return movement
        except _Busy:
            raise self._busy(user) from None
        raise AssertionError("unreachable")  # pragma: no cover

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

    # --- reading the ledger -------------------------------------------------------------------

    def entries(
        self, user: str, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[LedgerEntry], str | None]:
        """The user's ledger, newest first, a page at a time (next_cursor None on the last page)."""
        _check_id("user", user)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(
                f"limit must be between 1 and {MAX_PAGE}.", details={"field": "limit", "value": limit}
            )
        pk = user_pk(user)
        start = decode_cursor(cursor, owner_pk=pk)
        if start is not None and not str(start.get("sk", "")).startswith("LEDGER#"):
            raise InvalidInput("The cursor is not valid: pass the 'next_cursor' of the previous page.")
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(pk) & Key("sk").begins_with("LEDGER#"),
            "ScanIndexForward": False,
            "Limit": limit + 1,
            "ConsistentRead": True,
        }
        if start is not None:
            query["ExclusiveStartKey"] = {"pk": pk, "sk": start["sk"]}
        items = self._table.query(**query).get("Items", [])
        page = [self._ledger_entry(i) for i in items[:limit]]
        more = len(items) > limit
        next_cursor = encode_cursor({"pk": pk, "sk": f"LEDGER#{page[-1].id}"}) if more and page else None
        return page, next_cursor

    @staticmethod
    def _ledger_entry(item: dict[str, Any]) -> LedgerEntry:
        return LedgerEntry(
            id=str(item["sk"])[len("LEDGER#") :],
            kind=item["kind"],
            amount=_int(item.get("amount")),
            direction=item.get("direction"),
            ref=str(item.get("ref", "")),
            reason=str(item.get("reason", "")),
            available_after=_int(item.get("available_after")),
            reserved_after=_int(item.get("reserved_after")),
            created_at=str(item.get("created_at", "")),
        )
