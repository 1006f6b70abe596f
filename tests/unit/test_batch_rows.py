"""Batch rows: CSV decoding, header and delimiter handling, per-row validation against each operation's
request model, and the messages a spreadsheet user gets (row and column named, what to fix)."""

from __future__ import annotations

import codecs
from typing import Any

import pytest

from imagestudio.batches.rows import (
    EXCLUDED_FIELDS,
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    BatchRow,
    ParsedBatch,
    RowError,
    column_docs,
    csv_template,
    inline_media_fields,
    parse_csv,
    parse_items,
    request_models,
    validate_row,
)
from imagestudio.csvtext import MAX_CSV_BYTES, decode_csv
from imagestudio.errors import InvalidInput
from imagestudio.operations import registry

OPERATIONS = request_models()
INLINE_MEDIA_FIELDS = inline_media_fields()


def csv_of(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"


def parse(*lines: str, max_rows: int = 100) -> ParsedBatch:
    return parse_csv(csv_of(*lines), max_rows=max_rows)


def errors_of(result: BatchRow | list[RowError]) -> list[RowError]:
    assert isinstance(result, list), f"expected errors, got {result}"
    return result


def only_error(result: BatchRow | list[RowError]) -> RowError:
    errors = errors_of(result)
    assert len(errors) == 1, errors
    return errors[0]


def row_of(result: BatchRow | list[RowError]) -> BatchRow:
    assert isinstance(result, BatchRow), f"expected a row, got {result}"
    return result


def csv_row(**values: str) -> BatchRow | list[RowError]:
    return validate_row(2, values, from_csv=True)


def invalid(call: Any, *args: Any, **kwargs: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        call(*args, **kwargs)
    assert info.value.status == 422
    return info.value


# --- decode_csv ----------------------------------------------------------------------------------

TEXT = "operation,prompt\r\ncreate,Café crème\r\n"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be"],
)
def test_decodes_utf8_with_or_without_bom_and_utf16_with_bom(data: bytes) -> None:
    assert decode_csv(data) == TEXT


def test_a_windows_1252_file_is_refused_naming_the_byte_its_offset_and_how_to_save() -> None:
    data = TEXT.encode("cp1252")
    err = invalid(decode_csv, data)
    offset = data.index(b"\xe9")
    assert f"offset {offset}" in err.message
    assert "0xE9" in err.message
    assert "line 2" in err.message
    assert '"CSV UTF-8"' in err.message and "File > Save As" in err.message
    assert err.details["offset"] == offset


def test_the_offset_counts_the_bom() -> None:
    err = invalid(decode_csv, codecs.BOM_UTF8 + b"operation\n\xff")
    assert "offset 13" in err.message and "0xFF" in err.message


@pytest.mark.parametrize("data", [b"", b"  \r\n\t\n", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"\n\n"])
def test_an_empty_file_is_refused(data: bytes) -> None:
    assert "the CSV is empty" in invalid(decode_csv, data).message.replace("The", "the")


def test_a_file_over_the_size_limit_is_refused_with_the_limit() -> None:
    err = invalid(decode_csv, b"a" * (MAX_CSV_BYTES + 1))
    assert "2 MB" in err.message and f"{MAX_CSV_BYTES:,}" in err.message
    assert decode_csv(b"operation\n" + b"a" * (MAX_CSV_BYTES - 10))  # exactly at the limit is fine


def test_utf16_without_bom_is_refused_for_its_nul_bytes() -> None:
    err = invalid(decode_csv, TEXT.encode("utf-16-le"))
    assert "NUL" in err.message and "UTF-16" in err.message and "offset 1" in err.message


def test_an_excel_workbook_is_recognised() -> None:
    err = invalid(decode_csv, b"PK\x03\x04\x14\x00\x06\x00rest-of-xlsx")
    assert "Excel workbook" in err.message and "CSV UTF-8" in err.message


# --- delimiter and header ------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed_from_the_header(delimiter: str) -> None:
    text = csv_of(
        delimiter.join(["operation", "prompt", "width"]), delimiter.join(["create", "a cat", "512"])
    )
    batch = parse_csv(text, max_rows=10)
    assert batch.delimiter == delimiter
    assert batch.columns == ["operation", "prompt", "width"]
    assert batch.errors == []
    assert batch.rows[0].request.model_dump()["width"] == 512


def test_a_comma_inside_a_quoted_header_name_does_not_decide_the_delimiter() -> None:
    batch = parse('operation;"prompt, the text"', "create;a cat")
    assert batch.delimiter == ";"


def test_a_single_column_header_defaults_to_comma() -> None:
    batch = parse("operation", "create")
    assert batch.delimiter == ","
    assert only_error(batch.errors).column == "prompt"


def test_header_names_are_stripped_and_lower_cased() -> None:
    batch = parse(" Operation , PROMPT ", "create,a cat")
    assert batch.columns == ["operation", "prompt"]
    assert len(batch.rows) == 1


def test_a_header_without_operation_lists_the_columns_found() -> None:
    err = invalid(parse, "op,prompt", "create,a cat")
    assert "first line must be a header with an 'operation' column" in err.message
    assert "'op', 'prompt'" in err.message
    assert "header line is probably missing" not in err.message


def test_a_first_line_that_looks_like_data_hints_the_header_is_missing() -> None:
    err = invalid(parse, "create,a cat on a sofa", "create,a dog")
    assert "header line is probably missing" in err.message


def test_duplicate_columns_are_named() -> None:
    err = invalid(parse, "operation,prompt,Prompt,seed,seed", "create,a,b,1,2")
    assert "prompt, seed" in err.message and "more than once" in err.message


def test_unnamed_header_columns_are_refused() -> None:
    err = invalid(parse, "operation,,prompt", "create,,a cat")
    assert "column(s) 2 have no name" in err.message


def test_too_many_columns_are_refused() -> None:
    header = ",".join(["operation", *(f"c{i}" for i in range(MAX_COLUMNS))])
    err = invalid(parse, header, "create")
    assert f"{MAX_COLUMNS + 1} columns" in err.message and f"at most {MAX_COLUMNS}" in err.message


def test_a_bom_left_in_the_text_is_ignored() -> None:
    batch = parse_csv("\ufeffoperation,prompt\ncreate,a cat\n", max_rows=5)
    assert batch.columns == ["operation", "prompt"]


# --- records, row numbers and counts -------------------------------------------------------------


def test_quoted_values_keep_delimiters_quotes_and_newlines() -> None:
    batch = parse("operation,prompt,negative_prompt", 'create,"a cat, on a sofa\nsecond line","no ""text"""')
    request = batch.rows[0].request.model_dump()
    assert request["prompt"] == "a cat, on a sofa\nsecond line"
    assert request["negative_prompt"] == 'no "text"'


def test_row_numbers_are_spreadsheet_rows_blank_lines_skipped_but_counted() -> None:
    batch = parse("operation,prompt", "create,a cat", "", ",", "create,", "  ", "bogus,x")
    assert [r.row for r in batch.rows] == [2]
    assert [(e.row, e.column) for e in batch.errors] == [(5, "prompt"), (7, "operation")]


def test_a_multi_line_cell_is_one_spreadsheet_row() -> None:
    batch = parse("operation,prompt", 'create,"line one\nline two"', "create,")
    assert batch.rows[0].row == 2
    assert only_error(batch.errors).row == 3


def test_a_row_with_more_cells_than_the_header_is_an_error_for_that_row() -> None:
    batch = parse("operation,prompt", "create,a cat, on a sofa", "create,a dog")
    err = only_error(batch.errors)
    assert (err.row, err.column) == (2, None)
    assert "3 cells" in err.message and "2 columns" in err.message and "double quotes" in err.message
    assert [r.row for r in batch.rows] == [3]


def test_empty_trailing_cells_beyond_the_header_are_ignored() -> None:
    batch = parse("operation,prompt", "create,a cat,,")
    assert batch.errors == [] and len(batch.rows) == 1


def test_missing_cells_count_as_empty() -> None:
    batch = parse("operation,prompt,width,height", "create,a cat")
    assert batch.errors == []
    assert batch.rows[0].request.model_dump()["width"] is None


def test_more_rows_than_the_plan_allows_is_refused_with_both_numbers() -> None:
    err = invalid(parse, "operation,prompt", *(["create,a cat"] * 4), "", max_rows=3)
    assert "4 rows" in err.message and "at most 3" in err.message
    assert parse("operation,prompt", *(["create,a cat"] * 3), "", "", max_rows=3).rows


def test_an_unclosed_quote_is_explained() -> None:
    err = invalid(parse, "operation,prompt", 'create,"a cat', "create,a dog")
    assert "never closed" in err.message and '""' in err.message


def test_text_after_a_closing_quote_is_explained() -> None:
    err = invalid(parse, "operation,prompt", 'create,"a cat" on a sofa')
    assert "after a closing quote on line 2" in err.message


def test_a_header_without_rows_is_refused() -> None:
    assert "no rows" in invalid(parse, "operation,prompt", "", ",").message


def test_every_bad_row_is_reported_with_all_its_problems() -> None:
    batch = parse(
        "operation,prompt,width,enhance_prompt,quality",
        "create,a cat,10,maybe,best",
        "create,a dog,512,yes,draft",
        "create,,abc,,",
    )
    assert [r.row for r in batch.rows] == [3]
    found = {(e.row, e.column) for e in batch.errors}
    assert found == {(2, "width"), (2, "enhance_prompt"), (2, "quality"), (4, "prompt"), (4, "width")}


# --- cells ---------------------------------------------------------------------------------------


def test_blank_cells_mean_not_given() -> None:
    request = row_of(csv_row(operation="create", prompt="a cat", width="   ", num_variations="")).request
    assert request.model_dump()["width"] is None
    assert request.model_dump()["num_variations"] == 1
    assert request.model_fields_set == {"prompt"}


def test_cells_are_stripped() -> None:
    row = row_of(csv_row(operation=" create ", prompt="  a cat  "))
    assert row.request.model_dump()["prompt"] == "a cat"


def test_a_cell_over_the_limit_is_an_error_on_its_column() -> None:
    err = only_error(csv_row(operation="create", prompt="x" * (MAX_CELL_CHARS + 1)))
    assert err.column == "prompt" and f"at most {MAX_CELL_CHARS:,}" in err.message


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://x")',
        "+1+1",
        "-blurry",
        "@SUM(A1)",
        "\t=1",
        "\rtext",
        "  =1+1",
        "\n=1+1",  # a leading line feed
        "\u00a0=1+1",  # a non-breaking space before =
        "\uff1dSUM(A1)",  # the full-width equals sign
        "\u3000\uff0b1+1",  # an ideographic space, then a full-width plus
        "\u200b@SUM(A1)",  # a zero-width space first
    ],
)
def test_formula_like_cells_are_refused(cell: str) -> None:
    err = only_error(csv_row(operation="create", prompt="a cat", negative_prompt=cell))
    assert err.column == "negative_prompt"
    assert "formula" in err.message


