"""Provider selection and fallback: an outage moves to the next candidate of the tier, a refusal stops."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image

from imagestudio.config import ProviderSettings, environment_view
from imagestudio.errors import ContentRejected
from imagestudio.providers import registry
from imagestudio.providers.base import GenerateRequest, Provider, ProviderUnavailable, Succeeded
from imagestudio.providers.registry import Candidate, call_with_fallback, tier_candidates


@pytest.fixture
def faults() -> Iterator[callable]:
    def use(spec: str) -> None:
        registry.reset()
        stack.enter_context(environment_view({"PROVIDER_MODE": "local", "LOCAL_PROVIDER_FAULTS": spec}))

    import contextlib

    with contextlib.ExitStack() as stack:
        yield use
    registry.reset()


def generate(provider: Provider, candidate: Candidate) -> Succeeded:
    result = provider.generate(
        GenerateRequest(prompt="red sneakers", model=candidate.model, width=320, height=200)
    )
    assert isinstance(result, Succeeded)
    return result


def test_tiers_come_from_the_catalog_in_preference_order() -> None:
    assert tier_candidates("standard") == [
        Candidate("wavespeed", "qwen-image"),
        Candidate("stability", "stable-image-core"),
    ]
    assert tier_candidates("premium")[0] == Candidate("wavespeed", "ideogram-v3-turbo")


def test_the_first_candidate_serves_when_healthy(faults) -> None:
    faults("")
    served = call_with_fallback(tier_candidates("standard"), generate, ProviderSettings.from_env())
    assert served.served_by == Candidate("wavespeed", "qwen-image")
    assert served.attempts == [] and served.fallback_reason is None
    image = Image.open(io.BytesIO(served.result.outputs[0].data))
    assert image.size == (320, 200)


def test_an_outage_of_the_first_is_served_by_the_next_and_says_why(faults) -> None:
    faults("wavespeed:outage")
    served = call_with_fallback(tier_candidates("standard"), generate, ProviderSettings.from_env())
    assert served.served_by == Candidate("stability", "stable-image-core")
    assert [(a.provider, a.model) for a in served.attempts] == [("wavespeed", "qwen-image")]
    assert "wavespeed/qwen-image unavailable" in (served.fallback_reason or "")


def test_every_candidate_down_is_a_503_listing_what_was_tried(faults) -> None:
    faults("outage")
    with pytest.raises(ProviderUnavailable) as caught:
        call_with_fallback(tier_candidates("standard"), generate, ProviderSettings.from_env())
    assert caught.value.status == 503
    assert (
        "wavespeed/qwen-image" in caught.value.message
        and "stability/stable-image-core" in caught.value.message
    )


def test_a_refusal_of_the_input_does_not_fall_back(faults) -> None:
    faults("wavespeed:moderation")
    with pytest.raises(ContentRejected):
        call_with_fallback(tier_candidates("standard"), generate, ProviderSettings.from_env())


def test_live_mode_builds_the_real_adapters() -> None:
    registry.reset()
    with environment_view({"PROVIDER_MODE": "live"}):
        assert type(registry.provider("stability")).__name__ == "StabilityProvider"
        assert type(registry.provider("wavespeed")).__name__ == "WaveSpeedProvider"
        assert type(registry.provider("local")).__name__ == "LocalProvider"
    registry.reset()
