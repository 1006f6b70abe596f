"""A batch's result manifest: one line per row (status, job, credits, outputs, error), as CSV or JSON.
No I/O here: the caller stores the text (UTF-8, no BOM).

The CSV is meant to be opened in a spreadsheet, so every cell that a spreadsheet would run as a formula
(starting with = + - @, a tab, a carriage return or a line feed) gets a leading apostrophe, as the
OWASP CSV injection guidance says; numbers are never touched. The JSON keeps the raw values.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from decimal import Decimal
from typing import Any

MANIFEST_COLUMNS: list[str] = [
    "row",
    "operation",
    "status",
    "job_id",
    "credits_charged",
    "credits_refunded",
    "output_asset_ids",
    "output_urls",
    "error_code",
    "error_message",
    "input",
]
LIST_SEPARATOR = "|"
FORMULA_SIGNS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r", "\n")


def formula_start(text: str) -> str | None:
    """The character that makes a spreadsheet run `text` as a formula, or None: a leading tab, CR or
    LF, or a formula sign after any leading spaces (NBSP and other Unicode spaces, zero-width
    characters) in its NFKC form, so full-width signs such as '\uff1d' count as '='."""
    if text[:1] in CONTROL_STARTS:
        return text[0]
    head = unicodedata.normalize("NFKC", text)
    for char in head:
        if char.isspace() or unicodedata.category(char) == "Cf":
            continue
        return char if char in FORMULA_SIGNS else None
    return None


def safe_cell(value: object) -> str:
    """A value as a cell a spreadsheet shows as text, never runs: a formula-like string gets a leading '."""
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, int | float | Decimal):
        return text
    return "'" + text if formula_start(text) else text


def _cell(value: object) -> str:
    if isinstance(value, list | tuple):
        value = LIST_SEPARATOR.join("" if item is None else str(item) for item in value)
    elif isinstance(value, dict):
        value = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return safe_cell(value)


def manifest_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """The manifest as CSV text: a header, then one line per row in `columns` order (missing: empty)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([safe_cell(column) for column in columns])
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def manifest_json(summary: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """The manifest as JSON: {"batch": summary, "rows": rows}, values as they are."""
    return json.dumps({"batch": summary, "rows": rows}, indent=2, ensure_ascii=False, default=str)
