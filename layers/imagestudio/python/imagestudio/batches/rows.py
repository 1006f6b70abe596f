"""A batch's rows: a CSV (or a JSON list of items) where each row is one studio operation, parsed and
validated against that operation's request model. No I/O here.

- Column `operation` names the operation (create, edit, ...); the other columns are that operation's
  request fields. One CSV mixes operations: a column of another operation is fine while it is empty.
- Edit and control requests have their own `operation` field (inpaint, sketch, ...): in a batch it is
  the column `edit_operation` / `control_operation`, since `operation` is taken.
- Images and audio are never inline in a batch: rows refer to assets or uploads (`asset_id`,
  `mask_upload_id`, ...). `response_format` and `webhook_url` belong to the whole batch, not a row.
- CSV cells are text: booleans take true/false/yes/no/1/0, lists are split on `|`, dicts and nested
  objects are JSON, everything else goes to pydantic as text (its lax mode reads numbers).
- A cell starting with = + - @, a tab or a carriage return is refused (unless it is a plain number):
  spreadsheets would run it as a formula when the batch's files are opened again. JSON items get the
  same check on their string values, so a batch behaves the same whichever way it was sent.
- Row numbers are what a spreadsheet shows: the header is row 1, the first data row is row 2 (a
  quoted cell spanning lines is still one row). JSON items are numbered from 1.
- Every bad row is reported, each with all of its problems.
"""

from __future__ import annotations

import csv
import io
import json
import re
import types
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import AliasChoices, BaseModel, ValidationError
from pydantic.fields import FieldInfo

from imagestudio.batches.manifest import formula_start
from imagestudio.csvtext import EMPTY_CSV
from imagestudio.errors import InvalidInput, unknown_choice
from imagestudio.operations import registry

MAX_COLUMNS = 64
MAX_CELL_CHARS = 4000
#: set once for the whole batch, never per row
EXCLUDED_FIELDS: frozenset[str] = frozenset({"response_format", "webhook_url"})
LIST_SEPARATOR = "|"
DELIMITERS = (",", ";", "\t", "|")
PLACEHOLDER_ID = "01J..."

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_CONTROL_NAMES = {"\t": "a tab", "\r": "a carriage return", "\n": "a line feed"}
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
_QUOTED = re.compile(r'"[^"]*"')
_MAX_SHOWN = 80


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class BatchRow:
    row: int
    operation: str
    request: BaseModel
    fields: dict[str, Any]


@dataclass
class ParsedBatch:
    rows: list[BatchRow]
    errors: list[RowError]
    delimiter: str | None = None
    columns: list[str] = field(default_factory=list)


# --- columns and their types ---------------------------------------------------------------------


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _kind(annotation: Any) -> str:
    """How a CSV cell becomes a field's value: bool, list, json, literal, float or text."""
    ann = _unwrap_optional(annotation)
    origin = get_origin(ann)
    if ann is bool:
        return "bool"
    if origin is list:
        return "list"
    if ann is dict or origin is dict or (isinstance(ann, type) and issubclass(ann, BaseModel)):
        return "json"
    if origin is Literal:
        return "literal"
    if ann is float:
        return "float"
    return "text"


def _literal_values(annotation: Any) -> tuple[Any, ...]:
    ann = _unwrap_optional(annotation)
    return get_args(ann) if get_origin(ann) is Literal else ()


def request_models() -> dict[str, type[BaseModel]]:
    """Every operation a row can be (the registry's), with its request model."""
    return {name: spec.request for name, spec in registry.batch_specs().items()}


@cache
def inline_media_fields() -> frozenset[str]:
    """Every inline (base64) media field: one with an `_asset_id` twin (`image` pairs with `asset_id`)."""
    names: set[str] = set()
    for model in request_models().values():
        fields = model.model_fields
        names.update(n for n in fields if f"{n}_asset_id" in fields)
        if "image" in fields and "asset_id" in fields:
            names.add("image")
    return frozenset(names)


@cache
def _columns(operation: str) -> dict[str, str]:
    """An operation's batch columns, in the request model's order: column -> request field."""
    renamed = {fld: col for col, fld in registry.get(operation).batch_columns.items()}
    return {
        renamed.get(name, name): name
        for name in request_models()[operation].model_fields
        if name not in inline_media_fields() and name not in EXCLUDED_FIELDS
    }


