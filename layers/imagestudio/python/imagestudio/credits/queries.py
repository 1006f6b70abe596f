"""Reading a user's ledger, newest first, a page at a time."""

from __future__ import annotations

from typing import Any

from imagestudio.credits.models import LedgerEntry
from imagestudio.credits.store import LedgerStore, check_id
from imagestudio.errors import InvalidInput
from imagestudio.store.conditions import Key
from imagestudio.store.dynamo import decode_cursor, encode_cursor, user_pk

MAX_PAGE = 100


class Queries(LedgerStore):
    def entries(
        self, user: str, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[LedgerEntry], str | None]:
        """The user's ledger, newest first, a page at a time (next_cursor None on the last page)."""
        check_id("user", user)
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
