"""The one operation core every image operation runs through (API, state machine and batches alike).

open the job with its credits reserved -> call the provider for each unit (a variation, an edit),
falling back along the candidates -> make each output exact and store it as an asset -> charge
what was delivered and return the rest. A unit that fails is reported and not charged; if every
unit fails the job fails and the whole reservation goes back. Nothing is charged without a result.
"""

from __future__ import annotations

import builtins
import contextvars
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NoReturn, Protocol

from pydantic import BaseModel

from imagestudio.errors import DomainError, ProviderError
from imagestudio.models.records import Asset, ErrorInfo, Job, utcnow
from imagestudio.operations.finisher import Finish, store_output
from imagestudio.operations.inline_answer import ensure_files_fit, ensure_inline_fits
from imagestudio.operations.inputs import InputFile
from imagestudio.operations.jobs import error_info, fail_job, open_job, succeed_job
from imagestudio.ports import Ports
from imagestudio.providers import registry
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
    output_format: str | None = "png"  # None: the unit's bytes are stored as made (compress, convert)
    prompt: str | None = None
    parent: Asset | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    inline: bool = False  # the answer carries the images as base64: it must fit in a Lambda answer

    def finish(self, unit: Unit) -> Finish:
        return Finish(
            operation=self.operation,
            source=self.source,
            output_format=self.output_format,
            prompt=self.prompt,
            parent_id=self.parent.id if self.parent else None,
            width=unit.width,
            height=unit.height,
            metadata=self.metadata,
        )


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
class Outcome:
    """What every operation returns, whichever way it ran: its job (None only for the free social
    export, which runs on our compute and opens none), each unit's outputs or error, what was
    estimated and charged, and what to tell the user. A job still open is a long job the client
    follows (answered 202)."""

    job: Job | None
    units: list[UnitResult]
    estimated: Price
    charged: int
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def refunded(self) -> int:
        return 0 if self.accepted else self.estimated.credits - self.charged

    @property
    def accepted(self) -> bool:
        return self.job is not None and self.job.is_open

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
    notes: list[str] | None = None,
    details: dict[str, Any] | None = None,
    count: int | None = None,
) -> Outcome:
    """`count`: what the plan counts (default one per unit; 0 for our free compute, counted nowhere)."""
    # before the job opens: nothing is reserved for an answer that could not be sent (outputs made
    # on our compute, output_format None, are checked by their operation from their real sizes)
    if meta.inline and meta.output_format is not None:
        ensure_inline_fits(
            [(u.width, u.height) for u in units],
            meta.output_format,
            what=f"{len(units)} images" if len(units) > 1 else "the image",
        )
    job = open_job(
        ports,
        owner,
        operation=operation,
        credits=price.credits,
        usd=str(price.usd),
        inputs=inputs,
        provider=provider,
        model=model,
        count=len(units) if count is None else count,
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
            by = served.served_by
            for output in served.result.outputs:
                outcome.assets.append(
                    store_output(
                        ports,
                        owner,
                        job,
                        output,
                        meta.finish(unit),
                        provider=by.provider,
                        model=by.model,
                        cost=per_unit,
                        index=unit.index,
                    )
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
        _fail_and_raise(ports, owner, job, error, **extra)
    charged = charge_for(price, len(delivered), len(units))
    assets = [a.id for r in results for a in r.assets]
    job = succeed_job(ports, owner, job.id, actual_credits=charged, outputs=assets, **extra)
    return Outcome(
        job=job,
        units=results,
        estimated=price,
        charged=job.credits_captured,
        notes=notes if notes is not None else [],
        details=details if details is not None else {},
    )


def _fail_and_raise(ports: Ports, owner: str, job: Job, error: Exception, **fields: Any) -> NoReturn:
    """Fail the job (every reserved credit back) and raise the error with the job's id attached."""
    info = error_info(error)
    job = fail_job(ports, owner, job.id, code=info.code, message=info.message, **fields)
    if isinstance(error, DomainError):
        error.details = {**error.details, "job_id": job.id, "credits_charged": 0}
        raise error
    raise ProviderError(info.message, details={"job_id": job.id, "credits_charged": 0}) from error


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
    notes: list[str] | None = None,
    details: dict[str, Any] | None = None,
) -> Outcome:
    """Open the job (credits reserved), submit the provider job, record it on the job (running,
    provider_job_id) and hand it to the provider-job state machine, which polls it (or waits for the
    provider's webhook) and finishes it through the finisher. A provider that answers at once after
    all is stored and charged like any operation; any failure fails the job and returns the credits."""
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
    outcome = Outcome(job, [], price, 0, notes if notes is not None else [], details or {})
    try:
        served = call_with_fallback(unit.candidates, unit.call)
        by = served.served_by
        extra: dict[str, Any] = {
            "provider": by.provider,
            "model": by.model,
            "inputs": {**inputs, "finish": meta.finish(unit).as_inputs()},
        }
        if served.fallback_reason:
            extra["inputs"]["fallback"] = served.fallback_reason
        result = served.result
        if isinstance(result, Submitted):
            ports.jobs.map_provider_job(by.provider, result.provider_job_id, owner, job.id)
            outcome.job = ports.jobs.transition(
                owner,
                job.id,
                from_statuses={"queued"},
                to="running",
                provider_job_id=result.provider_job_id,
                started_at=utcnow(),
                **extra,
            )
            ports.workflows.start(
                ports.settings.provider_job_state_machine, job.id, {"job_id": job.id, "owner": owner}
            )
            return outcome
        assets = [
            store_output(
                ports,
                owner,
                job,
                o,
                meta.finish(unit),
                provider=by.provider,
                model=by.model,
                cost=price.credits,
            )
            for o in result.outputs
        ]
        if not assets:
            raise ProviderError(f"{by.provider} returned no output.")
    except Exception as exc:
        if outcome.job is not None and outcome.job.provider_job_id:
            _cancel_quietly(outcome.job.provider or provider, outcome.job.provider_job_id)
        _fail_and_raise(ports, owner, job, exc)
    outcome.job = succeed_job(
        ports, owner, job.id, actual_credits=price.credits, outputs=[a.id for a in assets], **extra
    )
    outcome.units = [UnitResult(index=unit.index, assets=assets, served_by=by)]
    outcome.charged = outcome.job.credits_captured
    return outcome


def _cancel_quietly(provider: str, provider_job_id: str) -> None:
    """A provider job we cannot follow (its machine did not start) is asked to stop: nobody pays for it."""
    try:
        registry.provider(provider).cancel(provider_job_id)
    except Exception:
        log.warning("provider %s did not cancel %s", provider, provider_job_id, exc_info=True)


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
) -> Outcome:
    """A one-output studio operation: run now, or submit as a long job the client follows (202)."""
    common: dict[str, Any] = {
        "operation": operation,
        "price": price,
        "meta": meta,
        "inputs": inputs,
        "provider": provider,
        "model": model,
        "wavespeed_calls": wavespeed_calls,
        "notes": notes,
        "details": details,
    }
    if long_job:
        outcome = submit_long_job(ports, owner, unit=unit, **common)
        if outcome.accepted:
            assert outcome.job is not None
            notes.append(f"{label} runs as a long job; follow status_url ({outcome.job.id}) for its result.")
            details["credits_reserved"] = outcome.job.credits_reserved
        return outcome
    return run_operation(ports, owner, units=[unit], **common)


