"""The batch machine's tasks (statemachines/batch.asl.json): begin, run a row, settle a long row,
check a row that runs at the provider, finish with the manifest and the notifications.

A row runs through the same operation as the API (its own job: credits reserved, charged for what was
delivered, released otherwise). A failing row ends as failed and never fails the batch. Every row
ends once: its status moves only from pending/running, and the batch counters are ADDed then.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from imagestudio import download_path
from imagestudio.batches.manifest import MANIFEST_COLUMNS, manifest_csv, manifest_json
from imagestudio.config import Settings
from imagestudio.errors import DomainError, NotFound
from imagestudio.models.batches import ROW_ENDED, Batch, BatchRowRecord, RowStatus
from imagestudio.models.records import ErrorInfo, Job, utcnow
from imagestudio.notify.batches import batch_ended
from imagestudio.operations import registry, transform
from imagestudio.operations.jobs import cancel_job, error_info
from imagestudio.ports import Ports
from imagestudio.store.blobs import owner_segment

log = logging.getLogger(__name__)
ROW_WAIT = (5, 10, 20, 40, 60)
DONE = {"status": "done"}


def begin(ports: Ports, owner: str, batch_id: str) -> dict[str, Any]:
    batch = ports.batches.get(owner, batch_id)
    if batch.status == "queued":
        batch = ports.batches.replace(
            batch.model_copy(update={"status": "running", "started_at": batch.started_at or utcnow()}),
            expected_status={"queued"},
        )
    return {"status": batch.status}


def _end(ports: Ports, row: BatchRowRecord, owner: str, status: RowStatus, **changes: Any) -> dict[str, Any]:
    ended = row.model_copy(update={"status": status, "finished_at": utcnow(), **changes})
    if ports.batches.update_row(ended, expected={"pending", "running"}) is not None:
        ports.batches.count(
            owner, row.batch_id, status, charged=ended.credits_charged, refunded=ended.credits_refunded
        )
    return DONE


def _from_job(ports: Ports, owner: str, row: BatchRowRecord, job: Job) -> dict[str, Any]:
    """A row whose job ended: its outcome and money as the job says."""
    refunded = max(0, job.credits_reserved - job.credits_captured)
    if job.status == "succeeded":
        return _end(
            ports,
            row,
            owner,
            "succeeded",
            outputs=job.outputs,
            credits_charged=job.credits_captured,
            credits_refunded=refunded,
        )
    status: RowStatus = "canceled" if job.status == "canceled" else "failed"
    error = job.error or ErrorInfo(code=job.status, message=f"The job {job.status}.")
    return _end(ports, row, owner, status, error=error, credits_refunded=job.credits_reserved)


def run_row(ports: Ports, settings: Settings, owner: str, batch_id: str, number: int) -> dict[str, Any]:
    batch = ports.batches.get(owner, batch_id)
    row = ports.batches.row(batch_id, number)
    if row.status in ROW_ENDED:
        return DONE  # a retried task: it ended already
    if row.status == "running" and row.job_id:
        return _follow(ports, settings, owner, row, ports.jobs.get(owner, row.job_id))
    if batch.status in ("canceling", "canceled"):
        return _end(
            ports, row, owner, "canceled", error=ErrorInfo(code="canceled", message="The batch was canceled.")
        )
    if batch.status == "paused":
        return DONE  # stays pending: resume runs it
    started = row.model_copy(update={"status": "running", "started_at": utcnow()})
    if ports.batches.update_row(started, expected={"pending"}) is None:
        return DONE
    spec = registry.get(row.operation)
    request = spec.request.model_validate(row.request)
    try:
        outcome = spec.run(ports, owner, request)  # the API's own operation, as its own job
    except DomainError as exc:
        info = ErrorInfo(code=exc.code, message=exc.message)
        job_id = exc.details.get("job_id") if isinstance(exc.details, dict) else None
        return _end(
            ports,
            started,
            owner,
            "failed",
            error=info,
            job_id=job_id,
            credits_refunded=row.credits_estimated if job_id else 0,
        )
    except Exception as exc:  # a bug or an outage must fail the row, not the batch
        log.exception("batch %s row %s failed", batch_id, number)
        info = error_info(exc)
        return _end(ports, started, owner, "failed", error=info)
    job = outcome.job
    if job is None:  # our own compute (social export): no job, nothing charged
        return _end(ports, started, owner, "succeeded", outputs=[a.id for a in outcome.assets])
    started = started.model_copy(update={"job_id": job.id})
    if outcome.accepted:  # a provider job on its own state machine: this row waits for it
        ports.batches.update_row(started, expected={"running"})
        return _waiting(settings, owner, job.id, 0)
    return _from_job(ports, owner, started, job)


def _waiting(settings: Settings, owner: str, job_id: str, checks: int) -> dict[str, Any]:
    """The step of a row whose job is still open: the machine waits (growing, scaled), then checks."""
    wait = int(ROW_WAIT[min(checks, len(ROW_WAIT) - 1)] * settings.poll_wait_scale)
    return {"status": "running", "job_id": job_id, "owner": owner, "wait": wait, "checks": checks}


def _follow(
    ports: Ports, settings: Settings, owner: str, row: BatchRowRecord, job: Job, checks: int = 0
) -> dict[str, Any]:
    if job.is_open:
        return _waiting(settings, owner, job.id, checks)
    return _from_job(ports, owner, row, job)


def check_row(
    ports: Ports, settings: Settings, owner: str, batch_id: str, number: int, checks: int
) -> dict[str, Any]:
    """One check of a row whose job runs at the provider (its own state machine moves the job on)."""
    row = ports.batches.row(batch_id, number)
    if row.status in ROW_ENDED or not row.job_id:
        return DONE
    job = ports.jobs.get(owner, row.job_id)
    if job.is_open and ports.batches.get(owner, batch_id).status in ("canceling", "canceled"):
        # A row that opened its job while the batch was being canceled: the cancel did not see the job.
        with contextlib.suppress(DomainError):
            job = cancel_job(ports, owner, job.id)
    if job.is_open:
        return _waiting(settings, owner, job.id, checks + 1)
    return _from_job(ports, owner, row, job)


def settle_row(ports: Ports, owner: str, batch_id: str, number: int, error: Any = None) -> dict[str, Any]:
    """After a row's task crashed: the row ends failed (its job, if one was opened, fails and is
    released unless it ended meanwhile)."""
    row = ports.batches.row(batch_id, number)
    if row.status in ROW_ENDED:
        return DONE
    if not row.job_id:
        return _end(
            ports, row, owner, "failed", error=ErrorInfo(code="not_started", message=str(error)[:500])
        )
    job = ports.jobs.get(owner, row.job_id)
    if job.is_open:  # the machine did not finish it (it failed to start, or was stopped): end it here
        transform.fail(ports, owner, job.id, error if isinstance(error, dict) else None)
        job = ports.jobs.get(owner, row.job_id)
        if job.is_open:
            return DONE  # still open: its deadline (the sweeper) ends it and returns its credits
    return _from_job(ports, owner, row, job)


# ------------------------------------------------------------------------------ the end


def manifest_rows(ports: Ports, batch: Batch) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in ports.batches.all_rows(batch.id):
        out.append(
            {
                "row": r.row,
                "operation": r.operation,
                "status": r.status,
                "job_id": r.job_id,
                "credits_charged": r.credits_charged,
                "credits_refunded": r.credits_refunded,
                "output_asset_ids": r.outputs,
                "output_urls": [download_path(a) for a in r.outputs],
                "error_code": r.error.code if r.error else None,
                "error_message": r.error.message if r.error else None,
                "input": r.fields or r.request,
            }
        )
    for e in batch.invalid:
        out.append(
            {
                "row": e.get("row"),
                "operation": None,
                "status": "invalid",
                "credits_charged": 0,
                "credits_refunded": 0,
                "output_asset_ids": [],
                "output_urls": [],
                "error_code": "invalid_row",
                "error_message": f"{e.get('column') or 'row'}: {e.get('message')}",
            }
        )
    out.sort(key=lambda x: (x["row"] or 0, x["status"]))
    return out


def _status(batch: Batch) -> str:
    if batch.status in ("canceling", "canceled"):
        return "canceled"
    if batch.status == "paused":
        return batch.status
    if batch.succeeded == batch.total and not batch.invalid:
        return "succeeded"
    return "partial" if batch.succeeded else "failed"


BATCH_ENDED = frozenset({"succeeded", "partial", "failed", "canceled"})


def finish(ports: Ports, settings: Settings, owner: str, batch_id: str, error: Any = None) -> Batch:
    batch = ports.batches.get(owner, batch_id)
    if batch.status in BATCH_ENDED and batch.finished_at is not None:
        return batch  # a retried task: the batch ended once, with its manifest and notifications
    pending = [r for r in ports.batches.all_rows(batch_id) if r.status in ("pending", "running")]
    if batch.status == "paused" and pending:
        return batch  # resume starts a new execution over the pending rows
    if batch.status in ("canceling", "canceled"):
        for r in pending:
            if r.status == "pending" or not r.job_id:
                _end(
                    ports,
                    r,
                    owner,
                    "canceled",
                    error=ErrorInfo(code="canceled", message="The batch was canceled."),
                )
        batch = ports.batches.get(owner, batch_id)
    elif pending:  # the machine stopped early (an error in the Map): whatever did not run fails, unpaid
        for r in pending:
            if r.status == "pending":
                _end(
                    ports,
                    r,
                    owner,
                    "failed",
                    error=ErrorInfo(code="not_run", message=f"The batch stopped: {error}"[:500]),
                )
        batch = ports.batches.get(owner, batch_id)
    rows = manifest_rows(ports, batch)
    base = f"batches/{owner_segment(owner)}/{batch_id}/manifest"
    final = batch.model_copy(
        update={
            "status": _status(batch),
            "finished_at": utcnow(),
            "manifest_csv_key": f"{base}.csv",
            "manifest_json_key": f"{base}.json",
        }
    )
    summary = {
        k: v
        for k, v in final.model_dump(mode="json").items()
        if k not in ("owner", "rows_key", "invalid", "manifest_csv_key", "manifest_json_key", "execution")
    }
    ports.blobs.put(f"{base}.csv", manifest_csv(rows, MANIFEST_COLUMNS).encode(), "text/csv; charset=utf-8")
    ports.blobs.put(f"{base}.json", manifest_json(summary, rows).encode(), "application/json")
    try:
        final = ports.batches.replace(final, expected_status={batch.status})
    except DomainError:
        return ports.batches.get(owner, batch_id)  # someone else finished it
    batch_ended(final, settings, ports.blobs.download_url(f"{base}.json", expires=86400))
    return final


def handle(ports: Ports, settings: Settings, event: dict[str, Any]) -> dict[str, Any]:
    action = event.get("action")
    owner, batch_id = str(event["owner"]), str(event["batch_id"])
    error = event.get("error") or (event.get("state") or {}).get("error")  # a Catch put it in the state
    if action == "begin":
        return begin(ports, owner, batch_id)
    if action == "run_row":
        return run_row(ports, settings, owner, batch_id, int(event["row"]))
    if action == "check_row":
        return check_row(ports, settings, owner, batch_id, int(event["row"]), int(event.get("checks") or 0))
    if action == "settle_row":
        return settle_row(ports, owner, batch_id, int(event["row"]), error)
    if action == "finish":
        batch = finish(ports, settings, owner, batch_id, error)
        return {"status": batch.status, "batch_id": batch.id}
    raise NotFound(f"Unknown batch action {action!r}.")