@cache
def _aliases(operation: str) -> dict[str, str]:
    """Every name a request field is accepted by (its own and its validation aliases) -> the field."""
    names: dict[str, str] = {}
    for name, info in request_models()[operation].model_fields.items():
        names[name] = name
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        names.update({choice: name for choice in choices if isinstance(choice, str)})
    return names


def _field(operation: str, column: str) -> FieldInfo:
    return request_models()[operation].model_fields[_columns(operation)[column]]


def _media_alternatives(operation: str, media: str) -> list[str]:
    prefix = "" if media == "image" else f"{media}_"
    return [c for c in (f"{prefix}asset_id", f"{prefix}upload_id") if c in _columns(operation)]


def _valid_operations() -> str:
    return ", ".join(request_models())


# --- cells ---------------------------------------------------------------------------------------


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell_problem(value: Any) -> str | None:
    """Why a cell cannot be taken as it is, or None."""
    if not isinstance(value, str):
        return None
    if len(value) > MAX_CELL_CHARS:
        return f"The cell has {len(value):,} characters; a cell may have at most {MAX_CELL_CHARS:,}."
    sign = formula_start(value)
    if sign and not _PLAIN_NUMBER.fullmatch(unicodedata.normalize("NFKC", value).strip()):
        start = _CONTROL_NAMES.get(sign, f"'{sign}'")
        return (
            f"The cell starts with {start}, which spreadsheets run as a formula: "
            "remove it or start the text with a letter or a digit."
        )
    return None


def _coerce(annotation: Any, text: str) -> Any:
    """A CSV cell's text as the field's value; ValueError says what to write instead."""
    kind = _kind(annotation)
    if kind == "bool":
        lowered = text.lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ValueError(
            f"'{_shown(text)}' is not a yes/no value: write true or false (yes/no and 1/0 work too)."
        )
    if kind == "list":
        return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]
    if kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"'{_shown(text)}' is not valid JSON ({exc.msg} at character {exc.pos + 1}): "
                f"write {_json_example(annotation)}."
            ) from None
    if kind == "literal":
        for choice in _literal_values(annotation):
            if str(choice).lower() == text.lower():
                return choice
    if kind == "float" and _DECIMAL_COMMA.fullmatch(text):
        return text.replace(",", ".")  # a decimal comma, as spreadsheets in many locales write numbers
    return text


def _json_example(annotation: Any) -> str:
    ann = _unwrap_optional(annotation)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "a JSON object like " + json.dumps(dict.fromkeys(ann.model_fields, 0.5))
    return 'a JSON object like {"instagram": "Square post"}'


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


# --- one row -------------------------------------------------------------------------------------


def validate_row(row: int, values: dict[str, Any], *, from_csv: bool) -> BatchRow | list[RowError]:
    """One row (CSV cells, or a JSON item's values) as a validated request, or all of its problems."""
    errors: list[RowError] = []
    given: dict[str, Any] = {}
    for column, value in values.items():
        if _is_empty(value):
            continue
        problem = _cell_problem(value)
        if problem:
            errors.append(RowError(row, column, problem))
        else:
            given[column] = value.strip() if isinstance(value, str) else value

    operation = _operation_of(row, given, errors)
    if operation is None:
        return errors
    data = _request_data(row, operation, given, errors, from_csv=from_csv)
    bad_columns = {e.column for e in errors}
    try:
        request = request_models()[operation].model_validate(data)
    except ValidationError as exc:
        errors.extend(e for e in _model_errors(row, operation, exc, given) if e.column not in bad_columns)
        return errors
    if errors:
        return errors
    return BatchRow(row=row, operation=operation, request=request, fields=given)


def _operation_of(row: int, given: dict[str, Any], errors: list[RowError]) -> str | None:
    if any(e.column == "operation" for e in errors):
        return None
    value = given.get("operation")
    if value is None:
        errors.append(
            RowError(row, "operation", f"The row has no operation: give one of {_valid_operations()}.")
        )
        return None
    name = str(value).strip().lower().replace("_", "-")
    if name not in request_models():
        errors.append(
            RowError(
                row, "operation", f"Unknown operation '{_shown(value)}': use one of {_valid_operations()}."
            )
        )
        return None
    return name


