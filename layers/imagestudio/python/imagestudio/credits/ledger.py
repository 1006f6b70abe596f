"""The credits ledger on the Credits table: balances, reservations, movements and plan usage.

Every movement is ONE DynamoDB TransactWriteItems:
- the balance item, updated with a condition on the (available, reserved) pair it was computed from
  (so it never goes negative, and each ledger entry's `available_after` / `reserved_after` is exact);
- a movement guard `MOVE#{ref}#{kind}` put with attribute_not_exists (so a retry cannot move twice);
- the append-only ledger entry (or two: a capture that used less than it reserved also writes the
  release of the rest);
- the reservation and this period's usage counters where the movement touches them. Usage counters
  are incremented with conditions enforcing the plan's monthly limits, so concurrent requests cannot
  exceed them.

A cancelled transaction is mapped back to the condition that failed: a changed balance or usage
item is re-read and the movement retried (or refused with 402/429 if it no longer fits); a guard or
reservation that already exists turns the call into a no-op returning the first result.

The parts, each a layer on the one below it:
- store.py: item keys, reads, the write operations and item decoding (`LedgerStore`);
- retries.py: the one retry scaffold (transient transaction errors, optimistic re-reads, 409 busy);
- movements.py: the one place a ledger entry and its Movement are made, and movement-id replays;
- accounts.py: balances and the sign-up grant;
- usage.py: plan limits, usage views, preflight and the usage-counter writes;
- reservations.py: reserve, capture, release, expire, refund;
- grants.py: grants, adjustments and the monthly grant;
- queries.py: the ledger's entries, a page at a time.
"""

from __future__ import annotations

from imagestudio.credits.grants import Grants
from imagestudio.credits.queries import Queries
from imagestudio.credits.reservations import Reservations


class Ledger(Grants, Reservations, Queries):
    """Credits of every user in one Credits table (see docs/data-model.md for the items).

    `Ledger(table_name, *, clock=utc_now, catalog=None, max_attempts=40)`.
    """