@pytest.mark.parametrize(("cell", "value"), [("-1", -1.0), ("+2.5", 2.5), ("-.5", -0.5), ("+1e1", 10.0)])
def test_plain_signed_numbers_are_not_formulas(cell: str, value: float) -> None:
    # guidance_scale is 0..35: negative numbers pass the formula check and fail on range
    result = csv_row(operation="create", prompt="a cat", guidance_scale=cell)
    if 0 <= value <= 35:
        assert row_of(result).request.model_dump()["guidance_scale"] == value
    else:
        err = only_error(result)
        assert "formula" not in err.message and "greater than or equal to 0" in err.message


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("true", True), ("YES", True), ("1", True), ("False", False), ("no", False), ("0", False)],
)
def test_booleans_accept_true_false_yes_no_1_0(cell: str, expected: bool) -> None:
    request = row_of(csv_row(operation="create", prompt="a cat", enhance_prompt=cell)).request
    assert request.model_dump()["enhance_prompt"] is expected


def test_a_bad_boolean_is_an_error_on_its_column() -> None:
    err = only_error(csv_row(operation="create", prompt="a cat", use_persona="maybe"))
    assert err.column == "use_persona" and "'maybe'" in err.message and "true or false" in err.message


def test_lists_are_split_on_pipes() -> None:
    row = row_of(csv_row(operation="social", asset_id="01J", platforms=" instagram | linkedin ||"))
    assert row.request.model_dump()["platforms"] == ["instagram", "linkedin"]
    assert row.fields["platforms"] == "instagram | linkedin ||"