def _request_data(
    row: int, operation: str, given: dict[str, Any], errors: list[RowError], *, from_csv: bool
) -> dict[str, Any]:
    columns = _columns(operation)
    data: dict[str, Any] = {}
    for column, value in given.items():
        if column == "operation":
            continue
        if column not in columns:
            errors.append(RowError(row, column, _not_a_column(operation, column)))
            continue
        if not from_csv or not isinstance(value, str):
            data[columns[column]] = value
            continue
        try:
            data[columns[column]] = _coerce(_field(operation, column).annotation, value)
        except ValueError as exc:
            errors.append(RowError(row, column, str(exc)))
    return data


def _not_a_column(operation: str, column: str) -> str:
    if column in EXCLUDED_FIELDS:
        return f"'{column}' is set for the whole batch, not per row: leave the column empty or remove it."
    media = _aliases(operation).get(column)
    if media in inline_media_fields():
        alternatives = " or ".join(f"'{c}'" for c in _media_alternatives(operation, media))
        return (
            f"A batch takes no inline {media.replace('_', ' ')} ('{column}'): upload it first and give "
            f"{alternatives} instead."
        )
    return (
        f"'{column}' is not a column of {operation}: leave it empty in {operation} rows. "
        f"{operation} takes: {', '.join(_columns(operation))}."
    )


def _model_errors(row: int, operation: str, exc: ValidationError, given: dict[str, Any]) -> list[RowError]:
    to_column = {fld: col for col, fld in _columns(operation).items()}
    out: list[RowError] = []
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        column = to_column.get(str(loc[0]), str(loc[0])) if loc else None
        out.append(RowError(row, column, _model_error_message(operation, column, err, given)))
    return out


def _model_error_message(operation: str, column: str | None, err: Any, given: dict[str, Any]) -> str:
    path = ".".join(str(part) for part in err["loc"][1:])
    if err["type"] == "missing" and column is not None:
        if path:
            return f"'{column}' needs '{path}'."
        choices = (
            _literal_values(_field(operation, column).annotation) if column in _columns(operation) else ()
        )
        which = f": one of {', '.join(map(str, choices))}" if choices else ""
        return f"{operation} rows need '{column}'{which}."
    message = str(err["msg"]).removeprefix("Value error, ")
    if path:
        message = f"{path}: {message}"
    shown = given[column] if column in given and not path else err.get("input")
    return f"{message}; got '{_shown(shown)}'." if column is not None else f"{message}."


# --- whole batches -------------------------------------------------------------------------------


def parse_csv(text: str, *, max_rows: int) -> ParsedBatch:
    """A CSV's rows, each validated. Problems with the file as a whole raise InvalidInput."""
    text = text.removeprefix("\ufeff")
    delimiter = sniff_delimiter(text)
    records = _records(text, delimiter)
    if not records:
        raise InvalidInput(EMPTY_CSV)
    columns = _header(records[0][1], delimiter)
    data = records[1:]
    _check_row_count(len(data), max_rows, "rows")
    rows: list[BatchRow] = []
    errors: list[RowError] = []
    for number, cells in data:
        extra = [c for c in cells[len(columns) :] if c.strip()]
        if extra:
            errors.append(RowError(number, None, _extra_cells_message(len(cells), len(columns), delimiter)))
            continue
        _collect(validate_row(number, dict(zip(columns, cells, strict=False)), from_csv=True), rows, errors)
    if not rows and not errors:
        raise InvalidInput("The CSV has a header but no rows: add one row per operation below the header.")
    return ParsedBatch(rows=rows, errors=errors, delimiter=delimiter, columns=columns)


def parse_items(items: list[dict[str, Any]], *, max_rows: int) -> ParsedBatch:
    """A JSON list of items, each an object like a CSV row (`operation` plus the request's fields)."""
    _check_row_count(len(items), max_rows, "items")
    if not items:
        raise InvalidInput("The batch has no rows: give at least one item.")
    rows: list[BatchRow] = []
    errors: list[RowError] = []
    columns: dict[str, None] = {}
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            kind = type(item).__name__
            message = (
                f'Item {number} is a {kind}, not an object: write it like {{"operation": "create", ...}}.'
            )
            errors.append(RowError(number, None, message))
            continue
        columns.update(dict.fromkeys(item))
        _collect(validate_row(number, item, from_csv=False), rows, errors)
    return ParsedBatch(rows=rows, errors=errors, delimiter=None, columns=list(columns))


