"""Submitting, previewing, starting, pausing, resuming and cancelling batches.

Validation, references and prices are checked before anything is stored or charged. A run's rows
each go through the operation core as their own job (credits reserved, captured for what was
delivered, released otherwise), so the batch is charged only for what succeeded.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import Field, model_validator

from imagestudio.batches.quote import RowQuote, quote_row
from imagestudio.batches.rows import BatchRow, ParsedBatch, RowError, parse_csv, parse_items
from imagestudio.catalog import format_usd
from imagestudio.config import Settings
from imagestudio.csvtext import MAX_CSV_BYTES, decode_csv
from imagestudio.errors import Conflict, DomainError, InvalidInput
from imagestudio.ids import new_id
from imagestudio.models.batches import Batch, BatchRowRecord
from imagestudio.models.records import ErrorInfo, utcnow
from imagestudio.models.requests import RequestModel
from imagestudio.notify.webhooks import check_webhook_url
from imagestudio.operations import registry
from imagestudio.operations.jobs import cancel_job
from imagestudio.ports import Ports
from imagestudio.schedules import AtSchedule, ScheduleError, parse_schedule
from imagestudio.store.blobs import owner_segment
from imagestudio.store.workflows import execution_arn

ROW_CAPS = {"free": 25, "basic": 200, "pro": 1000, "enterprise": 5000}
INLINE_MAX_ROWS = 1000  # above this (and when deployed) the Distributed Map machine runs the batch
MAX_CONCURRENCY = 10
MIN_RECURRING_MINUTES = 15
SCHEDULE_AT_GRACE = timedelta(minutes=5)  # a time this close in the past (clock skew) runs now
SCHEDULE_AT_HORIZON = timedelta(days=366)  # the furthest a one-off batch can be scheduled


class BatchRequest(RequestModel):
    csv: str | None = Field(None, description="the CSV text (UTF-8)")
    upload_id: str | None = Field(None, max_length=64, description="a CSV uploaded through POST uploads")
    items: list[dict[str, Any]] | None = Field(None, description="rows as JSON objects")
    name: str | None = Field(None, max_length=120)
    dry_run: bool = Field(False, description="answer the cost preview only; nothing is stored or charged")
    skip_invalid: bool = Field(False, description="run the valid rows and list the invalid ones as skipped")
    schedule_at: datetime | None = Field(None, description="run once at this time (ISO, UTC if no zone)")
    schedule: str | None = Field(
        None, max_length=100, description="recurring: rate(1 day) or cron(0 9 ? * MON *) (EventBridge syntax)"
    )
    concurrency: int = Field(4, ge=1, le=MAX_CONCURRENCY, description="rows run at the same time")
    notify_email: str | None = Field(
        None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="subscribed to batch endings"
    )
    webhook_url: str | None = Field(None, max_length=2000, description="signed POST when the batch ends")

    @model_validator(mode="after")
    def _one_source(self) -> BatchRequest:
        if sum(x is not None for x in (self.csv, self.upload_id, self.items)) != 1:
            raise ValueError("give exactly one of 'csv', 'upload_id' or 'items'")
        if self.schedule_at and self.schedule:
            raise ValueError("give 'schedule_at' (once) or 'schedule' (recurring), not both")
        return self


@dataclass
class Preview:
    plan: str
    row_cap: int
    rows: list[RowQuote]
    errors: list[RowError]
    delimiter: str | None
    available: int
    problems: list[str] = field(default_factory=list)
    refusals: list[DomainError] = field(default_factory=list)
    valid: list[BatchRow] = field(default_factory=list)

    @property
    def credits(self) -> int:
        return sum(q.credits for q in self.rows)

    @property
    def usd(self) -> str:
        return format_usd(sum((q.usd for q in self.rows), Decimal("0")))

    @property
    def allowed(self) -> bool:
        return not self.problems and not self.errors and bool(self.rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "row_cap": self.row_cap,
            "delimiter": self.delimiter,
            "rows_valid": len(self.rows),
            "rows_invalid": len({e.row for e in self.errors}),
            "errors": [e.as_dict() for e in self.errors],
            "rows": [
                {"row": q.row, "operation": q.operation, "credits": q.credits, "usd": format_usd(q.usd)}
                for q in self.rows
            ],
            "total_credits": self.credits,
            "total_usd": self.usd,
            "available_credits": self.available,
            "allowed": self.allowed,
            "problems": self.problems,
        }


def _parse(ports: Ports, owner: str, request: BatchRequest, cap: int) -> tuple[ParsedBatch, str]:
    if request.csv is not None:
        if len(request.csv.encode()) > MAX_CSV_BYTES:
            raise InvalidInput(
                f"The CSV is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB.", details={"field": "csv"}
            )
        return parse_csv(request.csv.lstrip("\ufeff"), max_rows=cap), "csv"
    if request.upload_id is not None:
        upload = ports.uploads.get(owner, request.upload_id)
        if upload.content_type != "text/csv":
            raise InvalidInput(
                f"Upload {upload.id} is {upload.content_type}, not a CSV: "
                "upload it with content_type text/csv.",
                details={"field": "upload_id"},
            )
        if upload.status != "ready":
            raise InvalidInput(
                f"Upload {upload.id} is {upload.status}" + (f": {upload.reason}" if upload.reason else "."),
                details={"field": "upload_id"},
            )
        data = ports.blobs.get(upload.key, max_bytes=MAX_CSV_BYTES + 1)
        return parse_csv(decode_csv(data), max_rows=cap), "upload"
    assert request.items is not None
    return parse_items(request.items, max_rows=cap), "items"


def _plan_refusals(ports: Ports, owner: str, quotes: list[RowQuote], credits: int) -> list[DomainError]:
    """The plan's limits and the balance, checked for the whole batch at once (nothing is written):
    the ledger's own 402/429 errors, one per operation that does not fit."""
    counts: dict[str, int] = {}
    for q in quotes:
        usage = registry.get(q.operation).usage
        if usage is not None:
            counts[usage] = counts.get(usage, 0) + q.count
    refusals: list[DomainError] = []
    for operation, count in counts.items():
        try:
            ports.ledger.preflight(owner, credits, operation=operation, count=count)
        except DomainError as exc:
            if all(exc.message != r.message for r in refusals):
                refusals.append(exc)
    return refusals


