"""What the ledger answers: balances, reservations, movements, ledger entries and usage views.

Credits are integers (1 credit = US$0.01). Times are ISO 8601 UTC strings.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

MovementKind = Literal["grant", "reserve", "capture", "release", "refund", "adjust"]
ReservationStatus = Literal["held", "captured", "released"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Account(_Model):
    """A user's balance. Always: granted - captured + refunded == available + reserved."""

    user: str
    plan: str
    available: int = Field(description="Credits that can be reserved now.")
    reserved: int = Field(description="Credits held by running jobs.")
    granted: int = Field(description="Lifetime credits granted, plus net admin adjustments.")
    captured: int = Field(description="Lifetime credits charged for finished jobs.")
    refunded: int = Field(description="Lifetime credits given back after a charge.")
    created_at: str
    updated_at: str


class Reservation(_Model):
    """Credits held for one job, from reserve until capture or release."""

    user: str
    job_id: str
    amount: int
    status: ReservationStatus
    captured_amount: int = 0
    refunded_amount: int = 0
    operation: str
    period: str = Field(description="The usage period (YYYY-MM) the job was counted in.")
    usage: dict[str, int] = Field(description="Usage counters this job added: bucket -> count.")
    created_at: str
    settled_at: str | None = None
    replayed: bool = Field(
        False, description="True when this call repeated an earlier one and changed nothing."
    )


class Movement(_Model):
    """The result of a capture, release, refund, grant or adjustment (a repeat returns the first result)."""

    user: str
    kind: MovementKind
    ref: str = Field(description="The job, grant, refund or adjustment id the movement belongs to.")
    amount: int = Field(
        description="Credits moved: granted, charged, released or refunded; signed for adjust."
    )
    returned: int = Field(0, description="capture only: reserved credits given back to available.")
    entry_id: str
    reason: str
    available_after: int
    reserved_after: int
    created_at: str
    replayed: bool = False


class LedgerEntry(_Model):
    """One append-only line of the ledger."""

    id: str
    kind: MovementKind
    amount: int = Field(ge=0)
    direction: Literal["up", "down"] | None = Field(None, description="adjust only: added or removed.")
    ref: str
    reason: str
    available_after: int
    reserved_after: int
    created_at: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_delta(self) -> int:
        """The change to available + reserved: grant/refund +, capture -, adjust +/-, reserve/release 0."""
        if self.kind in ("grant", "refund"):
            return self.amount
        if self.kind == "capture":
            return -self.amount
        if self.kind == "adjust":
            return self.amount if self.direction == "up" else -self.amount
        return 0


class CounterUsage(_Model):
    """One plan counter this period. `limit` None means unlimited."""

    used: int
    limit: int | None
    remaining: int | None
    fraction: float | None = Field(description="used / limit (None when unlimited).")
    warning: bool = Field(description="True when the fraction reaches the plan's warning level (80%).")


class Usage(_Model):
    """A user's plan usage in one period (calendar month, UTC)."""

    user: str
    plan: str
    period: str
    resets_at: str
    buckets: dict[str, CounterUsage] = Field(description="images, edits, videos, wavespeed_calls.")
    credits: CounterUsage = Field(description="Credits reserved or captured this period vs the monthly cap.")
    warnings: list[str] = []


class Preflight(_Model):
    """What a request would do to the user's credits and usage, checked without writing anything."""

    user: str
    plan: str
    credits: int
    operation: str
    bucket: str
    count: int
    available: int
    available_after: int
    usage: Usage
    projected: Usage = Field(description="The usage if this request goes ahead.")
    warnings: list[str] = []
