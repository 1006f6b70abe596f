"""The credits ledger on the template's Credits table (moto): each movement, its idempotency, its errors."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key

from imagestudio.credits import Ledger
from imagestudio.errors import Conflict, InsufficientCredits, InvalidInput, NotFound, PlanLimitExceeded
from imagestudio.store.dynamo import reset_clients, table
from tests.conftest import Deployed
from tests.integration.test_ledger_invariant import assert_books_balance, partition


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 6, 15, 12, 0, tzinfo=UTC))


@pytest.fixture
def table_name(deployed: Deployed) -> str:
    reset_clients()
    return deployed.plan.physical["CreditsTable"]


@pytest.fixture
def ledger(table_name: str, clock: Clock) -> Ledger:
    return Ledger(table_name, clock=clock)


def kinds(ledger: Ledger, user: str) -> list[tuple[str, int]]:
    entries, _ = ledger.entries(user, limit=100)
    return [(e.kind, e.amount) for e in reversed(entries)]


def items(table_name: str, user: str, prefix: str) -> list[dict[str, Any]]:
    return [i for i in partition(table_name, user) if i["sk"].startswith(prefix)]


def with_available(ledger: Ledger, user: str, credits: int) -> None:
    """A user whose available balance is exactly `credits` (starting from the 200 sign-up credits)."""
    delta = credits - ledger.account(user).available
    if delta:
        ledger.adjust(user, f"setup-{user}", delta, "test setup")
    assert ledger.account(user).available == credits


# --- accounts ----------------------------------------------------------------------------------


def test_a_new_user_starts_on_free_with_one_signup_grant(ledger: Ledger, table_name: str) -> None:
    account = ledger.account("alice")
    assert (account.plan, account.available, account.reserved, account.granted) == ("free", 200, 0, 200)
    assert ledger.account("alice").available == 200
    assert kinds(ledger, "alice") == [("grant", 200)]
    balance = items(table_name, "alice", "BALANCE")[0]
    assert (balance["gsi1pk"], balance["gsi1sk"]) == ("PLAN#free", "USER#alice")
    assert_books_balance(table_name, "alice")


def test_concurrent_first_calls_open_one_account_with_one_grant(ledger: Ledger, table_name: str) -> None:
    barrier = threading.Barrier(8)
    seen: list[int] = []

    def first_call() -> None:
        barrier.wait()
        seen.append(ledger.account("bob").available)

    threads = [threading.Thread(target=first_call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [200] * 8
    assert kinds(ledger, "bob") == [("grant", 200)]
    assert_books_balance(table_name, "bob")


def test_preflight_writes_nothing(ledger: Ledger, table_name: str) -> None:
    check = ledger.preflight("carol", 30, operation="generate", count=2)
    assert (check.available, check.available_after, check.bucket) == (200, 170, "images")
    assert check.projected.buckets["images"].used == 2
    assert partition(table_name, "carol") == []


# --- reserve -----------------------------------------------------------------------------------


def test_reserve_holds_credits_and_counts_usage(ledger: Ledger, table_name: str) -> None:
    res = ledger.reserve("alice", "job-1", 30, operation="generate", count=3, wavespeed_calls=3)
    assert (res.status, res.amount, res.usage, res.period) == (
        "held",
        30,
        {"images": 3, "wavespeed_calls": 3},
        "2025-06",
    )
    account = ledger.account("alice")
    assert (account.available, account.reserved) == (170, 30)
    usage = ledger.usage("alice")
    assert (usage.buckets["images"].used, usage.buckets["wavespeed_calls"].used, usage.credits.used) == (
        3,
        3,
        30,
    )
    usage_item = items(table_name, "alice", "USAGE#2025-06")[0]
    assert int(usage_item["expires_at"]) == int(datetime(2026, 7, 1, tzinfo=UTC).timestamp())
    assert_books_balance(table_name, "alice")


def test_reserve_repeated_is_a_no_op_and_another_amount_is_a_conflict(
    ledger: Ledger, table_name: str
) -> None:
    first = ledger.reserve("alice", "job-1", 30, operation="generate")
    again = ledger.reserve("alice", "job-1", 30, operation="generate")
    assert again.replayed and not first.replayed and again.created_at == first.created_at
    with pytest.raises(Conflict) as err:
        ledger.reserve("alice", "job-1", 40, operation="generate")
    assert err.value.status == 409 and "30" in err.value.message
    assert ledger.account("alice").available == 170
    assert ledger.usage("alice").buckets["images"].used == 1
    assert kinds(ledger, "alice") == [("grant", 200), ("reserve", 30)]
    assert_books_balance(table_name, "alice")


def test_insufficient_credits_is_402_saying_what_is_needed_and_left(ledger: Ledger, table_name: str) -> None:
    with_available(ledger, "dave", 42)
    ledger.reserve("dave", "job-1", 30, operation="generate")
    with pytest.raises(InsufficientCredits) as err:
        ledger.reserve("dave", "job-2", 30, operation="generate", count=2, variations=2)
    body = err.value.to_body()["error"]
    assert err.value.status == 402 and body["code"] == "insufficient_credits"
    assert "needs 30 credits and 12 are available" in body["message"]
    assert "buy credits" in body["message"] and "num_variations" in body["message"]
    details = body["details"]
    assert (details["needed"], details["available"], details["reserved"], details["shortfall"]) == (
        30,
        12,
        30,
        18,
    )
    assert details["asked"] == {"operation": "generate", "credits": 30, "count": 2, "variations": 2}
    assert details["usage"]["buckets"]["images"] == {
        "used": 1,
        "limit": 10,
        "remaining": 9,
        "fraction": 0.1,
        "warning": False,
    }
    with pytest.raises(NotFound):
        ledger.reservation("dave", "job-2")
    assert ledger.usage("dave").buckets["images"].used == 1  # the refused request counted nothing
    with pytest.raises(InsufficientCredits):
        ledger.preflight("dave", 30, operation="generate")
    assert_books_balance(table_name, "dave")


def test_plan_count_limit_is_429_with_remaining_and_usage(ledger: Ledger, table_name: str) -> None:
    ledger.grant("erin", "topup", 1000, "purchase")
    ledger.reserve("erin", "job-1", 5, operation="generate", count=9)
    with pytest.raises(PlanLimitExceeded) as err:
        ledger.reserve("erin", "job-2", 5, operation="generate", count=2)
    body = err.value.to_body()["error"]
    assert err.value.status == 429 and body["code"] == "plan_limit_exceeded"
    assert "allows 10 images per month: 9 used, 1 left, this request needs 2" in body["message"]
    assert "upgrade to the basic plan" in body["message"]
    d = body["details"]
    assert (d["limit"], d["used"], d["limit_value"], d["remaining"], d["needed"]) == ("images", 9, 10, 1, 2)
    assert d["available_credits"] == 1195 and d["upgrade_to"] == "basic"
    assert d["usage"]["buckets"]["images"]["fraction"] == 0.9 and d["usage"]["buckets"]["images"]["warning"]
    assert d["resets_at"] == "2025-07-01T00:00:00Z"
    with pytest.raises(NotFound):
        ledger.reservation("erin", "job-2")
    ledger.reserve("erin", "job-3", 5, operation="generate", count=1)  # the last one fits
    ledger.reserve("erin", "job-4", 5, operation="edit", count=5)  # edits are another bucket
    assert_books_balance(table_name, "erin")


def test_monthly_cost_cap_and_wavespeed_calls_are_limits(ledger: Ledger, table_name: str) -> None:
    ledger.grant("fay", "topup", 5000, "purchase")
    ledger.reserve("fay", "job-1", 150, operation="generate")
    with pytest.raises(PlanLimitExceeded) as err:
        ledger.reserve("fay", "job-2", 60, operation="generate")
    d = err.value.details
    assert (d["limit"], d["used"], d["limit_value"], d["remaining"]) == ("credits", 150, 200, 50)
    assert "caps spending at 200 credits (US$2.00) per month" in err.value.message

    ledger.set_plan("fay", "basic")
    ledger.reserve("fay", "job-3", 10, operation="generate", wavespeed_calls=199)
    with pytest.raises(PlanLimitExceeded) as err:
        ledger.reserve("fay", "job-4", 10, operation="generate", wavespeed_calls=2)
    assert err.value.details["limit"] == "wavespeed_calls" and err.value.details["remaining"] == 1
    assert "WaveSpeed calls" in err.value.message and "upgrade to the pro plan" in err.value.message
    assert_books_balance(table_name, "fay")


def test_free_plan_asking_premium_is_429_naming_the_allowed_tiers(table_name: str, clock: Clock) -> None:
    from imagestudio.catalog.loader import load_catalog, read_data_files

    # A catalog whose Free plan has two tiers and 2 variations (the shipped Free plan has all of them).
    files = read_data_files()
    free = next(p for p in files["plans.json"]["plans"] if p["id"] == "free")
    free.update(quality_tiers=["draft", "standard"], max_variations=2)
    ledger = Ledger(table_name, clock=clock, catalog=load_catalog(files))
    with pytest.raises(PlanLimitExceeded) as err:
        ledger.reserve("gus", "job-1", 10, operation="generate", quality="premium")
    assert "allows quality draft, standard" in err.value.message and "basic" in err.value.message
    d = err.value.details
    assert d["allowed_quality_tiers"] == ["draft", "standard"] and d["upgrade_to"] == "basic"
    assert d["available_credits"] == 200 and d["usage"]["buckets"]["images"]["remaining"] == 10
    with pytest.raises(PlanLimitExceeded) as err:
        ledger.reserve("gus", "job-1", 10, operation="generate", model="ideogram-v3-turbo")
    assert err.value.details["limit"] == "model_tier"
    with pytest.raises(PlanLimitExceeded) as err:
        ledger.reserve("gus", "job-1", 10, operation="generate", count=3, variations=3)
    assert "at most 2 variations" in err.value.message and err.value.details["max_variations"] == 2
    with pytest.raises(InvalidInput):
        ledger.reserve("gus", "job-1", 10, operation="generate", quality="ultra")
    assert ledger.account("gus").available == 200 and kinds(ledger, "gus") == [("grant", 200)]
    ledger.set_plan("gus", "basic")
    ledger.reserve("gus", "job-1", 10, operation="generate", quality="premium", model="ideogram-v3-turbo")


def test_usage_warns_at_80_percent(ledger: Ledger) -> None:
    ledger.reserve("hal", "job-1", 10, operation="generate", count=7)
    check = ledger.preflight("hal", 10, operation="generate", count=1)
    assert not check.usage.buckets["images"].warning
    assert check.projected.buckets["images"].warning and check.projected.buckets["images"].fraction == 0.8
    assert check.warnings == ["8 of 10 images used this month (80%)."]
    ledger.reserve("hal", "job-2", 10, operation="generate")
    usage = ledger.usage("hal")
    assert usage.buckets["images"].warning and usage.warnings == ["8 of 10 images used this month (80%)."]
    assert not usage.buckets["edits"].warning and usage.buckets["wavespeed_calls"].limit is None


# --- capture, release, refund ------------------------------------------------------------------


def test_capture_charges_the_actual_cost_and_returns_the_rest(ledger: Ledger, table_name: str) -> None:
    ledger.reserve("alice", "job-1", 30, operation="generate")
    mv = ledger.capture("alice", "job-1", 22)
    assert (mv.amount, mv.returned, mv.available_after, mv.reserved_after) == (22, 8, 178, 0)
    again = ledger.capture("alice", "job-1", 5)
    assert again.replayed and (again.amount, again.returned, again.entry_id) == (22, 8, mv.entry_id)
    account = ledger.account("alice")
    assert (account.available, account.reserved, account.captured) == (178, 0, 22)
    assert ledger.usage("alice").credits.used == 22
    assert kinds(ledger, "alice") == [("grant", 200), ("reserve", 30), ("capture", 22), ("release", 8)]
    assert ledger.reservation("alice", "job-1").status == "captured"
    assert_books_balance(table_name, "alice")


def test_capture_above_the_reservation_charges_only_what_was_reserved(
    ledger: Ledger, table_name: str
) -> None:
    with_available(ledger, "ivy", 30)
    ledger.reserve("ivy", "job-1", 30, operation="generate")
    mv = ledger.capture("ivy", "job-1", 45)
    assert (mv.amount, mv.returned) == (30, 0)
    assert "actual cost 45 credits exceeded the 30 reserved" in mv.reason
    assert ledger.account("ivy").available == 0
    entries, _ = ledger.entries("ivy", limit=1)
    assert entries[0].kind == "capture" and "exceeded" in entries[0].reason
    assert_books_balance(table_name, "ivy")


def test_release_returns_everything_and_undoes_the_counters(ledger: Ledger, table_name: str) -> None:
    ledger.reserve("alice", "job-1", 30, operation="image-to-video", count=1, wavespeed_calls=1)
    mv = ledger.release("alice", "job-1", "provider failed")
    assert (mv.amount, mv.available_after, mv.reserved_after) == (30, 200, 0)
    assert ledger.release("alice", "job-1", "again").replayed
    usage = ledger.usage("alice")
    assert (usage.buckets["videos"].used, usage.buckets["wavespeed_calls"].used, usage.credits.used) == (
        0,
        0,
        0,
    )
    assert kinds(ledger, "alice") == [("grant", 200), ("reserve", 30), ("release", 30)]
    assert ledger.expire("alice", "job-1").replayed
    assert_books_balance(table_name, "alice")


def test_capture_after_release_and_release_after_capture_conflict(ledger: Ledger, table_name: str) -> None:
    ledger.reserve("alice", "job-1", 30, operation="generate")
    ledger.expire("alice", "job-1")
    with pytest.raises(Conflict) as err:
        ledger.capture("alice", "job-1", 30)
    assert "released" in err.value.message and ledger.account("alice").available == 200
    ledger.reserve("alice", "job-2", 30, operation="generate")
    ledger.capture("alice", "job-2", 30)
    with pytest.raises(Conflict) as err:
        ledger.release("alice", "job-2", "too late")
    assert "refund" in err.value.message
    with pytest.raises(NotFound):
        ledger.capture("alice", "job-404", 1)
    assert_books_balance(table_name, "alice")


def test_a_release_next_month_undoes_the_counters_of_the_reservations_month(
    ledger: Ledger, clock: Clock, table_name: str
) -> None:
    ledger.reserve("alice", "job-1", 30, operation="generate", count=2)
    clock.now += timedelta(days=20)  # July
    assert ledger.usage("alice").period == "2025-07"
    ledger.release("alice", "job-1", "deadline passed")
    assert ledger.usage("alice", "2025-06").buckets["images"].used == 0
    assert ledger.usage("alice", "2025-07").buckets["images"].used == 0
    assert_books_balance(table_name, "alice")


def test_refunds_never_exceed_the_charge_and_happen_once_per_id(ledger: Ledger, table_name: str) -> None:
    ledger.reserve("alice", "job-1", 30, operation="generate")
    with pytest.raises(Conflict):
        ledger.refund("alice", "job-1", 5, "early", "rf-0")  # not charged yet
    ledger.capture("alice", "job-1", 25)
    first = ledger.refund("alice", "job-1", 10, "blurry result", "rf-1")
    assert first.available_after == 185
    assert ledger.refund("alice", "job-1", 10, "blurry result", "rf-1").replayed
    with pytest.raises(Conflict):
        ledger.refund("alice", "job-1", 11, "blurry result", "rf-1")  # same id, other amount
    with pytest.raises(Conflict) as err:
        ledger.refund("alice", "job-1", 16, "more", "rf-2")
    assert err.value.details["refundable"] == 15
    ledger.refund("alice", "job-1", 15, "the rest", "rf-3")
    account = ledger.account("alice")
    assert (account.available, account.captured, account.refunded) == (200, 25, 25)
    assert ledger.reservation("alice", "job-1").refunded_amount == 25
    assert_books_balance(table_name, "alice")


# --- grants, adjustments, plans ----------------------------------------------------------------


def test_grant_and_adjust_are_exactly_once(ledger: Ledger, table_name: str) -> None:
    assert ledger.grant("alice", "order-1", 500, "purchase").available_after == 700
    assert ledger.grant("alice", "order-1", 500, "purchase").replayed
    with pytest.raises(Conflict):
        ledger.grant("alice", "order-1", 600, "purchase")
    down = ledger.adjust("alice", "adj-1", -650, "chargeback")
    assert (down.amount, down.available_after) == (-650, 50)
    assert ledger.adjust("alice", "adj-1", -650, "chargeback").replayed
    with pytest.raises(Conflict) as err:
        ledger.adjust("alice", "adj-2", -51, "too much")
    assert "below 0" in err.value.message
    entries, _ = ledger.entries("alice", limit=1)
    assert (entries[0].kind, entries[0].amount, entries[0].direction, entries[0].total_delta) == (
        "adjust",
        650,
        "down",
        -650,
    )
    assert ledger.account("alice").available == 50
    with pytest.raises(InvalidInput):
        ledger.grant("alice", "order-2", 0, "nothing")
    assert_books_balance(table_name, "alice")


def test_set_plan_moves_the_user_between_plan_indexes(ledger: Ledger, table_name: str) -> None:
    assert ledger.set_plan("alice", "pro").plan == "pro"
    balance = items(table_name, "alice", "BALANCE")[0]
    assert balance["gsi1pk"] == "PLAN#pro"
    assert ledger.usage("alice").buckets["images"].limit == 100
    with pytest.raises(InvalidInput):
        ledger.set_plan("alice", "platinum")


def test_monthly_grant_twice_grants_once(ledger: Ledger, table_name: str) -> None:
    users = {"u1": "free", "u2": "free", "u3": "basic", "u4": "pro", "u5": "enterprise"}
    for user, plan in users.items():
        ledger.set_plan(user, plan)
    assert ledger.monthly_grant("2025-07", page_size=2) == 5
    assert ledger.monthly_grant("2025-07", page_size=2) == 0
    expected = {"free": 400, "basic": 2700, "pro": 10200, "enterprise": 50200}
    for user, plan in users.items():
        assert ledger.account(user).available == expected[plan]
        assert_books_balance(table_name, user)
    assert ledger.monthly_grant("2025-08") == 5
    with pytest.raises(InvalidInput):
        ledger.monthly_grant("2025-13")


# --- reading the ledger ------------------------------------------------------------------------


def test_ledger_pages_newest_first_with_a_cursor(ledger: Ledger, table_name: str) -> None:
    for i in range(4):
        ledger.reserve("alice", f"job-{i}", 10 + i, operation="generate")
    ledger.capture("alice", "job-0", 10)
    ledger.release("alice", "job-1", "failed")
    everything: list[Any] = []
    cursor = None
    pages = 0
    while True:
        page, cursor = ledger.entries("alice", limit=3, cursor=cursor)
        everything += page
        pages += 1
        if cursor is None:
            break
    assert pages == 3 and len(everything) == 7
    assert [e.kind for e in everything] == [
        "release",
        "capture",
        "reserve",
        "reserve",
        "reserve",
        "reserve",
        "grant",
    ]
    assert [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)
    raw = table(table_name).query(
        KeyConditionExpression=Key("pk").eq("USER#alice") & Key("sk").begins_with("LEDGER#")
    )
    assert len(raw["Items"]) == 7


def test_a_cursor_of_another_user_is_refused(ledger: Ledger) -> None:
    ledger.reserve("alice", "job-1", 10, operation="generate")
    ledger.reserve("mallory", "job-1", 10, operation="generate")
    _, alice_cursor = ledger.entries("alice", limit=1)
    assert alice_cursor is not None
    with pytest.raises(InvalidInput):
        ledger.entries("mallory", limit=1, cursor=alice_cursor)
    with pytest.raises(InvalidInput):
        ledger.entries("alice", limit=1, cursor="not-a-cursor")
    with pytest.raises(InvalidInput):
        ledger.entries("alice", limit=0)
