"""Images sent inline in a JSON body: raw base64 or a `data:` URL, decoded to bytes.

Only the transport is checked here (the encoding and the size); the bytes then go through
`verify_image`, which decides from their contents whether they are an image we accept.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from imagestudio import API_PREFIX
from imagestudio.errors import InvalidInput
from imagestudio.imaging.verify import MB, human_size

# An HTTP API request carries at most 10 MB; 7 MB of image is about 9.3 MB of base64.
DEFAULT_INLINE_MAX_BYTES: Final = 7 * MB
UPLOADS_ROUTE: Final = f"POST {API_PREFIX}/uploads"

_WHITESPACE = re.compile(r"\s+")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/=]")
_URL_SAFE = str.maketrans("-_", "+/")
_DATA_URL_EXAMPLE = "data:image/png;base64,iVBORw0KGgo..."


@dataclass(frozen=True)
class InlineKind:
    """What an inline payload is meant to hold, for the messages of `decode_inline`."""

    noun: str  # "image", "audio": the request field and the word in messages
    media_prefix: str  # a data URL's declared type must start with this (or be application/octet-stream)
    type_phrase: str  # "an image type"
    send_phrase: str  # "an image": what the caller should send instead
    example: str  # a data URL of the expected form
    too_big: Callable[[int, int, bool], InvalidInput]  # (size, max_bytes, at_least)


def _too_big(size: int, max_bytes: int, at_least: bool) -> InvalidInput:
    amount = f"at least {human_size(size)}" if at_least else human_size(size)
    return InvalidInput(
        f"The inline image is {amount} once decoded; inline images are limited to {human_size(max_bytes)}."
        f" Upload bigger files with {UPLOADS_ROUTE} and refer to the upload by its id instead.",
        details={"field": "image", "max_bytes": max_bytes, "uploads_route": UPLOADS_ROUTE},
    )


IMAGE: Final = InlineKind(
    noun="image",
    media_prefix="image/",
    type_phrase="an image type",
    send_phrase="an image",
    example=_DATA_URL_EXAMPLE,
    too_big=_too_big,
)


def _strip_data_url(text: str, kind: InlineKind) -> str:
    head, comma, payload = text.partition(",")
    if not comma:
        raise InvalidInput(
            f"The data URL has no comma before its data. Expected the form {kind.example}",
            details={"field": kind.noun},
        )
    media_type, *params = (part.strip().lower() for part in head[len("data:") :].split(";"))
    if "base64" not in params:
        raise InvalidInput(
            f"The data URL is not base64-encoded. Expected the form {kind.example}",
            details={"field": kind.noun},
        )
    if (
        media_type
        and not media_type.startswith(kind.media_prefix)
        and media_type != "application/octet-stream"
    ):
        raise InvalidInput(
            f"The data URL declares '{media_type}', which is not {kind.type_phrase}. Send {kind.send_phrase},"
            f" as in {kind.example}",
            details={"field": kind.noun, "media_type": media_type},
        )
    return payload


def decode_inline(value: str, *, kind: InlineKind, max_bytes: int) -> bytes:
    """Decode raw base64 or a `data:<type>;base64,` URL; whitespace, line breaks, missing padding and the
    URL-safe alphabet are tolerated. Raises InvalidInput (422) for bad base64 or more than `max_bytes`;
    the messages and the ``field`` detail name `kind`.
    """
    noun = kind.noun
    if not isinstance(value, str):
        raise InvalidInput(
            f"The inline {noun} must be a base64 string or a data URL.", details={"field": noun}
        )
    text = value.strip()
    if text[:5].lower() == "data:":
        text = _strip_data_url(text, kind)
    compact = _WHITESPACE.sub("", text).translate(_URL_SAFE)
    stripped = compact.rstrip("=")
    if not stripped:
        raise InvalidInput(
            f"The inline {noun} is empty. Send the {noun} as base64 or as a data URL.",
            details={"field": noun},
        )
    # refuse before decoding: base64 carries 3 bytes in every 4 characters
    estimated = len(stripped) * 3 // 4
    if estimated > max_bytes:
        raise kind.too_big(estimated, max_bytes, True)
    bad = _NOT_BASE64.search(compact)
    if bad is not None:
        raise InvalidInput(
            f"The inline {noun} is not valid base64: unexpected character {bad.group()!r} at position"
            f" {bad.start()}. Send standard base64 (A-Z, a-z, 0-9, +, /) or a data URL like"
            f" {kind.example}",
            details={"field": noun, "position": bad.start()},
        )
    if len(stripped) % 4 == 1:
        raise InvalidInput(
            f"The inline {noun} is not valid base64: its length is one character too many or three too few"
            " (was it cut short?). Send the complete base64 text.",
            details={"field": noun},
        )
    try:
        raw = base64.b64decode(stripped + "=" * (-len(stripped) % 4), validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidInput(
            f"The inline {noun} is not valid base64 ({err}). Send standard base64 or a data URL like"
            f" {kind.example}",
            details={"field": noun},
        ) from None
    if len(raw) > max_bytes:
        raise kind.too_big(len(raw), max_bytes, False)
    return raw


def decode_inline_image(value: str, *, max_bytes: int = DEFAULT_INLINE_MAX_BYTES) -> bytes:
    """Decode raw base64 or a `data:image/...;base64,` URL; whitespace, line breaks, missing padding and
    the URL-safe alphabet are tolerated. Raises InvalidInput (422) for bad base64 or more than `max_bytes`.
    """
    return decode_inline(value, kind=IMAGE, max_bytes=max_bytes)