def test_dicts_and_nested_models_are_json() -> None:
    row = row_of(
        csv_row(
            operation="social",
            asset_id="01J",
            platforms="instagram",
            format_names='{"instagram": "Story"}',
            focal_point='{"x": 0.25, "y": 0.75}',
        )
    )
    dumped = row.request.model_dump()
    assert dumped["format_names"] == {"instagram": "Story"}
    assert dumped["focal_point"] == {"x": 0.25, "y": 0.75}


def test_bad_json_is_an_error_on_its_column_with_an_example() -> None:
    err = only_error(csv_row(operation="social", asset_id="01J", platforms="instagram", focal_point="{x: 1}"))
    assert err.column == "focal_point"
    assert "not valid JSON" in err.message and '{"x": 0.5, "y": 0.5}' in err.message


def test_a_nested_error_names_the_nested_field() -> None:
    errors = errors_of(
        csv_row(operation="social", asset_id="01J", platforms="instagram", focal_point='{"x": 2}')
    )
    messages = {e.message for e in errors if e.column == "focal_point"}
    assert any(m.startswith("x: Input should be less than or equal to 1") for m in messages)
    assert "'focal_point' needs 'y'." in messages


def test_numbers_literals_and_decimal_commas_are_read_from_text() -> None:
    video = row_of(csv_row(operation="image-to-video", asset_id="01J", duration="10", resolution="1080P"))
    assert video.request.model_dump()["duration"] == 10
    assert video.request.model_dump()["resolution"] == "1080p"
    three_d = row_of(csv_row(operation="image-to-3d", asset_id="01J", texture_resolution="2048"))
    assert three_d.request.model_dump()["texture_resolution"] == 2048
    control = row_of(csv_row(operation="control", control_operation="sketch", asset_id="01J", fidelity="0,5"))
    assert control.request.model_dump()["fidelity"] == 0.5


