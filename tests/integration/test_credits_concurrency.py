"""Concurrent requests cannot overspend a balance or exceed a plan limit (moto, decorator mode, threads).

moto 5.2 does not make a DynamoDB request atomic under threads: `transact_write_items` checks
conditions item by item, snapshots the table with deepcopy and on a cancelled transaction restores
its snapshot over whatever other threads wrote meanwhile. Run bare, 20 threads see
"dictionary changed size during iteration", committed reservations vanish, and 11-12 of 20
reservations "succeed" against 95 credits. Real DynamoDB serialises each request (a transaction is
all-or-nothing and isolated), so the `atomic_requests` fixture gives moto exactly that guarantee: one
lock around each DynamoDB request. Requests of different threads still interleave freely between
the ledger's reads and its conditional writes, which is the race these tests are about.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from imagestudio.credits import Ledger
from imagestudio.errors import DomainError, InsufficientCredits, PlanLimitExceeded
from imagestudio.store.dynamo import reset_clients
from tests.conftest import Deployed
from tests.integration.test_ledger_invariant import assert_books_balance

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def atomic_requests() -> None:
    """Each moto DynamoDB request runs alone, as each request does on DynamoDB (see the module doc)."""
    from local import moto_atomic

    moto_atomic.install()


@pytest.fixture
def ledger(deployed: Deployed, atomic_requests: None) -> Ledger:
    reset_clients()
    return Ledger(deployed.plan.physical["CreditsTable"], clock=lambda: NOW)


def race(n: int, call: Callable[[int], object]) -> tuple[list[object], list[BaseException]]:
    """Run call(0..n-1) in n threads released together; (results, errors).

    The interpreter switches threads every few microseconds meanwhile (instead of every 5 ms), so
    threads interleave between a request's read and its conditional write as they would on Lambda.
    """
    barrier = threading.Barrier(n)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            out = call(i)
        except BaseException as err:
            with lock:
                errors.append(err)
        else:
            with lock:
                results.append(out)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    return results, errors


def test_twenty_reservations_of_10_against_95_exactly_nine_succeed(ledger: Ledger) -> None:
    user = "racer"
    ledger.set_plan(user, "enterprise")  # no count limit in the way: only the balance decides
    ledger.adjust(user, "setup", 95 - 200, "test setup")
    assert ledger.account(user).available == 95

    results, errors = race(20, lambda i: ledger.reserve(user, f"job-{i}", 10, operation="generate"))

    assert len(results) == 9, errors
    assert len(errors) == 11 and all(isinstance(e, InsufficientCredits) for e in errors), errors
    account = ledger.account(user)
    assert (account.available, account.reserved) == (5, 90)
    assert ledger.usage(user).credits.used == 90
    assert_books_balance(ledger.table_name, user)


def test_concurrent_requests_cannot_exceed_a_plan_count(ledger: Ledger) -> None:
    user = "burst"
    # Free plan: 10 images a month. The offline model costs 0 credits, so the balance does not move
    # and only the usage counter's condition stands between 16 requests and the limit.
    results, errors = race(16, lambda i: ledger.reserve(user, f"job-{i}", 0, operation="generate"))

    assert len(results) == 10, errors
    assert all(isinstance(e, PlanLimitExceeded) for e in errors), errors
    assert ledger.usage(user).buckets["images"].used == 10
    assert_books_balance(ledger.table_name, user)


def test_concurrent_settlements_of_one_job_move_credits_once(ledger: Ledger) -> None:
    user = "settler"
    ledger.reserve(user, "job-1", 40, operation="generate")

    def settle(i: int) -> object:
        return ledger.capture(user, "job-1", 25) if i % 2 else ledger.release(user, "job-1", "failed")

    results, errors = race(12, settle)

    assert all(isinstance(e, DomainError) and e.status == 409 for e in errors), errors
    kinds = {getattr(r, "kind", None) for r in results}
    assert len(kinds) == 1  # all captures or all releases, whichever came first
    account = ledger.account(user)
    assert account.available == (175 if kinds == {"capture"} else 200)
    assert_books_balance(ledger.table_name, user)
