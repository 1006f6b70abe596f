"""The one place a ledger entry and its Movement are made, and where a movement id's first result
is found again (the `MOVE#{ref}#{kind}` guard that makes every movement happen at most once)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from imagestudio.credits import retries
from imagestudio.credits.models import Movement, MovementKind
from imagestudio.credits.store import LedgerStore, as_int, move_sk
from imagestudio.errors import Conflict
from imagestudio.ids import new_id

_id_lock = threading.Lock()
_last_ms = 0


def _entry_id(moment: datetime) -> str:
    """A ULID for a ledger entry; strictly increasing within a process so 'newest first' is exact."""
    global _last_ms
    with _id_lock:
        ms = max(int(moment.timestamp() * 1000), _last_ms + 1)
        _last_ms = ms
    return new_id(now_ms=ms)


class Movements(LedgerStore):
    def _record(
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
    ) -> tuple[Movement, retries.Op]:
        """One append-only ledger entry (its put) and the Movement that answers it.

        `amount` is what the entry records (never negative); an adjustment `down` answers it as a
        negative Movement amount.
        """
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
        movement = Movement(
            user=user,
            kind=kind,
            ref=ref,
            amount=-amount if direction == "down" else amount,
            entry_id=entry_id,
            reason=reason,
            available_after=available_after,
            reserved_after=reserved_after,
            created_at=now,
        )
        return movement, (f"entry:{entry_id}", self._put(user, f"LEDGER#{entry_id}", attrs))

    def _guard(self, user: str, ref: str, kind: MovementKind, movement: Movement) -> retries.Op:
        attrs = movement.model_dump(exclude={"user", "replayed", "kind", "ref"})
        return "guard", self._put(user, move_sk(ref, kind), {"kind": kind, "ref": ref, **attrs})

    def _replay(self, user: str, ref: str, kind: MovementKind) -> Movement | None:
        item = self._get(user, move_sk(ref, kind))
        return None if item is None else self._replayed(user, ref, kind, item)

    @staticmethod
    def _replayed(user: str, ref: str, kind: MovementKind, item: dict[str, Any]) -> Movement:
        """The first result of a movement, from its guard item."""
        return Movement(
            user=user,
            kind=kind,
            ref=ref,
            amount=as_int(item.get("amount")),
            returned=as_int(item.get("returned")),
            entry_id=str(item.get("entry_id", "")),
            reason=str(item.get("reason", "")),
            available_after=as_int(item.get("available_after")),
            reserved_after=as_int(item.get("reserved_after")),
            created_at=str(item.get("created_at", "")),
            replayed=True,
        )

    def _replay_checked(
        self, user: str, ref: str, kind: MovementKind, amount: int, *, job_id: str | None = None
    ) -> Movement | None:
        """The first result of a movement id, or Conflict if the id was used for something else."""
        item = self._get(user, move_sk(ref, kind))
        if item is None:
            return None
        same_job = job_id is None or item.get("job_id") == job_id
        if as_int(item.get("amount")) != amount or not same_job:
            raise Conflict(
                f"The {kind} id '{ref}' was already used for {as_int(item.get('amount'))} credits"
                f"{' on job ' + str(item.get('job_id')) if job_id else ''}; use a new id for another {kind}.",
                details={"field": f"{kind}_id", "value": ref, "amount": as_int(item.get("amount"))},
            )
        return self._replayed(user, ref, kind, item)
