"""Open work whose state machine execution is gone (the offline stack restarted): re-drive it, or end
it with its credits released and the reason recorded. Never charges: every movement goes through the
job and ledger functions that already settle a job exactly once.

- A job run by the provider-job machine gets a new execution under its own name (the job id): a job
  not yet submitted is submitted, a submitted one goes back to polling its provider (which, if the
  provider lost it, fails the job and releases its credits with the provider's reason).
- Any other open job was running inside a function that is gone: it fails, its reservation released.
- A batch in flight: rows running without a job fail unpaid; rows whose job ended take its outcome;
  then the run is re-driven over its pending rows and the rows whose job was re-driven (pause and
  resume, as a user would), or, when it was being canceled, finished.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from imagestudio.batches import runner, service
from imagestudio.config import Settings
from imagestudio.errors import DomainError
from imagestudio.operations.jobs import fail_job
from imagestudio.ports import Ports
from imagestudio.store.workflows import execution_arn

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted"


@dataclass
class Recovery:
    jobs_redriven: list[str] = field(default_factory=list)
    jobs_failed: list[str] = field(default_factory=list)
    batches_redriven: list[str] = field(default_factory=list)
    batches_finished: list[str] = field(default_factory=list)


def recover(ports: Ports, settings: Settings, reason: str) -> Recovery:
    """Re-drive or end every open job and batch whose execution is not running; `reason` is what a
    failed job's error says happened."""
    out = Recovery()
    machine = settings.provider_job_state_machine
    for owner, job_id in ports.jobs.open_jobs():
        try:
            job = ports.jobs.get(owner, job_id)
            if not job.is_open:
                continue
            if "finish" in job.inputs and machine:  # a provider job: its machine knows how to go on
                if ports.workflows.is_running(execution_arn(machine, job.id)):
                    continue
                ports.workflows.start(machine, job.id, {"job_id": job.id, "owner": owner})
                out.jobs_redriven.append(job.id)
            else:
                fail_job(ports, owner, job.id, code=INTERRUPTED, message=reason)
                out.jobs_failed.append(job.id)
        except DomainError as exc:  # it ended meanwhile, or its money was settled already
            log.warning("recovery: job %s left as it is: %s", job_id, exc)

    for batch in ports.batches.in_flight():
        if batch.execution and ports.workflows.is_running(batch.execution):
            continue
        try:
            for row in ports.batches.all_rows(batch.id):
                if row.status != "running":
                    continue
                row_job = ports.jobs.get(batch.owner, row.job_id) if row.job_id else None
                if row_job is None or not row_job.is_open:
                    runner.settle_row(ports, batch.owner, batch.id, row.row, reason)
            if batch.status == "canceling":
                runner.finish(ports, settings, batch.owner, batch.id, reason)
                out.batches_finished.append(batch.id)
            else:
                service.pause(ports, batch.owner, batch.id)
                service.resume(ports, settings, batch.owner, batch.id)
                out.batches_redriven.append(batch.id)
        except DomainError as exc:
            log.warning("recovery: batch %s left as it is: %s", batch.id, exc)
    return out
