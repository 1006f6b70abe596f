"""Which adapter serves a provider name, and the fallback chain of a request.

In `local` provider mode (make run, tests) every provider name is served by the offline provider
simulating it, so fallbacks and faults behave as they would live. A call goes down its candidates
(for generation: the quality tier's models in order) until one serves it; an outage (ours) moves on
to the next candidate, a refusal of the input (the user's) stops at once. What happened is returned
so the job can record which provider served it and why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Generic, TypeVar

from imagestudio.catalog import get_catalog
from imagestudio.config import LocalProviderSettings, ProviderSettings
from imagestudio.observability import emit
from imagestudio.providers.base import Provider, ProviderUnavailable

R = TypeVar("R")


@dataclass(frozen=True)
class Candidate:
    provider: str
    model: str


@dataclass(frozen=True)
class Attempt:
    provider: str
    model: str
    error: str


@dataclass(frozen=True)
class Served(Generic[R]):
    result: R
    served_by: Candidate
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def fallback_reason(self) -> str | None:
        if not self.attempts:
            return None
        return "; ".join(f"{a.provider}/{a.model} unavailable: {a.error}" for a in self.attempts)


@cache
def _live(name: str) -> Provider:
    from imagestudio.providers import keys

    def key() -> str:
        return keys.api_key(name)

    if name == "stability":
        from imagestudio.providers.stability import StabilityProvider

        return StabilityProvider(api_key=key)
    if name == "wavespeed":
        from imagestudio.providers.wavespeed import WaveSpeedProvider

        return WaveSpeedProvider(api_key=key)
    if name == "huggingface":
        from imagestudio.providers.huggingface import HuggingFaceProvider

        return HuggingFaceProvider(api_key=key)
    if name == "gemini":
        from imagestudio.providers.gemini import GeminiProvider

        return GeminiProvider(api_key=key)
    raise KeyError(name)


@cache
def _local(name: str, settings: LocalProviderSettings) -> Provider:
    from imagestudio.providers.local import LocalProvider

    return LocalProvider(simulating=None if name == "local" else name, settings=settings)


def provider(name: str, settings: ProviderSettings | None = None) -> Provider:
    """The adapter for `name` (one per container: adapters hold their HTTP client; the offline
    provider, one per setting of its knobs)."""
    get_catalog().provider(name)  # unknown names fail with the valid choices
    mode = (settings or ProviderSettings.from_env()).provider_mode
    if mode == "local" or name == "local":
        return _local(name, LocalProviderSettings.from_env())
    return _live(name)


def reset() -> None:
    _live.cache_clear()
    _local.cache_clear()


def tier_candidates(quality: str) -> list[Candidate]:
    catalog = get_catalog()
    return [
        Candidate(catalog.model(m).provider, catalog.model(m).id)
        for m in catalog.quality_tier(quality).candidates
    ]


def call_with_fallback(
    candidates: list[Candidate],
    call: Callable[[Provider, Candidate], R],
    settings: ProviderSettings | None = None,
) -> Served[R]:
    attempts: list[Attempt] = []
    for candidate in candidates:
        started = time.monotonic()
        try:
            result = call(provider(candidate.provider, settings), candidate)
        except ProviderUnavailable as exc:
            emit("ProviderErrors", 1, provider=candidate.provider)
            attempts.append(Attempt(candidate.provider, candidate.model, exc.message))
            continue
        finally:
            emit("ProviderCalls", 1, provider=candidate.provider)
            emit(
                "ProviderLatency",
                (time.monotonic() - started) * 1000,
                "Milliseconds",
                provider=candidate.provider,
            )
        return Served(result=result, served_by=candidate, attempts=attempts)
    tried = ", ".join(f"{a.provider}/{a.model}" for a in attempts) or "none"
    raise ProviderUnavailable(
        f"No provider could serve this request right now (tried {tried}); try again shortly.",
        details={"attempts": [a.__dict__ for a in attempts]},
    )