class Computed(Protocol):
    """A file our own code encoded (imaging.compress's and imaging.convert's results)."""

    @property
    def data(self) -> builtins.bytes: ...
    @property
    def mime(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def bytes(self) -> int: ...


def computed_output(made: Computed, *, inline: bool, what: str) -> Output:
    """The output `run_computed` stores; an inline answer must fit in a Lambda answer, else 413 now."""
    if inline:
        ensure_files_fit([made.bytes], what=what)
    return Output(mime=made.mime, data=made.data, width=made.width, height=made.height)


def run_computed(
    ports: Ports,
    owner: str,
    *,
    operation: str,
    source: str,
    output: Output,
    request: BaseModel,
    given: InputFile,
    metadata: dict[str, Any],
    notes: list[str],
    details: dict[str, Any],
) -> Outcome:
    """An operation our own code has already computed (compress, convert): no provider is called; the
    output is stored as made, as a child of the input, and the job (free, counted against no plan
    limit) settled like any other, recorded as the Pillow renderer."""
    unit = Unit(
        index=0,
        candidates=[Candidate("local", "local-pillow")],
        call=lambda provider, candidate: Succeeded(outputs=[output]),
    )
    parent_id = given.asset.id if given.asset else None
    inputs: dict[str, Any] = {
        **request.model_dump(mode="json", exclude_none=True, exclude={"image", "asset_id", "upload_id"}),
        "image": {"source": given.source, "asset_id": parent_id},
        "parent_asset_id": parent_id,
        "source": source,
    }
    return run_operation(
        ports,
        owner,
        operation=operation,
        price=Price(credits=0, usd=Decimal("0")),
        units=[unit],
        meta=OutputMeta(
            operation=operation, source=source, output_format=None, parent=given.asset, metadata=metadata
        ),
        inputs=inputs,
        provider="local",
        model="local-pillow",
        notes=notes,
        details=details,
        count=0,  # counted against no plan limit
    )
