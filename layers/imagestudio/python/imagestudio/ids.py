"""Time-ordered, unguessable ids (ULID layout: 48-bit milliseconds + 80 random bits, Crockford base32).

Sorting ids sorts by creation time, so "newest first" is a key order, not a filter.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _encode(value: int) -> str:
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str = "", *, now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    ulid = _encode((ms << 80) | secrets.randbits(80))
    return f"{prefix}{ulid}" if prefix else ulid


def id_bound(ms: int, *, high: bool) -> str:
    """The smallest (or largest) id made in millisecond `ms`: a sort-key bound for a time range."""
    return _encode((ms << 80) | ((1 << 80) - 1 if high else 0))
