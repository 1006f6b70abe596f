"""Load the catalog's data files once, check them, and answer typed lookups.

`get_catalog()` is cached per process (a Lambda container loads the files once). Lookups of unknown
ids raise `errors.unknown_choice(...)`, naming the valid choices: 404 by default for ids that come
from a path, 422 (`status=422`) for values that come from a query string or a body.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from imagestudio.catalog.models import (
    CAPABILITIES,
    CATEGORIES,
    USD_PER_CREDIT,
    CatalogData,
    CompressionPreset,
    ControlOperation,
    Decision,
    EditOperation,
    ModelSpec,
    PerBlockPrice,
    PerSecondPrice,
    Plan,
    Platform,
    Provider,
    QualityTier,
    Template,
    UpscaleMode,
    UpscalePreset,
)
from imagestudio.errors import InvalidInput, unknown_choice

DATA_FILES = (
    "templates.json",
    "platforms.json",
    "providers.json",
    "models.json",
    "operations.json",
    "generation.json",
    "plans.json",
    "studios.json",
)

#: The operations the estimate endpoint prices and the plan counters know, in a stable order.
OPERATIONS = (
    "generate",
    "edit",
    "upscale",
    "control",
    "image-to-video",
    "talking-avatar",
    "image-to-3d",
    "compress",
    "convert",
    "face-swap",
)


def read_data_files() -> dict[str, dict[str, Any]]:
    """The raw content of every data file, by file name."""
    folder = resources.files("imagestudio.catalog").joinpath("data")
    return {name: json.loads(folder.joinpath(name).read_text(encoding="utf-8")) for name in DATA_FILES}


class CatalogIntegrityError(ValueError):
    """The data files reference something that does not exist, or disagree with each other."""


class Catalog:
    """Typed, indexed access to the catalog. Build with `get_catalog()`; never mutate."""

    def __init__(self, data: CatalogData) -> None:
        self.data = data
        self._templates = {t.id: t for t in data.templates}
        self._platforms = {p.name: p for p in data.platforms}
        self._platform_aliases = {alias: p.name for p in data.platforms for alias in p.aliases}
        self._providers = {p.name: p for p in data.providers}
        self._models = {m.id: m for m in data.models}
        self._model_aliases = {alias: m.id for m in data.models for alias in m.aliases}
        self._edit_operations: dict[str, EditOperation] = {o.id: o for o in data.edit_operations}
        self._upscale_modes: dict[str, UpscaleMode] = {m.id: m for m in data.upscale.modes}
        self._upscale_presets = {p.id: p for p in data.upscale.presets}
        self._control_operations: dict[str, ControlOperation] = {o.id: o for o in data.control_operations}
        self._quality_tiers: dict[str, QualityTier] = {q.id: q for q in data.quality_tiers}
        self._plans: dict[str, Plan] = {p.id: p for p in data.plans}
        self._compression_presets = {p.id: p for p in data.compression_presets}
        problems = self.integrity_problems()
        if problems:
            raise CatalogIntegrityError("catalog data is inconsistent:\n- " + "\n- ".join(problems))

    # --- templates -------------------------------------------------------------------------

    def template(self, template_id: str, *, status: int = 404) -> Template:
        found = self._templates.get(template_id)
        if found is None:
            raise unknown_choice("template_id", template_id, list(self._templates), status=status)
        return found

    def templates(self, platform: str | None = None, category: str | None = None) -> list[Template]:
        """Templates in catalog order, optionally filtered (unknown filter values answer 422)."""
        result = list(self.data.templates)
        if platform is not None:
            name = self.platform(platform, status=422).name
            result = [t for t in result if t.platform == name]
        if category is not None:
            if category not in CATEGORIES:
                raise unknown_choice("category", category, list(CATEGORIES), status=422)
            result = [t for t in result if t.category == category]
        return result

    # --- platforms -------------------------------------------------------------------------

    def platform(self, name: str, *, status: int = 404) -> Platform:
        key = name.strip().lower()
        found = self._platforms.get(self._platform_aliases.get(key, key))
        if found is None:
            raise unknown_choice("platform", name, list(self._platforms), status=status)
        return found

    def platforms(self) -> list[Platform]:
        return list(self.data.platforms)

    def platform_names(self) -> list[str]:
        return list(self._platforms)

    # --- providers and models --------------------------------------------------------------

    def provider(self, name: str, *, status: int = 404) -> Provider:
        found = self._providers.get(name.strip().lower())
        if found is None:
            raise unknown_choice("provider", name, list(self._providers), status=status)
        return found

    def providers(self) -> list[Provider]:
        return list(self.data.providers)

    def model(self, model_id: str, *, capability: str | None = None, status: int = 404) -> ModelSpec:
        """A model by id or alias; with `capability`, it must have it (else 422 naming those that do)."""
        found = self._models.get(self._model_aliases.get(model_id, model_id))
        if found is None:
            choices = list(self._models) if capability is None else [m.id for m in self.models(capability)]
            raise unknown_choice("model", model_id, choices, status=status)
        if capability is not None and not found.supports(capability):
            valid = sorted(m.id for m in self.models(capability))
            raise InvalidInput(
                f"Model '{found.id}' cannot do {capability}. Models that can: {', '.join(valid)}.",
                details={"field": "model", "value": model_id, "valid_choices": valid},
            )
        return found

    def models(self, capability: str | None = None, provider: str | None = None) -> list[ModelSpec]:
        if capability is not None and capability not in CAPABILITIES:
            raise unknown_choice("capability", capability, list(CAPABILITIES), status=422)
        if provider is not None:
            provider = self.provider(provider, status=422).name
        return [
            m
            for m in self.data.models
            if (capability is None or m.supports(capability)) and (provider is None or m.provider == provider)
        ]

    def provider_models(self, provider: str) -> list[ModelSpec]:
        return self.models(provider=provider)

    def is_offline(self, model: ModelSpec) -> bool:
        return self._providers[model.provider].offline

    def default_model(self, capability: str) -> ModelSpec:
        """The model an operation uses when the request names none."""
        if capability == "text-to-image":
            return self.model(self.quality_tier("standard").candidates[0])
        for cap, model_id in self.data.transform_defaults.items():
            if cap == capability:
                return self.model(model_id)
        valid: list[str] = ["text-to-image", *self.data.transform_defaults]
        raise unknown_choice("capability", capability, valid, status=422)

    # --- edit ------------------------------------------------------------------------------

    def edit_operations(self) -> list[EditOperation]:
        return list(self.data.edit_operations)

    def edit_operation(self, name: str, *, status: int = 404) -> EditOperation:
        found = self._edit_operations.get(name)
        if found is None:
            raise unknown_choice("operation", name, list(self._edit_operations), status=status)
        return found

    def edit_models(self, operation: str | None = None, tier: str | None = None) -> list[ModelSpec]:
        """Edit models a user can pick (the offline provider is excluded); unknown filters answer 422."""
        if operation is not None:
            self.edit_operation(operation, status=422)
        if tier is not None and tier not in {m.tier for m in self.data.models}:
            raise unknown_choice("tier", tier, sorted({m.tier for m in self.models("edit")}), status=422)
        return [
            m
            for m in self.models("edit")
            if not self.is_offline(m)
            and (operation is None or operation in m.edit_operations)
            and (tier is None or m.tier == tier)
        ]

    # --- upscale and control ---------------------------------------------------------------

    def upscale_modes(self) -> list[UpscaleMode]:
        return list(self.data.upscale.modes)

    def upscale_mode(self, name: str, *, status: int = 422) -> UpscaleMode:
        found = self._upscale_modes.get(name)
        if found is None:
            raise unknown_choice("mode", name, [*self._upscale_modes, "auto"], status=status)
        return found

    def upscale_presets(self) -> list[UpscalePreset]:
        return list(self.data.upscale.presets)

    def upscale_preset(self, name: str, *, status: int = 422) -> UpscalePreset:
        found = self._upscale_presets.get(name)
        if found is None:
            raise unknown_choice("preset", name, list(self._upscale_presets), status=status)
        return found

    def compression_presets(self) -> list[CompressionPreset]:
        return list(self.data.compression_presets)

    def compression_preset(self, name: str, *, status: int = 422) -> CompressionPreset:
        found = self._compression_presets.get(name)
        if found is None:
            raise unknown_choice("preset", name, list(self._compression_presets), status=status)
        return found

    def face_swap_models(self) -> list[ModelSpec]:
        """The models whose features include face_swap, in catalog order."""
        return [m for m in self.data.models if "face_swap" in m.features]

    def control_operations(self) -> list[ControlOperation]:
        return list(self.data.control_operations)

    def control_operation(self, name: str, *, status: int = 422) -> ControlOperation:
        found = self._control_operations.get(name)
        if found is None:
            raise unknown_choice("control_operation", name, list(self._control_operations), status=status)
        return found

    # --- generation settings ---------------------------------------------------------------

    def quality_tiers(self) -> list[QualityTier]:
        return list(self.data.quality_tiers)

    def quality_tier(self, name: str, *, status: int = 422) -> QualityTier:
        found = self._quality_tiers.get(name)
        if found is None:
            raise unknown_choice("quality", name, list(self._quality_tiers), status=status)
        return found

    def style_presets(self) -> list[str]:
        return list(self.data.style_presets)

    def style_suffix(self, style: str, *, status: int = 422) -> str:
        """Text appended to a prompt for `style` ('' for presets without one); unknown styles raise."""
        if style not in self.data.style_presets:
            raise unknown_choice("style_preset", style, self.data.style_presets, status=status)
        return self.data.style_suffixes.get(style, "")

    def aspect_ratios(self) -> list[str]:
        return list(self.data.aspect_ratios)

    # --- plans -----------------------------------------------------------------------------

    def plans(self) -> list[Plan]:
        return list(self.data.plans)

    def plan(self, name: str, *, status: int = 422) -> Plan:
        found = self._plans.get(name.strip().lower())
        if found is None:
            raise unknown_choice("plan", name, list(self._plans), status=status)
        return found

    def usage_bucket(self, operation: str) -> str:
        """The plan counter ('images', 'edits' or 'videos') an operation is counted under."""
        bucket = self.data.usage_buckets.get(operation)
        if bucket is None:
            raise unknown_choice("operation", operation, list(self.data.usage_buckets), status=422)
        return bucket

    def decisions(self) -> list[Decision]:
        return list(self.data.decisions)

    # --- integrity -------------------------------------------------------------------------

    def integrity_problems(self) -> list[str]:
        """Every broken reference or disagreement between data files (empty when consistent)."""
        d = self.data
        problems: list[str] = []

        def dupes(kind: str, ids: list[str]) -> None:
            seen: set[str] = set()
            for i in ids:
                if i in seen:
                    problems.append(f"duplicate {kind} '{i}'")
                seen.add(i)

        dupes("template id", [t.id for t in d.templates])
        dupes("platform name or alias", [n for p in d.platforms for n in (p.name, *p.aliases)])
        dupes("provider", [p.name for p in d.providers])
        dupes("model id or alias", [n for m in d.models for n in (m.id, *m.aliases)])
        dupes("decision id", [x.id for x in d.decisions])
        dupes("compression preset", [p.id for p in d.compression_presets])

        formats_by_template: dict[str, list[tuple[str, str]]] = {}
        for p in d.platforms:
            for f in p.formats:
                if f.template_id is None:
                    continue
                formats_by_template.setdefault(f.template_id, []).append((p.name, f.name))
                t = self._templates.get(f.template_id)
                if t is None:
                    problems.append(f"format {p.name}/{f.name}: unknown template '{f.template_id}'")
                elif (t.platform, t.width, t.height, t.aspect_ratio) != (
                    p.name,
                    f.width,
                    f.height,
                    f.aspect_ratio,
                ):
                    problems.append(
                        f"format {p.name}/{f.name} ({f.width}x{f.height} {f.aspect_ratio}) disagrees with "
                        f"template {t.id} ({t.platform} {t.width}x{t.height} {t.aspect_ratio})"
                    )

        for t in d.templates:
            if t.platform not in self._platforms:
                problems.append(f"template {t.id}: unknown platform '{t.platform}'")
            if len(formats_by_template.get(t.id, [])) != 1:
                found = formats_by_template.get(t.id, [])
                problems.append(f"template {t.id}: expected exactly one social format, found {found}")
            m = self._models.get(t.recommended_model)
            if m is None:
                problems.append(f"template {t.id}: unknown recommended model '{t.recommended_model}'")
            elif not m.supports("text-to-image") or m.provider != t.recommended_provider:
                problems.append(
                    f"template {t.id}: recommended model {m.id} is not a "
                    f"{t.recommended_provider} text-to-image model"
                )
            if t.style_preset not in d.style_presets:
                problems.append(f"template {t.id}: unknown style preset '{t.style_preset}'")
        for p in d.platforms:
            if not any(t.platform == p.name for t in d.templates):
                problems.append(f"platform {p.name}: no templates")

        for m in d.models:
            if m.provider not in self._providers:
                problems.append(f"model {m.id}: unknown provider '{m.provider}'")
            if isinstance(m.price, PerSecondPrice | PerBlockPrice):
                missing = set(m.price.usd_by_resolution) - set(m.resolutions or {})
                if missing or m.default_resolution not in m.price.usd_by_resolution:
                    problems.append(f"model {m.id}: priced resolutions and resolutions disagree")
        for prov in d.providers:
            models = [m for m in d.models if m.provider == prov.name]
            if not models:
                problems.append(f"provider {prov.name}: no models")
            for cap, model_id in prov.default_models.items():
                m = self._models.get(model_id)
                if m is None or m.provider != prov.name or not m.supports(cap):
                    problems.append(
                        f"provider {prov.name}: default {cap} model '{model_id}' is not its {cap} model"
                    )

        for op in d.edit_operations:
            m = self._models.get(op.default_model)
            if m is None or op.id not in m.edit_operations:
                problems.append(
                    f"edit operation {op.id}: default model '{op.default_model}' does not support it"
                )
            if not any(
                op.id in x.edit_operations and not self.is_offline(x)
                for x in d.models
                if x.provider in self._providers
            ):
                problems.append(f"edit operation {op.id}: no online model supports it")
        for mode in d.upscale.modes:
            m = self._models.get(mode.model)
            if m is None or not m.supports("upscale"):
                problems.append(f"upscale mode {mode.id}: '{mode.model}' is not an upscale model")
        for c in d.control_operations:
            m = self._models.get(c.model)
            if m is None or not m.supports("control"):
                problems.append(f"control operation {c.id}: '{c.model}' is not a control model")
        for cap, model_id in d.transform_defaults.items():
            m = self._models.get(model_id)
            if m is None or not m.supports(cap):
                problems.append(f"transform default for {cap}: '{model_id}' cannot do it")

        for q in d.quality_tiers:
            for model_id in q.candidates:
                m = self._models.get(model_id)
                if m is None or not m.supports("text-to-image"):
                    problems.append(
                        f"quality tier {q.id}: candidate '{model_id}' is not a text-to-image model"
                    )
        if {q.id for q in d.quality_tiers} != {"draft", "standard", "premium"}:
            problems.append("quality tiers must be draft, standard and premium")
        for style in d.style_suffixes:
            if style not in d.style_presets:
                problems.append(f"style suffix for unknown preset '{style}'")

        if d.credits.usd_per_credit != USD_PER_CREDIT:
            problems.append(f"credits: usd_per_credit must be {USD_PER_CREDIT}")
        if set(d.usage_buckets) != set(OPERATIONS):
            problems.append(f"usage buckets must cover exactly {list(OPERATIONS)}")
        for plan in d.plans:
            if plan.max_variations > d.variations.max:
                problems.append(f"plan {plan.id}: max_variations above the catalog maximum")
        return problems


def load_catalog(files: dict[str, dict[str, Any]] | None = None) -> Catalog:
    """Validate and index the data files (or the given parsed files, for tests). Not cached."""
    return Catalog(CatalogData.from_files(files if files is not None else read_data_files()))


@cache
def get_catalog() -> Catalog:
    """The catalog, loaded and checked once per process."""
    return load_catalog()
