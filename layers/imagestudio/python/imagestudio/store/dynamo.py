"""DynamoDB access shared by the repositories: cached table handles, opaque cursors, key helpers."""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from functools import cache
from typing import Any

from imagestudio import tracing
from imagestudio.errors import InvalidInput


@cache
def _resource() -> Any:
    # One resource per warm container; AWS_ENDPOINT_URL (offline stack) is honoured by boto3 itself.
    # boto3 is imported here, at the first request that needs it, not at cold start.
    import boto3

    resource = boto3.resource("dynamodb")
    tracing.instrument(resource.meta.client)
    return resource


def resource() -> Any:
    return _resource()


def table(name: str) -> Any:
    """A boto3 Table for `name` (reused across warm invocations)."""
    if not name:
        raise RuntimeError("table name is not configured for this function")
    return _resource().Table(name)


def reset_clients() -> None:
    """Forget cached clients (tests switch between moto instances)."""
    _resource.cache_clear()


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    """An opaque cursor for a LastEvaluatedKey (None when there is no next page)."""
    if not last_key:
        return None
    raw = json.dumps({k: _plain(v) for k, v in last_key.items()}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, owner_pk: str) -> dict[str, Any] | None:
    """The ExclusiveStartKey of a cursor; a cursor made for another user's partition is refused."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("The cursor is not valid: pass the 'next_cursor' of the previous page.") from None
    if not isinstance(key, dict) or key.get("pk") != owner_pk:
        raise InvalidInput("The cursor is not valid: pass the 'next_cursor' of the previous page.")
    return key


def query_all(table_handle: Any, *, max_items: int, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a query, page after page, up to about `max_items`."""
    out: list[dict[str, Any]] = []
    while len(out) < max_items:
        page = table_handle.query(**kwargs)
        out.extend(page.get("Items", []))
        if not page.get("LastEvaluatedKey"):
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return out
