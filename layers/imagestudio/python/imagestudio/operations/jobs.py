"""Jobs and money together: a job is opened only with its credits reserved, and every way a job
ends settles them (capture on success; release on failure, cancel or expiry)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from imagestudio.errors import Conflict, DomainError, NotFound
from imagestudio.ids import new_id
from imagestudio.models.records import OPEN_STATUSES, ErrorInfo, Job, utcnow
from imagestudio.observability import emit
from imagestudio.ports import Ports

log = logging.getLogger(__name__)

DEFAULT_DEADLINE = timedelta(minutes=30)


def error_info(exc: Exception) -> ErrorInfo:
    """What a job records about a failure: a domain error's own words; anything else, logged, is ours."""
    if isinstance(exc, DomainError):
        return ErrorInfo(code=exc.code, message=exc.message)
    log.error("an operation failed unexpectedly", exc_info=exc)
    return ErrorInfo(code="internal_error", message="This output failed on our side.")


def ended(ports: Ports, job: Job) -> Job:
    """Tell whoever listens that a job ended (the bus, the request's webhook_url)."""
    from imagestudio.notify.jobs import job_ended

    emit("JobsEnded", 1, status=job.status)
    if job.credits_captured:
        emit("CreditsCharged", job.credits_captured)
    job_ended(job, ports.settings)
    return job


def open_job(
    ports: Ports,
    owner: str,
    *,
    operation: str,
    credits: int,
    usd: str,
    inputs: dict[str, Any],
    provider: str | None = None,
    model: str | None = None,
    count: int = 1,
    deadline: timedelta = DEFAULT_DEADLINE,
    job_id: str | None = None,
    quality: str | None = None,
    variations: int | None = None,
    wavespeed_calls: int = 0,
) -> Job:
    """Reserve the credits (plan limits checked in the same write), then record the job; if the
    record cannot be written the credits go back."""
    job_id = job_id or new_id()
    ports.ledger.account(owner)  # a first-time user is opened with their plan's grant
    ports.ledger.reserve(
        owner,
        job_id,
        credits,
        operation=operation,
        count=count,
        wavespeed_calls=wavespeed_calls,
        quality=quality,
        model=model,
        variations=variations,
    )
    now = utcnow()
    job = Job(
        id=job_id,
        owner=owner,
        operation=operation,
        inputs=inputs,
        provider=provider,
        model=model,
        estimated_credits=credits,
        estimated_usd=usd,
        credits_reserved=credits,
        created_at=now,
        updated_at=now,
        deadline=now + deadline,
    )
    try:
        return ports.jobs.create(job)
    except Exception:
        ports.ledger.release(owner, job_id, "the job could not be recorded")
        raise


def succeed_job(
    ports: Ports, owner: str, job_id: str, *, actual_credits: int, outputs: list[str], **fields: Any
) -> Job:
    """Charge what was delivered (the rest of the reservation goes back) and close the job."""
    movement = ports.ledger.capture(owner, job_id, actual_credits)
    return ended(
        ports,
        ports.jobs.transition(
            owner,
            job_id,
            from_statuses=OPEN_STATUSES,
            to="succeeded",
            progress=100,
            outputs=outputs,
            actual_credits=movement.amount,
            credits_captured=movement.amount,
            **fields,
        ),
    )


def fail_job(ports: Ports, owner: str, job_id: str, *, code: str, message: str, **fields: Any) -> Job:
    ports.ledger.release(owner, job_id, f"job failed: {code}")
    return ended(
        ports,
        ports.jobs.transition(
            owner,
            job_id,
            from_statuses=OPEN_STATUSES,
            to="failed",
            error=ErrorInfo(code=code, message=message),
            **fields,
        ),
    )


def cancel_job(ports: Ports, owner: str, job_id: str) -> Job:
    """DELETE jobs/{id}: an open job is canceled and its reservation returned; a finished one is a 409.

    The job is marked canceled first (a conditional write), so a task still running for it finds it
    ended and stores nothing; then its execution is stopped, the provider asked to cancel, and the
    credits released. If a task captured in the same instant, the capture is refunded: a canceled
    job never costs anything.
    """
    job = ports.jobs.get(owner, job_id)
    if not job.is_open:
        raise Conflict(
            f"Job {job_id} already ended ({job.status}); only queued or running jobs can be canceled."
        )
    canceled = ports.jobs.transition(
        owner,
        job_id,
        from_statuses=OPEN_STATUSES,
        to="canceled",
        error=ErrorInfo(code="canceled", message="Canceled by the user; reserved credits were returned."),
    )
    ports.workflows.stop(ports.settings.provider_job_state_machine, job_id, "canceled by the user")
    if job.provider_job_id and job.provider:
        from imagestudio.providers import registry

        try:
            registry.provider(job.provider).cancel(job.provider_job_id)
        except Exception:  # the provider may refuse; the job is ours to end regardless
            log.warning("provider cancel failed for job %s", job_id, exc_info=True)
    try:
        ports.ledger.release(owner, job_id, "canceled by the user")
    except Conflict:
        captured = ports.ledger.reservation(owner, job_id).captured_amount
        if captured:
            ports.ledger.refund(owner, job_id, captured, "canceled by the user", f"cancel-{job_id}")
    return ended(ports, canceled)


def sweep_overdue(ports: Ports, now: datetime | None = None) -> list[str]:
    """Expire open jobs past their deadline and release their reservations (the scheduled sweeper)."""
    now = now or utcnow()
    expired = []
    for owner, job_id in ports.jobs.overdue(now):
        try:
            ports.ledger.release(owner, job_id, "deadline passed")
            expired_job = ports.jobs.transition(
                owner,
                job_id,
                from_statuses=OPEN_STATUSES,
                to="expired",
                error=ErrorInfo(
                    code="expired", message="The job passed its deadline; reserved credits were returned."
                ),
            )
            ended(ports, expired_job)
        except (Conflict, NotFound):
            continue  # it ended meanwhile: whoever ended it settled the credits
        expired.append(job_id)
    # Reservations that outlived their job's deadline: nonzero means something stopped settling jobs.
    emit("OverdueReservations", len(expired))
    return expired
