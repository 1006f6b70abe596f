"""The catalog: templates, platforms, formats, providers, models, operations, prices and plans.

One source of truth for every figure: JSON data files in `data/`, validated by the pydantic records
in `models`, indexed by `Catalog`. Use `get_catalog()`; pricing, search and edit-model
recommendations live in `pricing`, `search` and `edit_recommend`.
"""

from imagestudio.catalog.loader import OPERATIONS, Catalog, CatalogIntegrityError, get_catalog, load_catalog
from imagestudio.catalog.models import (
    USD_PER_CREDIT,
    ControlOperation,
    Decision,
    EditOperation,
    ModelSpec,
    Plan,
    Platform,
    Provider,
    QualityTier,
    SafeZone,
    SocialFormat,
    Template,
    UpscaleMode,
    UpscalePreset,
    format_usd,
    parse_aspect_ratio,
    usd_to_credits,
)

__all__ = [
    "OPERATIONS",
    "USD_PER_CREDIT",
    "Catalog",
    "CatalogIntegrityError",
    "ControlOperation",
    "Decision",
    "EditOperation",
    "ModelSpec",
    "Plan",
    "Platform",
    "Provider",
    "QualityTier",
    "SafeZone",
    "SocialFormat",
    "Template",
    "UpscaleMode",
    "UpscalePreset",
    "format_usd",
    "get_catalog",
    "load_catalog",
    "parse_aspect_ratio",
    "usd_to_credits",
]