def _collect(result: BatchRow | list[RowError], rows: list[BatchRow], errors: list[RowError]) -> None:
    if isinstance(result, BatchRow):
        rows.append(result)
    else:
        errors.extend(result)


def _check_row_count(found: int, max_rows: int, what: str) -> None:
    if found > max_rows:
        raise InvalidInput(
            f"The batch has {found:,} {what}; your plan allows at most {max_rows:,} per batch. "
            "Split it into several batches.",
            details={"rows": found, "max_rows": max_rows},
        )


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: the most frequent of , ; TAB | outside quotes (ties: that order)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    unquoted = _QUOTED.sub("", header)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equals
    return best if counts[best] else ","


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Non-blank records with their spreadsheet row numbers (blank lines still count)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for cells in reader:
            number += 1
            if any(cell.strip() for cell in cells):
                records.append((number, cells))
    except csv.Error as exc:
        raise InvalidInput(
            _csv_error_message(exc, reader.line_num), details={"line": reader.line_num}
        ) from None
    return records


def _csv_error_message(exc: csv.Error, line: int) -> str:
    reason = str(exc)
    if "unexpected end of data" in reason:
        return (
            f'The CSV ends inside a quoted value (a value opened with " on or before line {line} is never '
            'closed): close it with ", and write a " inside a quoted value as "".'
        )
    if "expected after" in reason:
        return (
            f'The CSV has text after a closing quote on line {line}: quote the whole value, and write a " '
            'inside a quoted value as "".'
        )
    return f"The CSV could not be read at line {line}: {reason}."


def _header(cells: list[str], delimiter: str) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    if len(names) > MAX_COLUMNS:
        raise InvalidInput(
            f"The header has {len(names)} columns; a batch CSV may have at most {MAX_COLUMNS}.",
            details={"columns": len(names), "max_columns": MAX_COLUMNS},
        )
    if "operation" not in names:
        raise InvalidInput(_no_operation_message(names, delimiter), details={"columns": names})
    unnamed = [str(i) for i, name in enumerate(names, start=1) if not name]
    if unnamed:
        raise InvalidInput(
            f"Header column(s) {', '.join(unnamed)} have no name: name every column or delete empty ones.",
            details={"unnamed_columns": [int(i) for i in unnamed]},
        )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InvalidInput(
            f"The header names these columns more than once: {', '.join(duplicates)}. Keep one of each.",
            details={"duplicate_columns": duplicates},
        )
    return names


def _no_operation_message(names: list[str], delimiter: str) -> str:
    found = ", ".join(f"'{n}'" for n in names)
    message = (
        f"The CSV has no 'operation' column: the first line must be a header with an 'operation' column "
        f"and the request's field names (columns found: {found}; delimiter {_delimiter_name(delimiter)})."
    )
    if any(name.replace("_", "-") in request_models() for name in names):
        message += " The first line looks like data: the header line is probably missing."
    return message


def _delimiter_name(delimiter: str) -> str:
    return "TAB" if delimiter == "\t" else f"'{delimiter}'"


def _extra_cells_message(cells: int, columns: int, delimiter: str) -> str:
    return (
        f"The row has {cells} cells but the header has {columns} columns: a value that contains "
        f"{_delimiter_name(delimiter)} must be in double quotes."
    )


# --- documentation and templates -----------------------------------------------------------------


def column_docs(operation: str) -> list[dict[str, Any]]:
    """An operation's batch columns: name, type, whether required, what it is, default."""
    _known(operation)
    docs: list[dict[str, Any]] = [
        {
            "column": "operation",
            "type": "text",
            "required": True,
            "description": f"'{operation}' for these rows (one CSV may mix: {_valid_operations()}).",
            "default": None,
        }
    ]
    for column, name in _columns(operation).items():
        info = request_models()[operation].model_fields[name]
        required = info.is_required()
        docs.append(
            {
                "column": column,
                "type": _type_label(info.annotation),
                "required": required,
                "description": _description(operation, column, info),
                "default": None if required else info.get_default(call_default_factory=True),
            }
        )
    return docs