# --- operations and columns ----------------------------------------------------------------------


def test_an_unknown_operation_lists_the_valid_ones() -> None:
    err = only_error(csv_row(operation="resize", prompt="a cat"))
    assert err.column == "operation" and "'resize'" in err.message
    assert all(name in err.message for name in OPERATIONS)


def test_a_row_without_an_operation_says_so() -> None:
    err = only_error(csv_row(operation=" ", prompt="a cat"))
    assert err.column == "operation" and "no operation" in err.message


def test_a_formula_in_the_operation_cell_is_reported_once() -> None:
    err = only_error(csv_row(operation="=create", prompt="a cat"))
    assert err.column == "operation" and "formula" in err.message


def test_operation_names_are_case_and_underscore_tolerant() -> None:
    assert row_of(csv_row(operation="Image_To_Video", asset_id="01J")).operation == "image-to-video"


def test_another_operations_column_is_fine_while_empty() -> None:
    batch = parse(
        "operation,prompt,asset_id,platforms,edit_operation",
        "create,a cat,,,",
        "social,,01J,instagram,",
        "edit,,01J,,remove_background",
    )
    assert batch.errors == []
    assert [r.operation for r in batch.rows] == ["create", "social", "edit"]


def test_a_filled_column_the_operation_does_not_take_is_named_with_the_valid_ones() -> None:
    err = only_error(csv_row(operation="upscale", asset_id="01J", platforms="instagram"))
    assert err.column == "platforms"
    assert "'platforms' is not a column of upscale" in err.message
    assert "upscale takes: asset_id, upload_id, mode, preset" in err.message


@pytest.mark.parametrize(
    ("operation", "column", "alternatives"),
    [
        ("edit", "image", "'asset_id' or 'upload_id'"),
        ("edit", "image_base64", "'asset_id' or 'upload_id'"),
        ("edit", "mask", "'mask_asset_id' or 'mask_upload_id'"),
        ("edit", "lighting_image", "'lighting_image_asset_id' or 'lighting_image_upload_id'"),
        ("control", "style_image", "'style_image_asset_id' or 'style_image_upload_id'"),
        ("talking-avatar", "audio", "'audio_asset_id' or 'audio_upload_id'"),
        ("social", "image", "'asset_id' or 'upload_id'"),
    ],
)
def test_inline_media_is_refused_pointing_at_the_id_columns(
    operation: str, column: str, alternatives: str
) -> None:
    values = {"operation": operation, "asset_id": "01J", column: "iVBORw0KGgo="}
    err = next(e for e in errors_of(validate_row(2, values, from_csv=True)) if e.column == column)
    assert "no inline" in err.message and alternatives in err.message


