"""Time-ordered, unguessable ids (ULID layout: 48-bit milliseconds + 80 random bits, Crockford base32).

Sorting ids sorts by creation time, so "newest first" is a key order, not a filter.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str = "", *, now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    ulid = "".join(reversed(chars))
    return f"{prefix}{ulid}" if prefix else ulid


def id_time_ms(value: str) -> int:
    """The creation time (ms since the epoch) encoded in an id made by `new_id`."""
    ulid = value[-26:]
    ms = 0
    for ch in ulid[:10]:
        ms = ms * 32 + _ALPHABET.index(ch)
    return ms
