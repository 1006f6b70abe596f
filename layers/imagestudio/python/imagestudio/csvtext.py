"""A batch CSV's text: UTF-8 (with or without a BOM) or UTF-16 with a BOM, at most 2 MB, with an
error that says how to save the file right. Used where the CSV lands (uploads) and where it is read
(batches), so it lives below both."""

from __future__ import annotations

import codecs

from imagestudio.errors import InvalidInput

MAX_CSV_BYTES = 2 * 1024 * 1024

EMPTY_CSV = "The CSV is empty: give a header line with an 'operation' column, then one row per operation."
_SAVE_AS_UTF8 = 'Save the file as "CSV UTF-8" (Excel: File > Save As > CSV UTF-8) and upload it again.'


def decode_csv(data: bytes) -> str:
    """The CSV's text: UTF-8 (with or without a BOM) or UTF-16 with a BOM."""
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInput(
            f"The CSV is {len(data):,} bytes; a batch CSV may be at most {MAX_CSV_BYTES // (1024 * 1024)} MB "
            f"({MAX_CSV_BYTES:,} bytes). Split it into several batches.",
            details={"bytes": len(data), "max_bytes": MAX_CSV_BYTES},
        )
    text = _decode(data)
    if not text.strip():
        raise InvalidInput(EMPTY_CSV)
    return text


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return _decode_utf8(data, start=len(codecs.BOM_UTF8))
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return _decode_utf16(data[len(bom) :], codec)
    if data.startswith(b"PK\x03\x04"):
        raise InvalidInput(
            "This is an Excel workbook (or another zip file), not a CSV. " + _SAVE_AS_UTF8,
            details={"encoding": "zip"},
        )
    return _decode_utf8(data, start=0)


def _decode_utf8(data: bytes, *, start: int) -> str:
    nul = data.find(b"\x00", start)
    if nul >= 0:
        raise InvalidInput(
            f"The CSV has a NUL byte at offset {nul}: it is probably not a text file (a spreadsheet or "
            "another binary file) or UTF-16 text without a byte-order mark. " + _SAVE_AS_UTF8,
            details={"offset": nul, "byte": "0x00"},
        )
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        bad = f"0x{data[offset]:02X}"
        line = data.count(b"\n", 0, offset) + 1
        raise InvalidInput(
            f"The CSV is not UTF-8 text: byte {bad} at offset {offset} (line {line}) is not valid UTF-8 "
            "(the file was probably saved in another encoding). " + _SAVE_AS_UTF8,
            details={"offset": offset, "byte": bad, "line": line},
        ) from None


def _decode_utf16(data: bytes, codec: str) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        raise InvalidInput(
            "The CSV starts with a UTF-16 byte-order mark but is not valid UTF-16 text. " + _SAVE_AS_UTF8,
            details={"encoding": codec},
        ) from None
    if "\x00" in text:
        raise InvalidInput(
            "The CSV has NUL characters: it is probably not a text file. " + _SAVE_AS_UTF8,
            details={"encoding": codec},
        )
    return text