def test_inline_media_for_an_operation_without_that_field_is_an_unknown_column() -> None:
    err = only_error(csv_row(operation="create", prompt="a cat", image="iVBORw0KGgo="))
    assert "'image' is not a column of create" in err.message


@pytest.mark.parametrize(
    ("values", "column"),
    [
        ({"operation": "create", "prompt": "a cat", "response_format": "url"}, "response_format"),
        ({"operation": "image-to-3d", "asset_id": "01J", "webhook_url": "https://x"}, "webhook_url"),
    ],
)
def test_batch_wide_fields_are_refused_per_row(values: dict[str, str], column: str) -> None:
    err = only_error(validate_row(4, values, from_csv=True))
    assert (err.row, err.column) == (4, column)
    assert "whole batch, not per row" in err.message


def test_model_errors_name_the_column_and_the_value_given() -> None:
    err = only_error(csv_row(operation="create", prompt="a cat", width="9000"))
    assert err.column == "width"
    assert "less than or equal to" in err.message and "'9000'" in err.message


def test_a_missing_required_field_is_named() -> None:
    err = only_error(csv_row(operation="create", width="512"))
    assert (err.column, err.message) == ("prompt", "create rows need 'prompt'.")


def test_edit_and_control_take_their_own_operation_from_a_renamed_column() -> None:
    edit = row_of(csv_row(operation="edit", edit_operation="inpaint", asset_id="01J", prompt="a hat"))
    assert edit.request.model_dump()["operation"] == "inpaint"
    control = row_of(csv_row(operation="control", control_operation="style", asset_id="01J"))
    assert control.request.model_dump()["operation"] == "style"
    err = only_error(csv_row(operation="edit", asset_id="01J"))
    assert err.column == "edit_operation"
    assert "edit rows need 'edit_operation': one of remove_background, inpaint" in err.message
    bad = only_error(csv_row(operation="edit", edit_operation="crop", asset_id="01J"))
    assert bad.column == "edit_operation" and "'crop'" in bad.message


def test_a_valid_row_keeps_its_raw_cells_for_the_manifest() -> None:
    row = row_of(
        validate_row(
            7, {"operation": "create", "prompt": " a cat ", "width": "512", "seed": ""}, from_csv=True
        )
    )
    assert row.row == 7 and row.operation == "create"
    assert row.fields == {"operation": "create", "prompt": "a cat", "width": "512"}


def test_row_error_as_dict() -> None:
    assert RowError(3, "width", "too wide").as_dict() == {"row": 3, "column": "width", "message": "too wide"}


def test_the_operation_sets_are_consistent_with_the_models() -> None:
    assert set(registry.long_operations()) == {"image-to-video", "talking-avatar", "image-to-3d"}
    assert set(registry.long_operations()).issubset(OPERATIONS)
    assert {"create", "edit", "upscale", "control", "social"}.issubset(OPERATIONS)
    assert {
        "image",
        "mask",
        "style_image",
        "background_image",
        "lighting_image",
        "audio",
    } <= INLINE_MEDIA_FIELDS
    all_fields = {name for model in OPERATIONS.values() for name in model.model_fields}
    assert INLINE_MEDIA_FIELDS.issubset(all_fields) and EXCLUDED_FIELDS.issubset(all_fields)
    # every field that has an *_asset_id sibling is inline media, and is refused in batches
    for model in OPERATIONS.values():
        for name in model.model_fields:
            if f"{name}_asset_id" in model.model_fields or (
                name == "image" and "asset_id" in model.model_fields
            ):
                assert name in INLINE_MEDIA_FIELDS


# --- parse_items ---------------------------------------------------------------------------------


def test_json_items_take_typed_values() -> None:
    batch = parse_items(
        [
            {"operation": "create", "prompt": "a cat", "width": 512, "height": 512, "enhance_prompt": False},
            {
                "operation": "social",
                "asset_id": "01J",
                "platforms": ["instagram"],
                "focal_point": {"x": 0, "y": 1},
            },
            {"operation": "image-to-video", "asset_id": "01J", "duration": 10, "seed": None},
        ],
        max_rows=5,
    )
    assert batch.errors == [] and batch.delimiter is None
    assert [r.row for r in batch.rows] == [1, 2, 3]
    assert batch.rows[0].request.model_dump()["enhance_prompt"] is False
    assert batch.rows[1].fields["platforms"] == ["instagram"]
    assert "seed" not in batch.rows[2].fields
    assert batch.columns[:3] == ["operation", "prompt", "width"]


