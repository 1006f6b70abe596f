"""The one operation core every image operation runs through (API, state machine and batches alike).

open the job with its credits reserved -> call the provider for each unit (a variation, an edit),
falling back along the candidates -> make each output exact and store it as an asset -> charge
what was delivered and return the rest. A unit that fails is reported and not charged; if every
unit fails the job fails and the whole reservation goes back. Nothing is charged without a result.
"""

from __future__ import annotations

import contextvars
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from imagestudio.errors import DomainError, ProviderError
from imagestudio.ids import new_id
from imagestudio.imaging.output import EXT, encode, exact_size, open_image
from imagestudio.models.records import Asset, ErrorInfo, Job, utcnow
from imagestudio.operations.asset_files import store_asset_files
from imagestudio.operations.jobs import fail_job, open_job, succeed_job
from imagestudio.operations.tagging import tagged
from imagestudio.ports import Ports
from imagestudio.providers.base import (
    CallResult,
    Failed,
    Output,
    Provider,
    ProviderUnavailable,
    Running,
    Submitted,
    Succeeded,
)
from imagestudio.providers.registry import Candidate, Served, call_with_fallback

log = logging.getLogger(__name__)

MAX_PARALLEL_UNITS = 4
INLINE_POLL_SECONDS = 20.0


@dataclass(frozen=True)
class Unit:
    """One provider call of an operation: a variation of a create, the single call of an edit."""

    index: int
    candidates: list[Candidate]
    call: Callable[[Provider, Candidate], CallResult]
    width: int | None = None  # the exact output size, when the user asked for one
    height: int | None = None


def model_unit(
    provider: str, model: str, call: Callable[[Provider, Candidate], CallResult], size: tuple[int, int] | None
) -> Unit:
    """The single call of an operation served by one catalog model (no fallback), exact `size` if given."""
    return Unit(
        index=0,
        candidates=[Candidate(provider, model)],
        call=call,
        width=size[0] if size else None,
        height=size[1] if size else None,
    )


@dataclass(frozen=True)
class OutputMeta:
    operation: str
    source: str  # generated | edited | upscaled | controlled | ...
    output_format: str = "png"
    prompt: str | None = None
    parent: Asset | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Price:
    credits: int
    usd: Decimal


@dataclass
class UnitResult:
    index: int
    assets: list[Asset] = field(default_factory=list)
    error: ErrorInfo | None = None
    served_by: Candidate | None = None
    fallback_reason: str | None = None


@dataclass
class OperationResult:
    job: Job
    units: list[UnitResult]
    estimated: Price
    charged: int

    @property
    def refunded(self) -> int:
        return self.estimated.credits - self.charged

    @property
    def assets(self) -> list[Asset]:
        return [a for u in self.units for a in u.assets]


def settle_inline(
    provider: Provider, result: CallResult, *, budget: float = INLINE_POLL_SECONDS
) -> Succeeded:
    """A provider that answered 'still running' for a short job is polled here within a small budget."""
    if isinstance(result, Succeeded):
        return result
    assert isinstance(result, Submitted)
    deadline = time.monotonic() + budget
    wait = result.poll_after
    while True:
        time.sleep(max(0.0, min(wait, deadline - time.monotonic())))
        polled = provider.poll(result.provider_job_id)
        if isinstance(polled, Succeeded):
            return polled
        if isinstance(polled, Failed):
            raise ProviderError(
                f"{provider.name} failed the job: {polled.reason}", details={"code": polled.code}
            )
        assert isinstance(polled, Running)
        if time.monotonic() >= deadline:
            provider.cancel(result.provider_job_id)
            raise ProviderUnavailable(f"{provider.name} did not finish within {budget:.0f} s.")
        wait = polled.poll_after


def output_bytes(provider_name: str, output: Output) -> bytes:
    if output.data is not None:
        return output.data
    if output.url:
        # httpx is imported by the first output that has to be downloaded, not at cold start
        from imagestudio.providers import http as provider_http

        data, _ = provider_http.download(provider_name, output.url)
        return data
    raise ProviderError(f"{provider_name} returned an output without data or URL.")


