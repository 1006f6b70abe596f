"""The Credits table under the ledger: item keys, reads, the write operations a movement is made of,
and the decoding of items into the ledger's answers. No credit rule lives here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from imagestudio.catalog import Catalog, get_catalog
from imagestudio.credits import plans as pl
from imagestudio.credits import retries
from imagestudio.credits.models import Account, LedgerEntry, Reservation
from imagestudio.errors import InvalidInput
from imagestudio.store.dynamo import table, user_pk

Clock = Callable[[], datetime]
T = TypeVar("T")

BALANCE = "BALANCE"
SIGNUP_REF = "signup"
DEFAULT_PLAN = "free"


def utc_now() -> datetime:
    return datetime.now(UTC)


def res_sk(job_id: str) -> str:
    return f"RES#{job_id}"


def move_sk(ref: str, kind: str) -> str:
    return f"MOVE#{ref}#{kind}"


def usage_sk(period: str) -> str:
    return f"USAGE#{period}"


def as_int(value: Any) -> int:
    return int(value) if isinstance(value, Decimal | int) else 0


def check_id(field: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200 or value != value.strip():
        raise InvalidInput(
            f"{field} must be a non-empty id without surrounding spaces (at most 200 characters).",
            details={"field": field, "value": value},
        )
    return value


def check_credits(field: str, value: int, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(
            f"{field} must be a whole number of credits, at least {minimum}.",
            details={"field": field, "value": value},
        )
    return value


class LedgerStore:
    """The table handle, clock and catalog every part of the ledger works with."""

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

    def _transact(self, ops: list[retries.Op]) -> None:
        retries.transact(self._table.meta.client, ops)

    def _retrying(self, user: str, attempt: Callable[[int], T]) -> T:
        """Run a read-check-write attempt until it lands (see `retries.retrying`)."""
        return retries.retrying(user, self._max_attempts, attempt)

    # --- the writes a movement is made of -----------------------------------------------------

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
    ) -> retries.Op:
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

    # --- items into answers -------------------------------------------------------------------

    @staticmethod
    def _account(user: str, item: dict[str, Any]) -> Account:
        return Account(
            user=user,
            plan=str(item.get("plan", DEFAULT_PLAN)),
            available=as_int(item.get("available")),
            reserved=as_int(item.get("reserved")),
            granted=as_int(item.get("granted")),
            captured=as_int(item.get("captured")),
            refunded=as_int(item.get("refunded")),
            created_at=str(item.get("created_at", "")),
            updated_at=str(item.get("updated_at", "")),
        )

    @staticmethod
    def _reservation(user: str, item: dict[str, Any], *, replayed: bool = False) -> Reservation:
        return Reservation(
            user=user,
            job_id=str(item["sk"])[len("RES#") :],
            amount=as_int(item.get("amount")),
            status=item.get("status", "held"),
            captured_amount=as_int(item.get("captured_amount")),
            refunded_amount=as_int(item.get("refunded_amount")),
            operation=str(item.get("operation", "")),
            period=str(item.get("period", "")),
            usage={str(k): as_int(v) for k, v in (item.get("usage") or {}).items()},
            created_at=str(item.get("created_at", "")),
            settled_at=item.get("settled_at"),
            replayed=replayed,
        )

    @staticmethod
    def _ledger_entry(item: dict[str, Any]) -> LedgerEntry:
        return LedgerEntry(
            id=str(item["sk"])[len("LEDGER#") :],
            kind=item["kind"],
            amount=as_int(item.get("amount")),
            direction=item.get("direction"),
            ref=str(item.get("ref", "")),
            reason=str(item.get("reason", "")),
            available_after=as_int(item.get("available_after")),
            reserved_after=as_int(item.get("reserved_after")),
            created_at=str(item.get("created_at", "")),
        )