def _known(operation: str) -> None:
    if operation not in request_models():
        raise unknown_choice("operation", operation, list(request_models()), status=422)


def _type_label(annotation: Any) -> str:
    kind = _kind(annotation)
    ann = _unwrap_optional(annotation)
    if kind == "literal":
        return "one of: " + ", ".join(str(v) for v in get_args(ann))
    labels = {"bool": "boolean", "list": "list", "json": "JSON object", "float": "number"}
    if kind in labels:
        return labels[kind]
    return "integer" if ann is int else "text"


_MEDIA_ID = re.compile(r"(?:(?P<media>\w+)_)?(?P<way>asset|upload)_id")


def _description(operation: str, column: str, info: FieldInfo) -> str:
    text = info.description or ""
    media_id = _MEDIA_ID.fullmatch(column)
    if media_id and (media_id["media"] or "image") in inline_media_fields():
        text = _media_id_description(operation, media_id["media"] or "image", media_id["way"])
    kind = _kind(info.annotation)
    if kind == "list":
        text = f"{text} Several values separated by |, e.g. instagram|linkedin.".strip()
    elif kind == "bool":
        text = f"{text} true or false (yes/no and 1/0 work too).".strip()
    elif kind == "json":
        text = f"{text} As JSON: {_json_example(info.annotation)}.".strip()
    return text


def _media_id_description(operation: str, media: str, way: str) -> str:
    what = "input image" if media == "image" else media.replace("_", " ")
    source = "one of your assets" if way == "asset" else "one of your ready uploads"
    others = [c for c in _media_alternatives(operation, media) if not c.endswith(f"{way}_id")]
    instead = f" (or give {others[0]} instead)" if others else ""
    return f"The {what}: the id of {source}{instead}."


EXAMPLES: dict[str, dict[str, str]] = {
    "create": {
        "prompt": "A red running shoe on a white studio floor, soft shadow",
        "width": "1024",
        "height": "1024",
        "quality": "standard",
        "num_variations": "2",
    },
    "edit": {
        "edit_operation": "search_replace",
        "asset_id": PLACEHOLDER_ID,
        "search_prompt": "the coffee cup",
        "prompt": "a glass of orange juice",
    },
    "upscale": {"asset_id": PLACEHOLDER_ID, "mode": "auto", "preset": "print"},
    "control": {
        "control_operation": "sketch",
        "asset_id": PLACEHOLDER_ID,
        "prompt": "a watercolour lighthouse at dusk",
        "control_strength": "0.7",
    },
    "social": {"asset_id": PLACEHOLDER_ID, "platforms": "instagram|linkedin", "crop_mode": "smart"},
    "image-to-video": {
        "asset_id": PLACEHOLDER_ID,
        "prompt": "Slow camera push-in, steam rising from the cup",
        "resolution": "720p",
        "duration": "5",
    },
    "talking-avatar": {
        "asset_id": PLACEHOLDER_ID,
        "audio_asset_id": PLACEHOLDER_ID,
        "prompt": "A friendly presenter, natural head movement",
        "resolution": "720p",
    },
    "image-to-3d": {"asset_id": PLACEHOLDER_ID, "model": "stable-fast-3d", "texture_resolution": "1024"},
    "compress": {"asset_id": PLACEHOLDER_ID, "format": "webp", "target_size_kb": "200"},
    "convert": {"asset_id": PLACEHOLDER_ID, "target_format": "avif", "quality": "63"},
    "face-swap": {"asset_id": PLACEHOLDER_ID, "face_asset_id": PLACEHOLDER_ID, "target_index": "0"},
}


def csv_template(operation: str) -> str:
    """A CSV with the operation's columns and one example row (ids are placeholders to replace)."""
    _known(operation)
    columns = [doc["column"] for doc in column_docs(operation)]
    example = {"operation": operation, **EXAMPLES[operation]}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerow([example.get(column, "") for column in columns])
    return out.getvalue()