def store_image(
    ports: Ports,
    owner: str,
    job: Job,
    data: bytes,
    meta: OutputMeta,
    unit: Unit,
    served: Candidate,
    cost: int,
) -> Asset:
    image = exact_size(open_image(data), unit.width, unit.height)
    encoded, mime = encode(image, meta.output_format)
    asset_id = new_id()
    files = store_asset_files(
        ports, owner, asset_id, data=encoded, mime=mime, extension=EXT[meta.output_format], pixels=image
    )
    asset = Asset(
        id=asset_id,
        owner=owner,
        type="image",
        key=files.key,
        thumbnail_key=files.thumbnail_key,
        mime=mime,
        bytes=len(encoded),
        width=image.width,
        height=image.height,
        prompt=meta.prompt,
        provider=served.provider,
        model=served.model,
        operation=meta.operation,
        job_id=job.id,
        cost_credits=cost,
        source=meta.source,
        parent_id=meta.parent.id if meta.parent else None,
        metadata={**meta.metadata, "variation": unit.index},
    )
    return ports.assets.create(tagged(asset, image))


def error_info(exc: Exception) -> ErrorInfo:
    if isinstance(exc, DomainError):
        return ErrorInfo(code=exc.code, message=exc.message)
    log.exception("unit failed unexpectedly")
    return ErrorInfo(code="internal_error", message="This output failed on our side.")


def charge_for(price: Price, delivered: int, total: int) -> int:
    """Credits for `delivered` of `total` units: the exact share of the estimated US$, rounded up once."""
    if delivered == total:
        return price.credits
    return min(price.credits, math.ceil(price.usd * delivered / total * 100))


def run_operation(
    ports: Ports,
    owner: str,
    *,
    operation: str,
    price: Price,
    units: list[Unit],
    meta: OutputMeta,
    inputs: dict[str, Any],
    provider: str | None = None,
    model: str | None = None,
    quality: str | None = None,
    wavespeed_calls: int = 0,
) -> OperationResult:
    job = open_job(
        ports,
        owner,
        operation=operation,
        credits=price.credits,
        usd=str(price.usd),
        inputs=inputs,
        provider=provider,
        model=model,
        count=len(units),
        quality=quality,
        variations=len(units),
        wavespeed_calls=wavespeed_calls,
    )
    per_unit = math.ceil(price.credits / len(units))

    def run_unit(unit: Unit) -> UnitResult:
        outcome = UnitResult(index=unit.index)
        try:
            served: Served[Succeeded] = call_with_fallback(
                unit.candidates, lambda p, c: settle_inline(p, unit.call(p, c))
            )
            outcome.served_by = served.served_by
            outcome.fallback_reason = served.fallback_reason
            for output in served.result.outputs:
                data = output_bytes(served.served_by.provider, output)
                outcome.assets.append(
                    store_image(ports, owner, job, data, meta, unit, served.served_by, per_unit)
                )
        except Exception as exc:
            outcome.error = error_info(exc)
            outcome.assets = []
            first_error.append(exc)
        return outcome

    first_error: list[Exception] = []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_UNITS, len(units))) as pool:
        # Each worker runs in a copy of this context, so it sees the function's environment view.
        futures = [pool.submit(contextvars.copy_context().run, run_unit, unit) for unit in units]
        results = [f.result() for f in futures]

    delivered = [r for r in results if r.error is None and r.assets]
    served_by = next((r.served_by for r in delivered), None)
    fallback = next((r.fallback_reason for r in results if r.fallback_reason), None)
    extra: dict[str, Any] = {
        "provider": served_by.provider if served_by else provider,
        "model": served_by.model if served_by else model,
    }
    if fallback:
        extra["inputs"] = {**inputs, "fallback": fallback}
    if not delivered:
        error = first_error[0] if first_error else ProviderError("No output was produced.")
        info = error_info(error)
        job = fail_job(ports, owner, job.id, code=info.code, message=info.message, **extra)
        if isinstance(error, DomainError):
            error.details = {**error.details, "job_id": job.id, "credits_charged": 0}
            raise error
        raise ProviderError(info.message, details={"job_id": job.id, "credits_charged": 0})
    charged = charge_for(price, len(delivered), len(units))
    assets = [a.id for r in results for a in r.assets]
    job = succeed_job(ports, owner, job.id, actual_credits=charged, outputs=assets, **extra)
    return OperationResult(job=job, units=results, estimated=price, charged=job.credits_captured)


