"""The credits ledger: reserve, capture, release, refunds, grants, plan limits and usage.

`Ledger` (ledger.py, put together from the modules it lists) keeps every user's balance and
append-only ledger in the Credits table; plan limits and usage views are pure functions in `plans`.
See docs/data-model.md for the items.
"""

from imagestudio.credits.ledger import Ledger
from imagestudio.credits.models import (
    Account,
    CounterUsage,
    LedgerEntry,
    Movement,
    MovementKind,
    Preflight,
    Reservation,
    ReservationStatus,
    Usage,
)

__all__ = [
    "Account",
    "CounterUsage",
    "Ledger",
    "LedgerEntry",
    "Movement",
    "MovementKind",
    "Preflight",
    "Reservation",
    "ReservationStatus",
    "Usage",
]