def preview(ports: Ports, owner: str, request: BatchRequest) -> Preview:
    account = ports.ledger.account(owner)
    cap = ROW_CAPS.get(account.plan, ROW_CAPS["free"])
    parsed, _source = _parse(ports, owner, request, cap)
    quotes: list[RowQuote] = []
    errors = list(parsed.errors)
    valid: list[BatchRow] = []
    for row in parsed.rows:
        quoted = quote_row(ports, owner, row)
        if isinstance(quoted, list):
            errors += quoted
        else:
            quotes.append(quoted)
            valid.append(row)
    errors.sort(key=lambda e: (e.row, e.column or ""))
    found = Preview(
        plan=account.plan,
        row_cap=cap,
        rows=quotes,
        errors=errors,
        delimiter=parsed.delimiter,
        available=account.available,
        valid=valid,
    )
    found.refusals = _plan_refusals(ports, owner, quotes, found.credits) if quotes else []
    found.problems = [r.message for r in found.refusals]
    return found


def _next_time(request: BatchRequest, now: datetime) -> datetime | None:
    if request.schedule_at is not None:
        at = (
            request.schedule_at
            if request.schedule_at.tzinfo
            else request.schedule_at.replace(tzinfo=now.tzinfo)
        )
        if at < now - SCHEDULE_AT_GRACE:
            raise InvalidInput(
                f"schedule_at {at.isoformat()} is in the past: give a future time (UTC if no zone), or leave "
                "it out to run now.",
                details={"field": "schedule_at", "value": at.isoformat(), "now": now.isoformat()},
            )
        if at > now + SCHEDULE_AT_HORIZON:
            raise InvalidInput(
                f"schedule_at {at.isoformat()} is more than {SCHEDULE_AT_HORIZON.days} days ahead: "
                "schedule it closer, or use a recurring 'schedule'.",
                details={
                    "field": "schedule_at",
                    "value": at.isoformat(),
                    "max_days": SCHEDULE_AT_HORIZON.days,
                },
            )
        return max(at, now)
    if request.schedule is None:
        return None
    try:
        parsed = parse_schedule(request.schedule)
    except ScheduleError as exc:
        raise InvalidInput(str(exc), details={"field": "schedule"}) from None
    first = parsed.next_after(now)
    second = parsed.next_after(first) if first else None
    if first is None:
        raise InvalidInput("This schedule never fires again.", details={"field": "schedule"})
    if isinstance(parsed, AtSchedule) and first > now + SCHEDULE_AT_HORIZON:
        raise InvalidInput(
            f"{request.schedule} is more than {SCHEDULE_AT_HORIZON.days} days ahead: schedule it closer.",
            details={"field": "schedule", "max_days": SCHEDULE_AT_HORIZON.days},
        )
    if second is not None and (second - first).total_seconds() < MIN_RECURRING_MINUTES * 60:
        raise InvalidInput(
            f"A recurring batch runs at most every {MIN_RECURRING_MINUTES} minutes.",
            details={"field": "schedule"},
        )
    return first