@dataclass
class StudioOutcome:
    """What a studio operation gives its route: the result, and what to tell the user."""

    result: OperationResult
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    accepted: bool = False  # a long job: answered 202 while the provider works; follow the job


def submit_long_job(
    ports: Ports,
    owner: str,
    *,
    operation: str,
    price: Price,
    unit: Unit,
    meta: OutputMeta,
    inputs: dict[str, Any],
    provider: str,
    model: str,
    wavespeed_calls: int = 0,
) -> OperationResult:
    """Open the job (credits reserved), submit the provider job and record it on the job (running,
    provider_job_id). Nothing is polled here. A provider that answers at once after all is stored
    and charged like any operation; one that fails fails the job and returns the credits."""
    job = open_job(
        ports,
        owner,
        operation=operation,
        credits=price.credits,
        usd=str(price.usd),
        inputs=inputs,
        provider=provider,
        model=model,
        wavespeed_calls=wavespeed_calls,
    )
    try:
        served = call_with_fallback(unit.candidates, unit.call)
        by = served.served_by
        # What finishing the job later needs (operations/long_jobs.py): how to store its outputs.
        finish = {
            "operation": meta.operation,
            "source": meta.source,
            "output_format": meta.output_format,
            "prompt": meta.prompt,
            "parent_id": meta.parent.id if meta.parent else None,
            "width": unit.width,
            "height": unit.height,
            "metadata": meta.metadata,
        }
        extra: dict[str, Any] = {
            "provider": by.provider,
            "model": by.model,
            "inputs": {**inputs, "finish": finish},
        }
        if served.fallback_reason:
            extra["inputs"]["fallback"] = served.fallback_reason
        result = served.result
        if isinstance(result, Submitted):
            job = ports.jobs.transition(
                owner,
                job.id,
                from_statuses={"queued"},
                to="running",
                provider_job_id=result.provider_job_id,
                started_at=utcnow(),
                **extra,
            )
            return OperationResult(job=job, units=[], estimated=price, charged=0)
        assets = [
            store_image(ports, owner, job, output_bytes(by.provider, o), meta, unit, by, price.credits)
            for o in result.outputs
        ]
        if not assets:
            raise ProviderError(f"{by.provider} returned no output.")
    except Exception as exc:
        info = error_info(exc)
        job = fail_job(ports, owner, job.id, code=info.code, message=info.message)
        if isinstance(exc, DomainError):
            exc.details = {**exc.details, "job_id": job.id, "credits_charged": 0}
            raise
        raise ProviderError(info.message, details={"job_id": job.id, "credits_charged": 0}) from exc
    job = succeed_job(
        ports, owner, job.id, actual_credits=price.credits, outputs=[a.id for a in assets], **extra
    )
    units = [UnitResult(index=unit.index, assets=assets, served_by=by)]
    return OperationResult(job=job, units=units, estimated=price, charged=job.credits_captured)


# ----------------------------------------------------------------------------- masks


def run_single_unit(
    ports: Ports,
    owner: str,
    *,
    operation: str,
    label: str,
    long_job: bool,
    price: Price,
    unit: Unit,
    meta: OutputMeta,
    inputs: dict[str, Any],
    provider: str,
    model: str,
    notes: list[str],
    details: dict[str, Any],
    wavespeed_calls: int = 0,
) -> StudioOutcome:
    """A one-output studio operation: run now, or submit as a long job the client follows (202)."""
    common: dict[str, Any] = {
        "operation": operation,
        "price": price,
        "meta": meta,
        "inputs": inputs,
        "provider": provider,
        "model": model,
        "wavespeed_calls": wavespeed_calls,
    }
    if long_job:
        result = submit_long_job(ports, owner, unit=unit, **common)
        if result.job.is_open:
            notes.append(f"{label} runs as a long job; follow status_url ({result.job.id}) for its result.")
            return StudioOutcome(result, notes, details, accepted=True)
        return StudioOutcome(result, notes, details)
    return StudioOutcome(run_operation(ports, owner, units=[unit], **common), notes, details)
