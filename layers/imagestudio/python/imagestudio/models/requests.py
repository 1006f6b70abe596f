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
ResponseFormat = Literal["url", "b64_json"]


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
