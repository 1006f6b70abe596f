"""Listing and searching a user's library: filters, sorts and opaque cursors. See docs/data-model.md (Assets).

Never a Scan. Sorted by creation time, pages are read straight off the owner's partition (or the ByType /
ByCollection index) in key order and the cursor is the key to resume after. Any other sort reads the
matching part of the library up to MAX_SORTED items, sorts it in memory, and the cursor is an offset.
Both cursors carry a hash of the query, so a cursor reused with other filters or another sort is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from imagestudio.errors import InvalidInput
from imagestudio.models.records import Asset
from imagestudio.store.assets import AssetRepository
from imagestudio.store.conditions import Attr

SortField = Literal["created_at", "updated_at", "cost", "file_size", "title"]
SortOrder = Literal["asc", "desc"]
TagsMode = Literal["any", "all"]
SORTS: tuple[str, ...] = ("created_at", "updated_at", "cost", "file_size", "title")
MAX_SORTED = 5000  # items read (after key conditions) for a sort other than created_at
MAX_EXAMINED = 5000  # items read per created_at page before a short page is answered
MAX_TAGS = 50
_BAD_CURSOR = "The cursor is not valid: pass the 'next_cursor' of the previous page."


def normalise_tags(tags: list[str]) -> list[str]:
    """Lower-case, trimmed, unique, sorted."""
    return sorted({t.strip().lower() for t in tags if t.strip()})


def parse_bound(value: str | None, *, end: bool, name: str) -> datetime | None:
    """An ISO date or date-time; a bare date_to means the end of that day (inclusive)."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time.min, tzinfo=UTC)
            return moment + timedelta(days=1) - timedelta(microseconds=1) if end else moment
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be an ISO date (2024-05-01) or date-time.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class LibraryQuery:
    asset_type: str | None = None
    source_module: str | None = None
    search: str | None = None
    tags: list[str] = field(default_factory=list)
    tags_mode: TagsMode = "any"
    favorites_only: bool = False
    collection_id: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    sort: SortField = "created_at"
    order: SortOrder = "desc"

    def __post_init__(self) -> None:
        self.tags = normalise_tags(self.tags)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidInput("date_from is after date_to.")

    @property
    def terms(self) -> list[str]:
        return (self.search or "").casefold().split()

    def fingerprint(self, owner: str) -> str:
        data = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}
        raw = json.dumps({"owner": owner, **data}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()[:20]

    def matches(self, a: Asset) -> bool:
        if self.asset_type and a.type != self.asset_type:
            return False
        if self.collection_id and a.collection_id != self.collection_id:
            return False
        if self.favorites_only and not a.favorite:
            return False
        if self.source_module and self.source_module not in (a.operation, a.source):
            return False
        if self.date_from and a.created_at < self.date_from:
            return False
        if self.date_to and a.created_at > self.date_to:
            return False
        if self.tags:
            have = set(a.tags)
            if self.tags_mode == "all" and not set(self.tags) <= have:
                return False
            if self.tags_mode == "any" and not have.intersection(self.tags):
                return False
        if self.terms:
            fields = (a.title, a.description, a.prompt, a.filename, *a.tags)
            haystack = "\n".join(f for f in fields if f).casefold()
            return all(t in haystack for t in self.terms)
        return True

    def filter_expression(self) -> Any:
        """The exact-match filters, applied by DynamoDB too (text and tags are matched in memory)."""
        parts: list[Any] = []
        if self.favorites_only:
            parts.append(Attr("favorite").eq(True))
        if self.asset_type and self.collection_id:  # the type is a key only without a collection
            parts.append(Attr("type").eq(self.asset_type))
        if self.source_module:
            parts.append(Attr("operation").eq(self.source_module) | Attr("source").eq(self.source_module))
        if not parts:
            return None
        out = parts[0]
        for p in parts[1:]:
            out = out & p
        return out


def sort_key(sort: str, a: Asset) -> tuple[Any, str]:
    value: Any = {
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "cost": a.cost_credits,
        "file_size": a.bytes,
        "title": (a.title or "").casefold(),
    }[sort]
    return value, a.id


@dataclass
class LibraryPage:
    assets: list[Asset]
    next_cursor: str | None
    truncated: bool = False


def _encode(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str | None, fingerprint: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(_BAD_CURSOR) from None
    if not isinstance(data, dict) or "h" not in data:
        raise InvalidInput(_BAD_CURSOR)
    if data["h"] != fingerprint:
        raise InvalidInput(
            "This cursor belongs to a different query: repeat the same filters and sort, "
            "or start again without a cursor."
        )
    return data


def search_library(
    repo: AssetRepository, owner: str, query: LibraryQuery, *, limit: int = 50, cursor: str | None = None
) -> LibraryPage:
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be between 1 and 500.")
    fp = query.fingerprint(owner)
    state = _decode(cursor, fp)
    scope: dict[str, Any] = {
        "asset_type": query.asset_type if not query.collection_id else None,
        "collection_id": query.collection_id,
        "created_from": query.date_from,
        "created_to": query.date_to,
        "filter_expression": query.filter_expression(),
    }
    if query.sort == "created_at":
        start = state.get("k") if state else None
        if state is not None and not isinstance(start, dict):
            raise InvalidInput(_BAD_CURSOR)
        out: list[Asset] = []
        resume: dict[str, Any] | None = None
        for examined, (asset, key) in enumerate(
            repo.iter_assets(
                owner,
                **scope,
                newest_first=query.order == "desc",
                start_key=start,
                page_size=min(1000, max(limit * 2, 50)),
            ),
            start=1,
        ):
            if query.matches(asset):
                if len(out) == limit:  # one more exists: the page ends at the previous one
                    return LibraryPage(out, _encode({"h": fp, "k": resume}))
                out.append(asset)
            resume = key
            if examined >= MAX_EXAMINED and len(out) < limit:  # bounded work: a short page, resumable
                return LibraryPage(out, _encode({"h": fp, "k": resume}))
        return LibraryPage(out, None)

    offset = state.get("o") if state else 0
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInput(_BAD_CURSOR)
    matched: list[Asset] = []
    truncated = False
    for n, (asset, _key) in enumerate(repo.iter_assets(owner, **scope, newest_first=True)):
        if n >= MAX_SORTED:
            truncated = True
            break
        if query.matches(asset):
            matched.append(asset)
    matched.sort(key=lambda a: sort_key(query.sort, a), reverse=query.order == "desc")
    page = matched[offset : offset + limit]
    more = offset + limit < len(matched)
    return LibraryPage(page, _encode({"h": fp, "o": offset + limit}) if more else None, truncated)
