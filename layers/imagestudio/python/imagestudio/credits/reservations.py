"""A job's credits: held by `reserve`, then settled once by `capture` or `release`; `refund` gives
back part of what a captured job was charged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from imagestudio.credits import plans as pl
from imagestudio.credits import retries
from imagestudio.credits.models import Account, Movement, Reservation
from imagestudio.credits.store import check_credits, check_id, res_sk
from imagestudio.credits.usage import UsageLimits
from imagestudio.errors import Conflict, NotFound

Build = Callable[[Reservation, Account, datetime, str], tuple[Movement, list[retries.Op]]]


class Reservations(UsageLimits):
    def reservation(self, user: str, job_id: str) -> Reservation:
        item = self._get(user, res_sk(check_id("job_id", job_id)))
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
        check_id("job_id", job_id)
        bucket, asked = self._request(credits, operation, count, wavespeed_calls, quality, model, variations)
        existing = self._existing_reservation(user, job_id, credits)
        if existing is not None:
            return existing
        first_read = self.account(user)
        usage_counts = {bucket: count}
        if wavespeed_calls:
            usage_counts["wavespeed_calls"] = wavespeed_calls

        def attempt(n: int) -> Reservation:
            account = self.account(user) if n else first_read
            moment, now = self._now()
            period = pl.period_of(moment)
            counters = self._counters(user, period)
            self._check(
                account,
                period,
                counters,
                credits=credits,
                bucket=bucket,
                count=count,
                wavespeed_calls=wavespeed_calls,
                asked=asked,
            )
            available, reserved = account.available - credits, account.reserved + credits
            movement, entry = self._record(
                user,
                moment,
                now,
                kind="reserve",
                amount=credits,
                ref=job_id,
                reason=f"{operation} x{count}",
                available_after=available,
                reserved_after=reserved,
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
            except retries.Cancelled as cancelled:
                if cancelled.failed & {"reservation", "guard"}:
                    found = self._existing_reservation(user, job_id, credits)
                    if found is not None:
                        return found
                raise  # the balance or the usage changed: re-read and check again
            return self.reservation(user, job_id)

        return self._retrying(user, attempt)

    # --- settling -----------------------------------------------------------------------------

    def _settle_target(self, user: str, job_id: str) -> Reservation:
        item = self._get(user, res_sk(check_id("job_id", job_id)))
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
        build: Build,
    ) -> Movement:
        """Settle a held reservation once: a repeat answers the first result, a reservation settled the
        other way is `refuse`d, and `build` gives the movement and its writes (the guard is added here)."""
        settled = "captured" if kind == "capture" else "released"

        def attempt(_: int) -> Movement:
            res = self._settle_target(user, job_id)
            if res.status == settled:
                replay = self._replay(user, job_id, kind)
                if replay is not None:
                    return replay
                raise retries.Retry
            if res.status != "held":
                raise refuse(res)
            movement, ops = build(res, self.account(user), *self._now())
            ops.append(self._guard(user, job_id, kind, movement))
            self._transact(ops)  # cancelled: settled by a concurrent call, or the balance moved
            return movement

        return self._retrying(user, attempt)

    def _settle_op(self, user: str, job_id: str, expression: str, values: dict[str, Any]) -> retries.Op:
        """Mark the reservation settled, only if it is still held."""
        return (
            "reservation",
            self._update(
                user,
                res_sk(job_id),
                expression,
                {":held": "held", **values},
                condition="#s = :held",
                names={"#s": "status"},
            ),
        )

    def capture(self, user: str, job_id: str, actual: int) -> Movement:
        """Charge a held job its actual cost (at most what it reserved) and give back the rest."""
        check_credits("actual", actual, minimum=0)

        def refuse(res: Reservation) -> Conflict:
            return Conflict(
                f"Job '{job_id}' had its {res.amount} reserved credits released ({res.settled_at}); "
                "it can no longer be charged.",
                details={"job_id": job_id, "status": res.status, "reserved": res.amount},
            )

        def build(
            res: Reservation, account: Account, moment: datetime, now: str
        ) -> tuple[Movement, list[retries.Op]]:
            charge = min(actual, res.amount)
            rest = res.amount - charge
            if actual > res.amount:
                reason = (
                    f"actual cost {actual} credits exceeded the {res.amount} reserved: "
                    f"charged the reserved {res.amount}"
                )
            else:
                reason = f"job succeeded: {charge} of {res.amount} reserved credits"
            charged, capture_entry = self._record(
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
                self._settle_op(
                    user,
                    job_id,
                    "SET #s = :captured, captured_amount = :charge, settled_at = :now",
                    {":captured": "captured", ":charge": charge, ":now": now},
                ),
                capture_entry,
            ]
            if rest:
                _, release_entry = self._record(
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
            # the capture answers the balance after both entries, and what went back
            movement = charged.model_copy(
                update={"returned": rest, "available_after": available, "reserved_after": reserved}
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
        ) -> tuple[Movement, list[retries.Op]]:
            available, reserved = account.available + res.amount, account.reserved - res.amount
            movement, entry = self._record(
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
            ops = [
                self._balance_op(user, account, available=available, reserved=reserved, now=now),
                self._settle_op(
                    user,
                    job_id,
                    "SET #s = :released, settled_at = :now, release_reason = :why",
                    {":released": "released", ":now": now, ":why": reason},
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
        check_credits("credits", credits, minimum=1)
        check_id("refund_id", refund_id)

        def attempt(_: int) -> Movement:
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
            movement, entry = self._record(
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
            guard_name, guard = self._guard(user, refund_id, "refund", movement)
            guard["Put"]["Item"]["job_id"] = job_id
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
            return movement

        return self._retrying(user, attempt)
