"""The one retry scaffold of the ledger: optimistic re-reads around DynamoDB transactions.

Two loops, kept here and nowhere else:
- `transact` runs one TransactWriteItems, retrying only what DynamoDB says is transient (throttling,
  transaction conflicts) and naming the items whose conditions failed as `Cancelled`;
- `retrying` runs a whole read-check-write attempt until it returns, re-running it (after a short
  random back-off) whenever it raises `Cancelled` or `Retry`; when attempts run out the caller gets
  a 409 asking to retry in a moment.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from imagestudio.errors import Conflict

T = TypeVar("T")

Op = tuple[str, dict[str, Any]]
"""A named TransactWriteItems operation: the name says which condition failed on a cancel."""

_RETRYABLE_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
_RETRYABLE_ERRORS = {
    "TransactionConflictException",
    "TransactionInProgressException",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
}
_TRANSACT_ATTEMPTS = 5


class Retry(Exception):
    """Read again and run the attempt once more (something changed under it)."""


class Cancelled(Retry):
    """A transaction was cancelled because these named items failed their conditions."""

    def __init__(self, failed: set[str]) -> None:
        super().__init__(", ".join(sorted(failed)))
        self.failed = failed


class Busy(Exception):
    """Optimistic retries ran out."""


def busy(user: str) -> Conflict:
    return Conflict(
        "The credits of this account are being changed by other requests right now; retry in a moment.",
        details={"user": user},
    )


@contextmanager
def busy_as_conflict(user: str) -> Iterator[None]:
    """Retries that ran out become the 409 a client can act on."""
    try:
        yield
    except Busy:
        raise busy(user) from None


def attempts(max_attempts: int) -> Iterator[int]:
    for attempt in range(max_attempts):
        if attempt:
            time.sleep(random.uniform(0, min(0.002 * attempt, 0.05)))
        yield attempt
    raise Busy


def retrying(user: str, max_attempts: int, attempt: Callable[[int], T]) -> T:
    """`attempt(n)` until it returns; `Retry` (or a cancelled transaction) runs it again."""
    with busy_as_conflict(user):
        for n in attempts(max_attempts):
            try:
                return attempt(n)
            except Retry:
                continue
    raise AssertionError("unreachable")  # pragma: no cover - attempts() raises Busy when done


def transact(client: Any, ops: list[Op]) -> None:
    """Run named operations as one transaction; raise Cancelled naming the failed conditions."""
    for n in range(_TRANSACT_ATTEMPTS):
        try:
            client.transact_write_items(TransactItems=[op for _, op in ops])
            return
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code == "TransactionCanceledException":
                reasons = err.response.get("CancellationReasons") or []
                failed = {
                    ops[i][0]
                    for i, r in enumerate(reasons)
                    if i < len(ops) and r.get("Code") == "ConditionalCheckFailed"
                }
                if failed:
                    raise Cancelled(failed) from None
                if not any(r.get("Code") in _RETRYABLE_REASONS for r in reasons):
                    raise
            elif code not in _RETRYABLE_ERRORS:
                raise
            if n == _TRANSACT_ATTEMPTS - 1:
                raise Busy from None
            time.sleep(random.uniform(0, 0.02 * 2**n))