def _row_records(batch_id: str, rows: list[BatchRow], quotes: list[RowQuote]) -> list[BatchRowRecord]:
    prices = {q.row: q.credits for q in quotes}
    return [
        BatchRowRecord(
            batch_id=batch_id,
            row=r.row,
            operation=r.operation,
            request=r.request.model_dump(mode="json", exclude_unset=True),
            fields=dict(r.fields),
            credits_estimated=prices.get(r.row, 0),
        )
        for r in rows
    ]


def rows_key(owner: str, batch_id: str) -> str:
    return f"batches/{owner_segment(owner)}/{batch_id}/rows.json"


def submit(
    ports: Ports, settings: Settings, owner: str, request: BatchRequest
) -> tuple[Batch | None, Preview]:
    """A dry run answers the preview; otherwise the batch is stored and started, or scheduled."""
    found = preview(ports, owner, request)
    # a dry run answers what the real submit would refuse: the same webhook and schedule checks
    if request.webhook_url:
        check_webhook_url(request.webhook_url)
    now = utcnow()
    next_run = _next_time(request, now)
    if request.dry_run:
        return None, found
    invalid_rows = sorted({e.row for e in found.errors})
    if invalid_rows and not request.skip_invalid:
        raise InvalidInput(
            f"{len(invalid_rows)} row(s) are invalid (rows {', '.join(map(str, invalid_rows[:20]))}"
            f"{', ...' if len(invalid_rows) > 20 else ''}): fix them, or send skip_invalid=true to run the "
            f"{len(found.rows)} valid row(s). Nothing was stored or charged.",
            details={"errors": [e.as_dict() for e in found.errors], "rows_valid": len(found.rows)},
        )
    if not found.rows:
        raise InvalidInput(
            "No row can run: every row is invalid.", details={"errors": [e.as_dict() for e in found.errors]}
        )
    if next_run is None and found.refusals:
        raise found.refusals[0]  # the ledger's own 402 or 429, with its figures
    batch_id = new_id()
    records = _row_records(batch_id, found.valid, found.rows)
    key = rows_key(owner, batch_id)
    ports.blobs.put(
        key, json.dumps([r.model_dump(mode="json") for r in records]).encode(), "application/json"
    )
    recurring = request.schedule is not None
    batch = Batch(
        id=batch_id,
        owner=owner,
        name=request.name,
        kind="schedule" if recurring else "run",
        status="scheduled" if next_run else "queued",
        source="csv" if request.csv is not None else "upload" if request.upload_id else "items",
        rows_key=key,
        total=len(records),
        invalid=[e.as_dict() for e in found.errors],
        skipped=0,
        concurrency=request.concurrency,
        credits_estimated=found.credits,
        usd_estimated=found.usd,
        schedule=request.schedule,
        schedule_at=request.schedule_at,
        next_run_at=next_run,
        notify_email=request.notify_email,
        webhook_url=request.webhook_url,
    )
    ports.batches.create(batch, [] if recurring else records)
    if request.notify_email:
        from imagestudio.notify.batches import subscribe_email

        subscribe_email(settings, owner, request.notify_email)
    if next_run is None:
        batch = start_run(ports, settings, batch)
    return batch, found


