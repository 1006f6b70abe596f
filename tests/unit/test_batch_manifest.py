"""Batch result manifest: CSV cells that a spreadsheet would run as formulas are shown as text; the JSON
keeps the raw values."""

from __future__ import annotations

import csv
import io
import itertools
import json
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagestudio.batches.manifest import MANIFEST_COLUMNS, manifest_csv, manifest_json, safe_cell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("-1", "'-1"),
        ("+1+1", "'+1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\n=1", "'\n=1"),
        ("\u00a0=1+1", "'\u00a0=1+1"),
        ("\uff1dSUM(A1)", "'\uff1dSUM(A1)"),
        ("  @x", "'  @x"),
        ("a cat = a dog", "a cat = a dog"),
        ("", ""),
        (None, ""),
        (-1, "-1"),
        (-2.5, "-2.5"),
        (Decimal("-3.50"), "-3.50"),
        (True, "True"),
    ],
)
def test_safe_cell(value: object, expected: str) -> None:
    assert safe_cell(value) == expected


@given(st.text())
def test_safe_cell_never_starts_a_formula_and_keeps_the_text(text: str) -> None:
    cell = safe_cell(text)
    assert not cell.startswith(FORMULA_STARTS)
    # what a spreadsheet sees first: past spaces of any kind and zero-width characters, in NFKC form
    # (a full-width = is an =)
    shown = unicodedata.normalize("NFKC", text)
    visible = "".join(itertools.dropwhile(lambda c: c.isspace() or unicodedata.category(c) == "Cf", shown))
    runs = text.startswith(FORMULA_STARTS) or visible.startswith(FORMULA_STARTS[:4])
    assert cell == ("'" + text if runs else text)


ROWS = [
    {
        "row": 2,
        "operation": "create",
        "status": "succeeded",
        "job_id": "01JOB",
        "credits_charged": 4,
        "credits_refunded": 0,
        "output_asset_ids": ["01A", "01B"],
        "output_urls": ["https://cdn/a.png", "https://cdn/b.png"],
        "error_code": None,
        "error_message": None,
        "input": {"operation": "create", "prompt": "a cat, on a sofa", "width": "512"},
    },
    {
        "row": 3,
        "operation": "create",
        "status": "failed",
        "credits_charged": 0,
        "credits_refunded": -1,
        "output_asset_ids": [],
        "error_code": "content_rejected",
        "error_message": '=HYPERLINK("http://evil","click")',
        "input": {"prompt": "-blurry"},
    },
]


def test_manifest_csv_has_the_header_and_one_line_per_row() -> None:
    text = manifest_csv(ROWS, MANIFEST_COLUMNS)
    assert not text.startswith("\ufeff")
    assert text.endswith("\r\n") and text.count("\r\n") == 3
    lines = read(text)
    assert lines[0] == MANIFEST_COLUMNS
    first = dict(zip(MANIFEST_COLUMNS, lines[1], strict=True))
    assert first["row"] == "2" and first["credits_charged"] == "4"
    assert first["output_asset_ids"] == "01A|01B"
    assert first["output_urls"] == "https://cdn/a.png|https://cdn/b.png"
    assert first["error_code"] == "" and first["error_message"] == ""
    assert json.loads(first["input"]) == ROWS[0]["input"]
    assert '"input"' not in text and '{""operation"":""create""' in text  # compact JSON, CSV-quoted


def test_manifest_csv_cells_round_trip_as_safe_text() -> None:
    second = dict(zip(MANIFEST_COLUMNS, read(manifest_csv(ROWS, MANIFEST_COLUMNS))[2], strict=True))
    assert second["error_message"] == '\'=HYPERLINK("http://evil","click")'
    assert second["credits_refunded"] == "-1"  # an int: never prefixed
    assert second["job_id"] == "" and second["output_urls"] == "" and second["output_asset_ids"] == ""
    assert second["input"] == '{"prompt":"-blurry"}'  # starts with '{': nothing to escape


def test_a_joined_list_starting_like_a_formula_is_escaped() -> None:
    text = manifest_csv(
        [{"output_urls": ["=cmd", "ok"], "job_id": "-1", "row": -1}], ["row", "job_id", "output_urls"]
    )
    assert read(text)[1] == ["-1", "'-1", "'=cmd|ok"]


def test_manifest_csv_takes_the_columns_given() -> None:
    assert read(manifest_csv(ROWS, ["status", "row"])) == [
        ["status", "row"],
        ["succeeded", "2"],
        ["failed", "3"],
    ]
    assert manifest_csv([], MANIFEST_COLUMNS) == ",".join(MANIFEST_COLUMNS) + "\r\n"


def test_manifest_json_keeps_raw_values() -> None:
    summary = {
        "batch_id": "01BATCH",
        "created_at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        "credits": Decimal("1.5"),
    }
    text = manifest_json(summary, ROWS)
    data = json.loads(text)
    assert set(data) == {"batch", "rows"}
    assert data["batch"] == {
        "batch_id": "01BATCH",
        "created_at": "2025-01-02 03:04:05+00:00",
        "credits": "1.5",
    }
    assert data["rows"][1]["error_message"] == '=HYPERLINK("http://evil","click")'
    assert data["rows"][1]["input"] == {"prompt": "-blurry"}
    assert data["rows"][0]["output_asset_ids"] == ["01A", "01B"]
    assert text.startswith('{\n  "batch": {')