def test_json_items_are_checked_like_csv_rows() -> None:
    batch = parse_items(
        [
            "create a cat",  # type: ignore[list-item]
            {"operation": "edit", "edit_operation": "inpaint", "image": "iVBOR", "prompt": "a hat"},
            {"operation": "create", "prompt": "a cat", "webhook_url": "https://x", "colour": "red"},
            {"operation": "create", "prompt": "=cmd|'/c calc'!A1"},
            {"operation": "create", "prompt": "a cat", "width": "wide"},
        ],
        max_rows=10,
    )
    assert batch.rows == []
    found = [(e.row, e.column) for e in batch.errors]
    assert found == [(1, None), (2, "image"), (3, "webhook_url"), (3, "colour"), (4, "prompt"), (5, "width")]
    assert "Item 1 is a str, not an object" in batch.errors[0].message
    assert "formula" in batch.errors[4].message


def test_json_item_strings_for_typed_fields_are_not_coerced() -> None:
    err = only_error(
        validate_row(1, {"operation": "create", "prompt": "a cat", "enhance_prompt": "maybe"}, from_csv=False)
    )
    assert err.column == "enhance_prompt" and "'maybe'" in err.message


def test_too_many_or_no_items_are_refused() -> None:
    assert "3 items" in invalid(parse_items, [{"operation": "create"}] * 3, max_rows=2).message
    assert "no rows" in invalid(parse_items, [], max_rows=2).message


# --- column_docs and csv_template ----------------------------------------------------------------


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_column_docs_cover_every_batch_field_with_operation_first(operation: str) -> None:
    docs = column_docs(operation)
    assert docs[0]["column"] == "operation" and docs[0]["required"] is True
    model = OPERATIONS[operation]
    expected = [
        {"operation": f"{operation}_operation"}.get(name, name)
        for name in model.model_fields
        if name not in INLINE_MEDIA_FIELDS | EXCLUDED_FIELDS
    ]
    assert [d["column"] for d in docs[1:]] == expected
    assert all(set(d) == {"column", "type", "required", "description", "default"} for d in docs)


def test_column_docs_say_types_defaults_and_how_to_write_values() -> None:
    create = {d["column"]: d for d in column_docs("create")}
    assert create["prompt"]["required"] is True and create["prompt"]["default"] is None
    assert create["num_variations"] == {**create["num_variations"], "type": "integer", "default": 1}
    assert create["guidance_scale"]["type"] == "number"
    assert (
        create["enhance_prompt"]["type"] == "boolean" and "yes/no" in create["enhance_prompt"]["description"]
    )
    assert create["quality"]["type"] == "one of: draft, standard, premium"
    social = {d["column"]: d for d in column_docs("social")}
    assert social["platforms"]["type"] == "list" and "|" in social["platforms"]["description"]
    assert social["format_names"]["type"] == "JSON object" and social["format_names"]["default"] == {}
    assert "upload_id" in social["asset_id"]["description"]
    edit = {d["column"]: d for d in column_docs("edit")}
    assert edit["edit_operation"]["required"] is True
    assert "mask_upload_id" in edit["mask_asset_id"]["description"]


@pytest.mark.parametrize("call", [column_docs, csv_template])
def test_an_unknown_operation_is_refused_listing_the_valid_ones(call: Any) -> None:
    err = invalid(call, "resize")
    assert "resize" in err.message and all(name in err.message for name in OPERATIONS)


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_each_template_is_a_valid_one_row_batch(operation: str) -> None:
    template = csv_template(operation)
    batch = parse_csv(template, max_rows=1)
    assert batch.errors == []
    assert [(r.row, r.operation) for r in batch.rows] == [(2, operation)]
    assert batch.columns == [d["column"] for d in column_docs(operation)]
    assert template.count("\r\n") == 2
    if operation != "create":
        assert "01J..." in template