def start_run(ports: Ports, settings: Settings, run: Batch) -> Batch:
    """Start a queued run's execution over its pending rows (the first start, or a resume). Rows still
    running with a job (a run re-driven after its execution was lost) are followed to their end."""
    pending = [
        r.row
        for r in ports.batches.all_rows(run.id)
        if r.status == "pending" or (r.status == "running" and r.job_id)
    ]
    if not pending and run.run_of:
        stored = json.loads(ports.blobs.get(run.rows_key))
        records = [BatchRowRecord.model_validate({**r, "batch_id": run.id}) for r in stored]
        ports.batches.put_rows(records)
        pending = [r.row for r in records]
    name = run.id if run.executions == 0 else f"{run.id}-{run.executions}"
    distributed = settings.batch_distributed_state_machine
    use_distributed = bool(distributed) and len(pending) > INLINE_MAX_ROWS and run.executions == 0
    machine = distributed if use_distributed else settings.batch_state_machine
    payload: dict[str, Any] = {"batch_id": run.id, "owner": run.owner, "concurrency": run.concurrency}
    if use_distributed:
        payload |= {"bucket": ports.blobs.bucket, "rows_key": run.rows_key}
    else:
        payload["rows"] = pending
    updated = ports.batches.replace(
        run.model_copy(
            update={
                "execution": execution_arn(machine, name),
                "executions": run.executions + 1,
                "status": "queued",
            }
        ),
        expected_status={"queued", "paused"},
    )
    try:
        ports.workflows.start(machine, name, payload)
    except Exception as exc:
        failed = updated.model_copy(
            update={
                "status": "failed",
                "error": ErrorInfo(code="not_started", message=f"The batch could not start: {exc}"),
            }
        )
        return ports.batches.replace(failed, expected_status={"queued"})
    return updated


def pause(ports: Ports, owner: str, batch_id: str) -> Batch:
    batch = ports.batches.get(owner, batch_id)
    if batch.status not in ("scheduled", "queued", "running"):
        raise Conflict(
            f"Batch {batch_id} is {batch.status}: only a scheduled or running batch can be paused."
        )
    return ports.batches.replace(
        batch.model_copy(update={"status": "paused"}), expected_status={batch.status}
    )


def resume(ports: Ports, settings: Settings, owner: str, batch_id: str) -> Batch:
    batch = ports.batches.get(owner, batch_id)
    if batch.status != "paused":
        raise Conflict(f"Batch {batch_id} is {batch.status}, not paused.")
    now = utcnow()
    if batch.kind == "schedule" or (batch.executions == 0 and batch.next_run_at is not None):
        following = batch.next_run_at
        if batch.schedule and (following is None or following < now):
            following = parse_schedule(batch.schedule).next_after(now)
        updated = batch.model_copy(update={"status": "scheduled", "next_run_at": max(following or now, now)})
        return ports.batches.replace(updated, expected_status={"paused"})
    if batch.execution and _still_running(ports, batch):
        raise Conflict(
            f"Batch {batch_id} is still finishing the rows that were running when it was paused; "
            "resume it in a moment.",
            details={"status": batch.status},
        )
    return start_run(ports, settings, batch)


def _still_running(ports: Ports, batch: Batch) -> bool:
    return ports.workflows.is_running(batch.execution or "")


def cancel(ports: Ports, settings: Settings, owner: str, batch_id: str) -> Batch:
    """Stop a batch: rows not started never run; rows running at a provider are cancelled and their
    credits released; rows already delivered stay charged. Ends with the manifest."""
    from imagestudio.batches.runner import finish

    batch = ports.batches.get(owner, batch_id)
    if batch.status not in ("scheduled", "queued", "running", "paused"):
        raise Conflict(f"Batch {batch_id} is {batch.status} already.")
    was = batch.status
    canceled = ports.batches.replace(
        batch.model_copy(update={"status": "canceling", "next_run_at": None}), expected_status={was}
    )
    for row in ports.batches.all_rows(batch_id):
        if row.status == "running" and row.job_id:
            with contextlib.suppress(DomainError):  # it ended meanwhile: its own settle records it
                cancel_job(ports, owner, row.job_id)
    if was in ("scheduled", "paused") or not _still_running(ports, canceled):
        return finish(ports, settings, owner, batch_id)
    return canceled
