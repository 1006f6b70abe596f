"""The books always balance: random sequences of movements (valid and invalid), checked after each step.

`assert_books_balance` reads the raw items of a user's partition, independently of the Ledger code:
- balance: granted - captured + refunded == available + reserved, neither negative;
- the ledger, replayed oldest first, reproduces every entry's available_after / reserved_after and
  ends on the balance (grant +, adjust +/-, capture -, refund +; reserve/release move between
  available and reserved), and its sums per kind equal the lifetime totals;
- reserved == the sum of held reservations; no job is charged more than it reserved or refunded
  more than it was charged;
- every movement guard points at a ledger entry that exists;
- each period's usage counters equal what its held and captured reservations counted.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from imagestudio.catalog import get_catalog
from imagestudio.credits import Ledger
from imagestudio.errors import Conflict, InsufficientCredits, NotFound, PlanLimitExceeded
from imagestudio.store.dynamo import reset_clients, table
from tests.conftest import Deployed

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


def partition(table_name: str, user: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(f"USER#{user}"), "ConsistentRead": True}
    handle = table(table_name)
    while True:
        page = handle.query(**query)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def assert_books_balance(table_name: str, user: str) -> dict[str, int]:
    """Check every invariant of one user's credits; returns the balance's figures."""
    items = partition(table_name, user)
    by_prefix: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_prefix.setdefault(item["sk"].split("#")[0], []).append(item)
    balances = by_prefix.get("BALANCE", [])
    if not balances:
        assert not items, "items without a balance"
        return {}
    assert len(balances) == 1
    b = {k: int(balances[0][k]) for k in ("available", "reserved", "granted", "captured", "refunded")}
    assert b["available"] >= 0 and b["reserved"] >= 0, b
    assert b["granted"] - b["captured"] + b["refunded"] == b["available"] + b["reserved"], b

    entries = sorted(by_prefix.get("LEDGER", []), key=lambda i: i["sk"])
    available = reserved = 0
    sums = {"grant": 0, "adjust": 0, "capture": 0, "refund": 0}
    for e in entries:
        kind, n = e["kind"], int(e["amount"])
        assert n >= 0, e
        if kind == "grant":
            available += n
        elif kind == "adjust":
            n = n if e["direction"] == "up" else -n
            available += n
        elif kind == "reserve":
            available, reserved = available - n, reserved + n
        elif kind == "release":
            available, reserved = available + n, reserved - n
        elif kind == "capture":
            reserved -= n
        elif kind == "refund":
            available += n
        else:  # pragma: no cover
            raise AssertionError(f"unknown kind {kind}")
        if kind in sums:
            sums[kind] += n
        assert (available, reserved) == (int(e["available_after"]), int(e["reserved_after"])), e
    assert (available, reserved) == (b["available"], b["reserved"])
    assert sums["grant"] + sums["adjust"] == b["granted"]
    assert sums["capture"] == b["captured"]
    assert sums["refund"] == b["refunded"]
    assert sums["grant"] + sums["adjust"] - sums["capture"] + sums["refund"] == b["available"] + b["reserved"]

    reservations = by_prefix.get("RES", [])
    assert sum(int(r["amount"]) for r in reservations if r["status"] == "held") == b["reserved"]
    for r in reservations:
        assert int(r["captured_amount"]) <= int(r["amount"]), r
        assert int(r["refunded_amount"]) <= int(r["captured_amount"]), r
        if r["status"] != "captured":
            assert int(r["captured_amount"]) == 0 and int(r["refunded_amount"]) == 0, r

    entry_ids = {e["sk"][len("LEDGER#") :] for e in entries}
    for guard in by_prefix.get("MOVE", []):
        assert guard["entry_id"] in entry_ids, guard

    expected: dict[str, dict[str, int]] = {}
    for r in reservations:
        if r["status"] == "released":
            continue
        counted = expected.setdefault(r["period"], {})
        for name, n in r["usage"].items():
            counted[name] = counted.get(name, 0) + int(n)
        spent = int(r["amount"]) if r["status"] == "held" else int(r["captured_amount"])
        counted["credits"] = counted.get("credits", 0) + spent
    for usage in by_prefix.get("USAGE", []):
        period = usage["sk"][len("USAGE#") :]
        counted = expected.get(period, {})
        for name in ("images", "edits", "videos", "wavespeed_calls", "credits"):
            assert int(usage.get(name, 0)) == counted.get(name, 0), (period, name, usage)
    return b


# --- the state machine -------------------------------------------------------------------------

JOBS = [f"job-{i}" for i in range(4)]
REFUNDS = [f"refund-{i}" for i in range(3)]
GRANTS = [f"grant-{i}" for i in range(3)]
ADJUSTMENTS = [f"adj-{i}" for i in range(3)]
OPERATIONS = ["generate", "edit", "image-to-video"]
PLANS = [p.id for p in get_catalog().plans()]


@dataclass
class Job:
    amount: int
    status: str = "held"
    captured: int = 0
    refunded: int = 0
    first_capture: tuple[int, int] | None = None


@dataclass
class Model:
    """What the balance must be, kept by the test from the answers it got."""

    available: int = 200
    reserved: int = 0
    jobs: dict[str, Job] = field(default_factory=dict)
    refunds: dict[str, tuple[str, int]] = field(default_factory=dict)
    gifts: dict[str, int] = field(default_factory=dict)


class LedgerMachine(RuleBasedStateMachine):
    ledger: Ledger
    table_name: str
    users: Iterator[int]

    def __init__(self) -> None:
        super().__init__()
        self.user = f"user-{next(self.users)}"
        self.model = Model()
        self.ledger.account(self.user)

    @rule(
        job=st.sampled_from(JOBS),
        credits=st.integers(0, 120),
        operation=st.sampled_from(OPERATIONS),
        count=st.integers(1, 3),
    )
    def reserve(self, job: str, credits: int, operation: str, count: int) -> None:
        m = self.model
        known = m.jobs.get(job)
        try:
            res = self.ledger.reserve(self.user, job, credits, operation=operation, count=count)
        except Conflict:
            assert known is not None and known.amount != credits
            return
        except InsufficientCredits as err:
            assert known is None and m.available < credits
            assert err.details["available"] == m.available
            return
        except PlanLimitExceeded:
            assert known is None
            return
        if known is not None:
            assert res.replayed and res.amount == known.amount == credits
            return
        assert not res.replayed and res.status == "held"
        m.jobs[job] = Job(amount=credits)
        m.available -= credits
        m.reserved += credits

    @rule(job=st.sampled_from(JOBS), actual=st.integers(0, 150))
    def capture(self, job: str, actual: int) -> None:
        m = self.model
        known = m.jobs.get(job)
        try:
            mv = self.ledger.capture(self.user, job, actual)
        except NotFound:
            assert known is None
            return
        except Conflict:
            assert known is not None and known.status == "released"
            return
        assert known is not None and known.status != "released"
        if known.status == "captured":
            assert mv.replayed and (mv.amount, mv.returned) == known.first_capture
            return
        charge = min(actual, known.amount)
        assert (mv.amount, mv.returned) == (charge, known.amount - charge)
        known.status, known.captured, known.first_capture = (
            "captured",
            charge,
            (charge, known.amount - charge),
        )
        m.reserved -= known.amount
        m.available += known.amount - charge

    @rule(job=st.sampled_from(JOBS))
    def release(self, job: str) -> None:
        m = self.model
        known = m.jobs.get(job)
        try:
            mv = self.ledger.release(self.user, job, "failed")
        except NotFound:
            assert known is None
            return
        except Conflict:
            assert known is not None and known.status == "captured"
            return
        assert known is not None
        if known.status == "released":
            assert mv.replayed
            return
        assert known.status == "held" and mv.amount == known.amount
        known.status = "released"
        m.reserved -= known.amount
        m.available += known.amount

    @rule(job=st.sampled_from(JOBS), credits=st.integers(1, 60), refund_id=st.sampled_from(REFUNDS))
    def refund(self, job: str, credits: int, refund_id: str) -> None:
        m = self.model
        known = m.jobs.get(job)
        used = m.refunds.get(refund_id)
        try:
            mv = self.ledger.refund(self.user, job, credits, "customer complaint", refund_id)
        except NotFound:
            assert used is None and known is None
            return
        except Conflict:
            assert (used is not None and used != (job, credits)) or (
                used is None
                and (known is None or known.status != "captured" or credits > known.captured - known.refunded)
            )
            return
        if used is not None:
            assert used == (job, credits) and mv.replayed
            return
        assert known is not None and known.status == "captured"
        assert credits <= known.captured - known.refunded
        known.refunded += credits
        m.refunds[refund_id] = (job, credits)
        m.available += credits

    @rule(grant_id=st.sampled_from(GRANTS), credits=st.integers(1, 300))
    def grant(self, grant_id: str, credits: int) -> None:
        self._give(grant_id, credits, adjust=False)

    @rule(
        adjustment_id=st.sampled_from(ADJUSTMENTS),
        delta=st.integers(-300, 300).filter(lambda d: d != 0),
    )
    def adjust(self, adjustment_id: str, delta: int) -> None:
        self._give(adjustment_id, delta, adjust=True)

    def _give(self, ref: str, delta: int, *, adjust: bool) -> None:
        m = self.model
        key = f"{'adjust' if adjust else 'grant'}:{ref}"
        seen = m.gifts.get(key)
        try:
            if adjust:
                mv = self.ledger.adjust(self.user, ref, delta, "correction")
            else:
                mv = self.ledger.grant(self.user, ref, delta, "purchase")
        except Conflict:
            assert (seen is not None and seen != delta) or (seen is None and m.available + delta < 0)
            return
        if seen is not None:
            assert seen == delta and mv.replayed
            return
        m.gifts[key] = delta
        m.available += delta

    @rule(plan=st.sampled_from(PLANS))
    def set_plan(self, plan: str) -> None:
        assert self.ledger.set_plan(self.user, plan).plan == plan

    def teardown(self) -> None:
        # moto copies the whole table for every transaction: keep it small between examples
        with table(self.table_name).batch_writer() as batch:
            for item in partition(self.table_name, self.user):
                batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})

    @invariant()
    def books_balance(self) -> None:
        b = assert_books_balance(self.table_name, self.user)
        assert (b["available"], b["reserved"]) == (self.model.available, self.model.reserved)


def test_the_books_balance_after_every_step_of_random_sequences(deployed: Deployed) -> None:
    reset_clients()
    LedgerMachine.table_name = deployed.plan.physical["CreditsTable"]
    LedgerMachine.ledger = Ledger(LedgerMachine.table_name, clock=lambda: NOW)
    LedgerMachine.users = itertools.count()
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=50,
            stateful_step_count=16,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def test_the_books_check_catches_a_broken_balance(deployed: Deployed) -> None:
    """The checker itself can fail: a balance edited behind the ledger's back is caught."""
    reset_clients()
    name = deployed.plan.physical["CreditsTable"]
    ledger = Ledger(name, clock=lambda: NOW)
    ledger.reserve("mallory", "j1", 30, operation="generate")
    assert_books_balance(name, "mallory")
    table(name).update_item(
        Key={"pk": "USER#mallory", "sk": "BALANCE"},
        UpdateExpression="ADD available :n, granted :n",
        ExpressionAttributeValues={":n": 5},
    )
    with pytest.raises(AssertionError):
        assert_books_balance(name, "mallory")
