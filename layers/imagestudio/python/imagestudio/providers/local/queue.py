"""A simulated provider queue: submitted jobs answer Running with rising progress for a few polls,
then Succeeded with outputs computed at that moment (lazily), or Failed.

Jobs live in a module-level dict guarded by a lock, so any LocalProvider instance in the process can
poll or cancel a job another instance submitted. Each job has its own lock, so computing one job's
outputs never blocks polls of the others. Finished jobs beyond MAX_FINISHED, and any jobs beyond
MAX_JOBS, are forgotten, oldest first. A job id unknown to the process (a restart) answers
Failed("job_not_found").
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal

from imagestudio.errors import DomainError
from imagestudio.providers.base import Failed, Output, PollResult, Running, Submitted, Succeeded

MAX_FINISHED: Final = 256
MAX_JOBS: Final = 1024  # finished or not (never_finish jobs pile up otherwise)

State = Literal["queued", "running", "succeeded", "failed", "canceled"]


@dataclass
class Job:
    id: str
    provider: str
    capability: str
    operation: str | None
    compute: Callable[[], list[Output]] | None
    steps: int
    poll_after: float
    fail: bool = False
    never_finish: bool = False
    polls: int = 0
    state: State = "queued"
    outputs: list[Output] | None = None
    failure: Failed | None = None
    finished_at: float | None = None
    created_at: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed", "canceled")


_JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()


def submit(
    *,
    provider: str,
    capability: str,
    operation: str | None,
    compute: Callable[[], list[Output]],
    steps: int = 3,
    poll_after: float = 2.0,
    fail: bool = False,
    never_finish: bool = False,
) -> Submitted:
    job_id = f"{provider}-{capability}-{uuid.uuid4().hex}"
    job = Job(
        id=job_id,
        provider=provider,
        capability=capability,
        operation=operation,
        compute=compute,
        steps=max(0, steps),
        poll_after=max(0.0, poll_after),
        fail=fail,
        never_finish=never_finish,
    )
    with _LOCK:
        _JOBS[job_id] = job
        _forget_old()
    return Submitted(provider_job_id=job_id, poll_after=job.poll_after)


def get(job_id: str) -> Job | None:
    with _LOCK:
        return _JOBS.get(job_id)


def _no() -> bool:
    return False


def poll(
    job_id: str, *, fail: Callable[[], bool] = _no, never_finish: Callable[[], bool] = _no
) -> PollResult:
    """Move the job on by one poll. `fail` / `never_finish` add the polling provider's fault switches
    to those the job was submitted with; they are asked only once the job's steps are done."""
    job = get(job_id)
    if job is None:
        return Failed(
            code="job_not_found", reason=f"No job '{job_id}' in this process (it may have restarted)."
        )
    with job.lock:
        if job.state == "succeeded":
            assert job.outputs is not None
            return Succeeded(outputs=job.outputs, provider_job_id=job.id, cost_usd="0")
        if job.state in ("failed", "canceled"):
            assert job.failure is not None
            return job.failure
        job.polls += 1
        job.state = "running"
        if job.polls <= job.steps:
            return Running(progress=_progress(job.polls, job.steps), poll_after=job.poll_after)
        if job.never_finish or never_finish():
            return Running(progress=_progress(job.polls, job.steps), poll_after=job.poll_after)
        if job.fail or fail():
            return _finish_failed(
                job,
                Failed(
                    code="provider_job_failed",
                    reason=f"{job.provider} reported the job failed (simulated).",
                    retryable=False,
                ),
            )
        compute, job.compute = job.compute, None
        assert compute is not None
        try:
            outputs = compute()
        except DomainError as exc:
            return _finish_failed(job, Failed(code=exc.code, reason=exc.message, retryable=exc.status >= 500))
        except Exception as exc:  # the renderer broke: report it as the provider would
            return _finish_failed(
                job, Failed(code="provider_error", reason=f"{type(exc).__name__}: {exc}", retryable=True)
            )
        job.outputs, job.state, job.finished_at = outputs, "succeeded", time.monotonic()
        return Succeeded(outputs=outputs, provider_job_id=job.id, cost_usd="0")


def _progress(polls: int, steps: int) -> int:
    """Rising progress: 25, 50, 75 for three steps; past the steps it creeps towards 99."""
    if polls <= steps:
        return polls * 100 // (steps + 1)
    return min(99, steps * 100 // (steps + 1) + (polls - steps))


def _finish_failed(job: Job, failure: Failed) -> Failed:
    job.failure, job.state, job.compute, job.finished_at = failure, "failed", None, time.monotonic()
    return failure


def cancel(job_id: str) -> bool:
    """Cancel a job that has not finished; True if it was cancelled now."""
    job = get(job_id)
    if job is None:
        return False
    with job.lock:
        if job.finished:
            return False
        job.state, job.compute, job.finished_at = "canceled", None, time.monotonic()
        job.failure = Failed(code="canceled", reason="The job was cancelled.", retryable=False)
        return True


def _forget_old() -> None:
    finished = [j for j in _JOBS.values() if j.finished_at is not None]
    if len(finished) > MAX_FINISHED:
        finished.sort(key=lambda j: j.finished_at or 0.0)
        for job in finished[: len(finished) - MAX_FINISHED]:
            _JOBS.pop(job.id, None)
    if len(_JOBS) > MAX_JOBS:
        for job in sorted(_JOBS.values(), key=lambda j: j.created_at)[: len(_JOBS) - MAX_JOBS]:
            _JOBS.pop(job.id, None)


def reset() -> None:
    """Forget every job (tests)."""
    with _LOCK:
        _JOBS.clear()
