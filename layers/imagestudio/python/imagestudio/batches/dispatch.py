"""The scheduled dispatcher: starts every due batch exactly once.

Each due time is claimed with one conditional transaction (the schedule's `next_run_at` must still be
the time this dispatcher read), so two dispatchers running at once, or one run twice, start a due
batch once; the run's execution is named after the run, which Step Functions also refuses twice.
A recurring schedule moves on to its next time and makes a new run with its own rows.
"""

from __future__ import annotations

import logging
from datetime import datetime

from imagestudio.batches.service import start_run
from imagestudio.config import Settings
from imagestudio.ids import new_id
from imagestudio.models.batches import Batch
from imagestudio.models.records import ErrorInfo, from_item, utcnow
from imagestudio.ports import Ports
from imagestudio.schedules import parse_schedule

log = logging.getLogger(__name__)


def _run_for(schedule: Batch, now: datetime) -> Batch:
    if schedule.kind != "schedule":
        return schedule.model_copy(update={"status": "queued", "next_run_at": None})
    return Batch(
        id=new_id(),
        owner=schedule.owner,
        name=f"{schedule.name or 'batch'} #{schedule.run_count + 1}",
        kind="run",
        run_of=schedule.id,
        status="queued",
        source=schedule.source,
        rows_key=schedule.rows_key,
        total=schedule.total,
        invalid=schedule.invalid,
        concurrency=schedule.concurrency,
        credits_estimated=schedule.credits_estimated,
        usd_estimated=schedule.usd_estimated,
        notify_email=schedule.notify_email,
        webhook_url=schedule.webhook_url,
        created_at=now,
    )


def dispatch_due(ports: Ports, settings: Settings, now: datetime | None = None) -> list[str]:
    """Start the runs whose time has come; answers the ids of the runs this call started."""
    moment = now or utcnow()
    started: list[str] = []
    for item in ports.batches.due(moment):
        schedule = from_item(Batch, item)
        seen = str(item["next_run_at"])
        following = parse_schedule(schedule.schedule).next_after(moment) if schedule.schedule else None
        run = _run_for(schedule, moment)
        if not ports.batches.claim_run(schedule, seen, run, following):
            log.info("batch %s at %s was claimed by another dispatcher", schedule.id, seen)
            continue
        if not _affordable(ports, run):
            continue
        start_run(ports, settings, run)
        started.append(run.id)
    return started


def _affordable(ports: Ports, run: Batch) -> bool:
    """A run that the balance cannot pay for does not start: it fails at once, nothing charged."""
    account = ports.ledger.account(run.owner)
    if account.available >= run.credits_estimated:
        return True
    error = ErrorInfo(
        code="insufficient_credits",
        message=f"The batch needs {run.credits_estimated} credits and {account.available} are available; "
        "nothing ran or was charged.",
    )
    ports.batches.replace(
        run.model_copy(update={"status": "failed", "error": error, "finished_at": utcnow()}),
        expected_status={"queued"},
    )
    return False
