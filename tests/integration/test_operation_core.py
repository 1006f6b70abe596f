"""The operation core on moto with the offline provider: outputs, exact sizes, charges and refunds."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image

from imagestudio.config import environment_view
from imagestudio.errors import DomainError
from imagestudio.operations.core import Outcome, OutputMeta, Price, Unit, run_operation
from imagestudio.providers import registry
from imagestudio.providers.base import GenerateRequest
from imagestudio.providers.registry import Candidate


def units(n: int, candidates: list[Candidate], width: int = 1080, height: int = 1350) -> list[Unit]:
    def call(i: int):
        return lambda p, c: p.generate(
            GenerateRequest(
                prompt="red sneakers on a beach", model=c.model, width=width, height=height, seed=7 + i
            )
        )

    return [Unit(index=i, candidates=candidates, call=call(i), width=width, height=height) for i in range(n)]


def balance(domain) -> tuple[int, int]:
    account = domain.ledger.balance("alice")
    return account.available, account.reserved


def generate_with_fallback(domain, **options: str) -> Outcome:
    """One 10-credit image from WaveSpeed, with Stability as the fallback candidate."""
    return run_operation(
        domain,
        "alice",
        operation="generate",
        price=Price(credits=10, usd=Decimal("0.10")),
        units=units(
            1, [Candidate("wavespeed", "ideogram-v3-turbo"), Candidate("stability", "stable-image-ultra")]
        ),
        meta=OutputMeta(operation="generate", source="generated"),
        inputs={},
        **options,
    )


@pytest.fixture(autouse=True)
def pro_user(domain) -> None:
    domain.ledger.account("alice")
    domain.ledger.set_plan("alice", "pro")


@pytest.fixture
def faults():
    def use(spec: str):
        registry.reset()
        return environment_view({"LOCAL_PROVIDER_FAULTS": spec})

    yield use
    registry.reset()


def test_three_variations_at_the_exact_size_charged_as_estimated(domain, deployed, faults) -> None:
    with faults(""):
        result = run_operation(
            domain,
            "alice",
            operation="generate",
            price=Price(credits=30, usd=Decimal("0.30")),
            units=units(3, [Candidate("wavespeed", "ideogram-v3-turbo")]),
            meta=OutputMeta(operation="generate", source="generated", prompt="red sneakers on a beach"),
            inputs={"prompt": "red sneakers on a beach"},
        )
    assert result.job.status == "succeeded" and result.charged == 30 and result.refunded == 0
    assert len(result.assets) == 3
    s3 = deployed.session.client("s3")
    for asset in result.assets:
        body = s3.get_object(Bucket=deployed.plan.physical["MediaBucket"], Key=asset.key)["Body"].read()
        assert Image.open(io.BytesIO(body)).size == (1080, 1350)
    assert balance(domain) == (170, 0)
    assert len({a.id for a in result.assets}) == 3


def test_a_failed_variation_is_reported_and_not_charged(domain, faults) -> None:
    with faults("generate:500*1"):
        result = run_operation(
            domain,
            "alice",
            operation="generate",
            price=Price(credits=30, usd=Decimal("0.30")),
            units=units(3, [Candidate("wavespeed", "ideogram-v3-turbo")], 256, 256),
            meta=OutputMeta(operation="generate", source="generated"),
            inputs={},
        )
    failed = [u for u in result.units if u.error]
    assert len(failed) == 1 and failed[0].error.code == "provider_unavailable"
    assert result.charged == 20 and result.refunded == 10
    assert balance(domain) == (180, 0)


def test_every_unit_failing_fails_the_job_and_returns_everything(domain, faults) -> None:
    with faults("outage"), pytest.raises(DomainError) as caught:
        generate_with_fallback(domain)
    assert caught.value.status == 503
    job_id = caught.value.details["job_id"]
    assert domain.jobs.get("alice", job_id).status == "failed"
    assert balance(domain) == (200, 0)


def test_an_outage_is_served_by_the_next_candidate_and_recorded_on_the_job(domain, faults) -> None:
    with faults("wavespeed:outage"):
        result = generate_with_fallback(domain, provider="wavespeed", model="ideogram-v3-turbo")
    job = domain.jobs.get("alice", result.job.id)
    assert (job.provider, job.model) == ("stability", "stable-image-ultra")
    assert "wavespeed/ideogram-v3-turbo unavailable" in job.inputs["fallback"]
