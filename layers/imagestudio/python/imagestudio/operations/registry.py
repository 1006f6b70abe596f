"""The operation registry: every operation is declared once, in its own module, as an `OperationSpec`.

A spec says what the operation is called, its request model, how it is priced (one function, used
both to charge and to quote, so a preview and the charge cannot disagree), whether it always runs
as a provider job on the state machine, what the plan counts it as, and its batch-row columns.
The API routes, the batch rows, the batch quote, the batch runner and the cost estimates read the
registry; nothing else lists the operations.

A module of this package declares its spec(s) with `register(...)` at import; `all_specs()` imports
every module of the package once, so a new operation is found without being listed anywhere else.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from imagestudio.errors import unknown_choice

if TYPE_CHECKING:  # the registry stays light to import: batch functions list operations at cold start
    from imagestudio.operations.core import Outcome, Price
    from imagestudio.ports import Ports


@dataclass(frozen=True)
class InputFacts:
    """What a price may depend on beyond the request: the input's size, the audio's length, and the
    model the run resolved (general_edit's recommendation). The run reads them from the decoded
    input; a batch preview reads them from the library records, downloading nothing."""

    width: int | None = None
    height: int | None = None
    audio_seconds: float | None = None
    model: str | None = None


@dataclass(frozen=True)
class Quote:
    credits: int
    usd: Decimal
    count: int = 1  # what the plan counts: variations for create, 1 otherwise
    model: str | None = None  # the model the price is for (the catalog resolves defaults)

    @property
    def price(self) -> Price:
        from imagestudio.operations.core import Price

        return Price(credits=self.credits, usd=self.usd)


FREE = Quote(credits=0, usd=Decimal("0"))


def quote_of(body: dict[str, Any], count: int = 1) -> Quote:
    """The catalog's estimate for an estimate body (the same body POST estimate-cost takes)."""
    from imagestudio.catalog.pricing import estimate

    found = estimate(body)
    return Quote(credits=int(found.credits), usd=Decimal(str(found.usd)), count=count, model=found.model)


@dataclass(frozen=True)
class Route:
    """Where the API serves an operation (POST, under /api/image-studio/) and what its docs say."""

    path: str
    summary: str
    description: str = ""
    tag: str = "Studios"


@dataclass(frozen=True)
class OperationSpec:
    name: str
    request: type[BaseModel]
    run: Callable[[Ports, str, Any], Outcome]
    price: Callable[[Any, InputFacts], Quote]
    usage: str | None  # the plan counter it counts against (credits/plans.py); None: free
    long: bool = False  # always a provider job followed on the state machine (answers 202)
    deadline_minutes: int = 30
    batch: bool = True  # can be a batch row
    batch_columns: Mapping[str, str] = field(default_factory=dict)  # CSV column -> field, names taken
    route: Route | None = None  # served by the generic studio route (api/studio_routes.py)
    # the studio's read-only routes (a Powertools Router: formats, presets, estimates), served by its
    # function beside the POST and published in the OpenAPI document with it
    reads: Any = None


_SPECS: dict[str, OperationSpec] = {}


def register(spec: OperationSpec) -> OperationSpec:
    if spec.name in _SPECS and _SPECS[spec.name] is not spec:
        raise ValueError(f"operation {spec.name!r} is declared twice")
    _SPECS[spec.name] = spec
    return spec


@cache
def _load() -> None:
    from imagestudio import operations

    for module in pkgutil.iter_modules(operations.__path__):
        importlib.import_module(f"{operations.__name__}.{module.name}")


def all_specs() -> dict[str, OperationSpec]:
    _load()
    return dict(_SPECS)


def get(name: str) -> OperationSpec:
    specs = all_specs()
    if name not in specs:
        raise unknown_choice("operation", name, list(specs), status=422)
    return specs[name]


def batch_specs() -> dict[str, OperationSpec]:
    return {name: s for name, s in all_specs().items() if s.batch}


def long_operations() -> list[str]:
    return [name for name, s in all_specs().items() if s.long]
