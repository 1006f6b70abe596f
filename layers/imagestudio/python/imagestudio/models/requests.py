"""What every request body model shares: one rule for unknown fields, and the common field limits.

An unknown field is refused (422) by name, with the valid names listed, whichever route or batch
row the body came through: a misspelt option silently dropped would run (and charge) something the
user did not ask for. Aliases (`image_base64` for `image`, ...) count as valid names.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, model_validator

MAX_PROMPT = 10_000
MAX_SEED = 4_294_967_294
OutputFormat = Literal["png", "jpeg", "webp"]
#: url: our answer, outputs as download URLs (the default); b64_json: ours with each file inline too;
#: original: the original Image Studio front end's shape, images inline (docs/frontend-compat.md)
ResponseFormat = Literal["url", "b64_json", "original"]


@cache
def accepted_names(model: type[BaseModel]) -> tuple[frozenset[str], tuple[str, ...]]:
    """(every name a body may use, the field names to show a user)."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        if info.alias:
            names.add(info.alias)
        alias = info.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(c for c in alias.choices if isinstance(c, str))
        elif isinstance(alias, AliasPath) and alias.path and isinstance(alias.path[0], str):
            names.add(alias.path[0])
    return frozenset(names), tuple(model.model_fields)


class RequestModel(BaseModel):
    """Base of every request body: unknown fields answer 422 naming them and the valid ones."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _known_fields_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            names, shown = accepted_names(cls)
            unknown = sorted(str(k) for k in data if k not in names)
            if unknown:
                listed = ", ".join(f"'{u}'" for u in unknown[:10])
                raise ValueError(
                    f"unknown field{'s' if len(unknown) > 1 else ''} {listed}. "
                    f"Valid fields: {', '.join(shown)}"
                )
        return data


def apply_options(model: type[BaseModel], data: Any, *, field: str = "options") -> Any:
    """The original client's `options` object (Edit Studio always sends one, usually empty): each entry
    that names a field of `model` is applied as that field; an entry naming none is refused by name,
    like an unknown top-level field; an entry that contradicts the same field given at the top level
    is refused too (which one was meant is not ours to guess)."""
    if not isinstance(data, dict) or not isinstance(data.get(field), dict):
        return data
    names, shown = accepted_names(model)
    options: dict[str, Any] = data[field]
    unknown = sorted(str(k) for k in options if k not in names or k == field)
    if unknown:
        listed = ", ".join(f"'{u}'" for u in unknown[:10])
        raise ValueError(
            f"{field} carries {listed}, which {'is' if len(unknown) == 1 else 'are'} not a field of this "
            f"request. {field} may carry any of: {', '.join(n for n in shown if n != field)}"
        )
    clashing = sorted(k for k, v in options.items() if k in data and data[k] != v)
    if clashing:
        raise ValueError(
            f"{', '.join(repr(c) for c in clashing)} given both in {field} and at the top level with "
            "different values: give it once."
        )
    return {**data, **options, field: {}}
