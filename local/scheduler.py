"""EventBridge schedules for the offline stack: moto stores schedule rules but never fires them.

A ticker thread fires every enabled rate(), cron() and at() schedule of the template when it is
due, and `fire` runs one now. Targets get what EventBridge sends: the event's Input when the
template sets one, otherwise a "Scheduled Event" envelope; Lambda targets are invoked
asynchronously (as EventBridge does), state machines get a new execution.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from imagestudio.schedules import parse_schedule
from local.lambda_runtime import LocalLambdaRuntime
from local.periodic import Periodic
from local.provision import ScheduleSpec, StackPlan

log = logging.getLogger("local.scheduler")


@dataclass
class Firing:
    schedule: str
    at: datetime
    target: str
    detail: str


class Scheduler:
    def __init__(
        self,
        plan: StackPlan,
        runtime: LocalLambdaRuntime,
        start_execution: Callable[[str, str, str], Any],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.plan = plan
        self.runtime = runtime
        self._start_execution = start_execution  # (state machine arn, name, input json)
        self._clock = clock
        self._periodic = Periodic("local-scheduler", self.tick)
        self.history: list[Firing] = []
        now = clock()
        self._due: dict[str, datetime | None] = {}
        for spec in plan.schedules:
            # Validate every expression at start: a bad schedule fails `make run`, not silently.
            self._due[spec.name] = parse_schedule(spec.expression).next_after(now) if spec.enabled else None

    @property
    def schedules(self) -> list[ScheduleSpec]:
        return list(self.plan.schedules)

    def next_run(self, name: str) -> datetime | None:
        return self._due.get(name)

    def spec(self, name: str) -> ScheduleSpec:
        for spec in self.plan.schedules:
            if name in (spec.name, spec.source):
                return spec
        raise KeyError(f"no schedule {name!r}; schedules: {[s.name for s in self.plan.schedules]}")

    def payload(self, spec: ScheduleSpec, when: datetime) -> Any:
        if spec.input is not None:
            return json.loads(spec.input) if isinstance(spec.input, str) else spec.input
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.plan.account_id,
            "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.plan.region,
            "resources": [f"arn:aws:events:{self.plan.region}:{self.plan.account_id}:rule/{spec.name}"],
            "detail": {},
        }

    def fire(self, name: str, *, wait: bool = False) -> Firing:
        """Deliver one schedule's event now. `wait` runs a Lambda target's asynchronous invocation
        (retries, failure destination) before returning (for tests)."""
        spec = self.spec(name)
        when = self._clock()
        payload = self.payload(spec, when)
        if spec.target_kind == "states":
            execution = f"{spec.name}-{when.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
            detail = str(self._start_execution(spec.target, execution, json.dumps(payload)))
        elif wait:
            result = self.runtime.invoke_event(spec.target, payload)
            detail = "error" if result.error else "ok"
        else:
            self.runtime.invoke_async(spec.target, payload)
            detail = "invoked asynchronously"
        firing = Firing(schedule=spec.name, at=when, target=spec.target, detail=detail)
        self.history.append(firing)
        log.info("schedule %s fired -> %s (%s)", spec.name, spec.target, detail)
        return firing

    def tick(self) -> list[Firing]:
        """Fire every schedule that is due, and compute its next time."""
        now = self._clock()
        fired = []
        for spec in self.plan.schedules:
            due = self._due.get(spec.name)
            if due is not None and due <= now:
                fired.append(self.fire(spec.name))
                self._due[spec.name] = parse_schedule(spec.expression).next_after(now)
        return fired

    def start(self, interval: float = 1.0) -> None:
        self._periodic.start(interval)

    def stop(self) -> None:
        self._periodic.stop()
