"""Whether an answer with its images inline (base64) can fit in what a Lambda may answer.

A Lambda answers at most 6 MB, and base64 makes 4 characters of every 3 bytes. An inline answer is
checked here before a credit is reserved, from what is known up front (each output's size and
format), with an upper bound of the encoded file rather than a guess: a PNG or WebP is at most its
raw RGBA pixels plus PNG's per-row and per-block overhead, a JPEG at most its raw RGB pixels. So an
inline answer that passes the check always fits once made, and one that could not fit is refused
(413) with what to change, instead of failing after the credits were taken.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from imagestudio.errors import AnswerTooLarge

LAMBDA_ANSWER_MAX = 6 * 1024 * 1024  # bytes a synchronous Lambda may answer
ANSWER_ALLOWANCE = 64 * 1024  # the rest of the answer: job fields, notes, headers
PER_IMAGE_ALLOWANCE = 2 * 1024  # each result's own fields and its data: URL prefix
INLINE_BUDGET = LAMBDA_ANSWER_MAX - ANSWER_ALLOWANCE
#: the most bytes a pixel can take in each format's file (8-bit channels)
BYTES_PER_PIXEL = {"png": 4, "webp": 4, "jpeg": 3, "jpg": 3}
FILE_OVERHEAD = 4 * 1024  # headers and chunks of one file


def file_bound(width: int, height: int, fmt: str) -> int:
    """The largest file `fmt` can make of width x height pixels (PNG: a filter byte per row, 5 bytes
    per stored deflate block of 64 KiB)."""
    raw = width * height * BYTES_PER_PIXEL.get(fmt, 4)
    return raw + height + 5 * math.ceil(raw / 65_535) + FILE_OVERHEAD


def base64_length(size: int) -> int:
    return 4 * math.ceil(size / 3)


def inline_bound(sizes: Sequence[tuple[int, int]], fmt: str) -> int:
    """Upper bound of the answer's bytes when every output is inline."""
    return answer_bytes([file_bound(w, h, fmt) for w, h in sizes])


def answer_bytes(file_sizes: Sequence[int]) -> int:
    """The answer's bytes with files of these sizes inline (an upper bound: the allowances are generous)."""
    return ANSWER_ALLOWANCE + sum(base64_length(size) + PER_IMAGE_ALLOWANCE for size in file_sizes)


def ensure_files_fit(file_sizes: Sequence[int], *, what: str) -> None:
    """Files already made on our own compute (no credit involved, none stored yet): refuse (413) an
    inline answer of them that would not fit, from their real sizes."""
    total = answer_bytes(file_sizes)
    if total <= LAMBDA_ANSWER_MAX:
        return
    fitting = sum(
        1 for n in range(1, len(file_sizes) + 1) if answer_bytes(file_sizes[:n]) <= LAMBDA_ANSWER_MAX
    )
    raise AnswerTooLarge(
        f"{what[0].upper()}{what[1:]} take {total / 1e6:.1f} MB as base64, more than the 6 MB a Lambda can "
        "answer; nothing was kept. Ask "
        + (f"at most {fitting} format(s), " if len(file_sizes) > 1 and fitting else "")
        + "output_format jpg or response_format=url (download URLs, no size limit).",
        details={
            "field": "response_format",
            "limit_bytes": LAMBDA_ANSWER_MAX,
            "estimated_bytes": total,
            "outputs": len(file_sizes),
            "fits_outputs": fitting,
        },
    )


def ensure_inline_fits(sizes: Sequence[tuple[int | None, int | None]], fmt: str, *, what: str) -> None:
    """Refuse (413) an inline answer that might not fit, saying what would: fewer outputs, a smaller
    size, JPEG, or response_format=url. `what` names the outputs ("2 variations", "the upscale")."""
    if any(w is None or h is None for w, h in sizes):
        raise AnswerTooLarge(
            f"The size of {what} is only known once it is made, so it cannot be promised inline within "
            "Lambda's 6 MB answer. Ask response_format=url (download URLs), or give the output size.",
            details={"field": "response_format", "limit_bytes": LAMBDA_ANSWER_MAX},
        )
    known = [(int(w), int(h)) for w, h in sizes if w is not None and h is not None]
    bound = inline_bound(known, fmt)
    if bound <= LAMBDA_ANSWER_MAX:
        return
    w, h = known[0]
    fitting = sum(1 for n in range(1, len(known) + 1) if inline_bound(known[:n], fmt) <= LAMBDA_ANSWER_MAX)
    advice = []
    if len(known) > 1 and fitting:
        advice.append(f"ask at most {fitting} output(s) at this size")
    advice.append("a smaller size")
    if BYTES_PER_PIXEL.get(fmt, 4) > BYTES_PER_PIXEL["jpeg"]:
        advice.append("output_format jpeg")
    advice.append("response_format=url (download URLs, no size limit)")
    raise AnswerTooLarge(
        f"{what[0].upper()}{what[1:]} ({f'{len(known)} x ' if len(known) > 1 else ''}{w}x{h} "
        f"{fmt.upper()}) could take up to "
        f"{bound / 1e6:.1f} MB as base64, more than the 6 MB a Lambda can answer; nothing was charged. "
        f"Ask {', '.join(advice[:-1])} or {advice[-1]}.",
        details={
            "field": "response_format",
            "limit_bytes": LAMBDA_ANSWER_MAX,
            "estimated_bytes": bound,
            "outputs": len(known),
            "fits_outputs": fitting,
        },
    )
