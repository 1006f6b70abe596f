"""Moving a job that runs at the provider (relight, creative upscale, ...) one step on: poll once,
then record progress, or store the outputs and charge, or fail and return the credits.

`advance_job` is the one step the status route takes when a client checks a running job, and the
step a state machine's poll task takes; either way a job is settled exactly once (the ledger and
the conditional job transitions see to that).
"""

from __future__ import annotations

from imagestudio.errors import Conflict
from imagestudio.models.records import Job
from imagestudio.operations.core import OutputMeta, Unit, error_info, output_bytes, store_image
from imagestudio.operations.jobs import fail_job, succeed_job
from imagestudio.ports import Ports
from imagestudio.providers import registry
from imagestudio.providers.base import Failed, ProviderUnavailable, Running, Succeeded
from imagestudio.providers.registry import Candidate


def advance_job(ports: Ports, owner: str, job: Job) -> Job:
    if job.status != "running" or not job.provider_job_id or not job.provider:
        return job
    if job.inputs.get("managed_by") == "stepfunctions":
        return job  # its state machine moves it on
    provider = registry.provider(job.provider)
    try:
        polled = provider.poll(job.provider_job_id)
    except ProviderUnavailable:
        return job  # a provider hiccup while polling is not the job's failure: the next check tries again
    try:
        if isinstance(polled, Running):
            progress = polled.progress if polled.progress is not None else job.progress
            if progress == job.progress:
                return job
            return ports.jobs.transition(
                owner, job.id, from_statuses={"running"}, to="running", progress=progress
            )
        if isinstance(polled, Failed):
            return fail_job(ports, owner, job.id, code=polled.code, message=polled.reason)
        assert isinstance(polled, Succeeded)
        return _finish(ports, owner, job, polled)
    except Conflict:
        return ports.jobs.get(owner, job.id)  # someone else moved it on meanwhile


def _finish(ports: Ports, owner: str, job: Job, result: Succeeded) -> Job:
    finish = job.inputs.get("finish") or {}
    parent = ports.assets.get(owner, finish["parent_id"]) if finish.get("parent_id") else None
    meta = OutputMeta(
        operation=finish.get("operation", job.operation),
        source=finish.get("source", "generated"),
        output_format=finish.get("output_format", "png"),
        prompt=finish.get("prompt"),
        parent=parent,
        metadata=finish.get("metadata") or {},
    )
    served = Candidate(job.provider or "local", job.model or "")
    unit = Unit(
        index=0,
        candidates=[served],
        call=lambda p, c: result,
        width=finish.get("width"),
        height=finish.get("height"),
    )
    try:
        assets = [
            store_image(
                ports, owner, job, output_bytes(served.provider, o), meta, unit, served, job.credits_reserved
            )
            for o in result.outputs
        ]
    except Exception as exc:
        info = error_info(exc)
        return fail_job(ports, owner, job.id, code=info.code, message=info.message)
    if not assets:
        return fail_job(
            ports, owner, job.id, code="provider_error", message="The provider returned no output."
        )
    return succeed_job(
        ports, owner, job.id, actual_credits=job.credits_reserved, outputs=[a.id for a in assets]
    )
