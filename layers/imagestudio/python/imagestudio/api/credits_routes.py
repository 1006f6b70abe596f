"""GET credits (plan, balance, usage this period), GET credits/ledger, POST credits/grants (admins)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from imagestudio import API_PREFIX
from imagestudio.api.context import caller, ports
from imagestudio.api.idempotency import HEADER, run_idempotent
from imagestudio.catalog import get_catalog
from imagestudio.credits.models import LedgerEntry, Movement, Usage
from imagestudio.errors import Forbidden
from imagestudio.ids import new_id
from imagestudio.models.requests import RequestModel

router = Router()


class CreditsView(BaseModel):
    plan: str
    available: int
    reserved: int
    monthly_grant_credits: int
    usd_per_credit: str = "0.01"
    usage: Usage


class LedgerPage(BaseModel):
    entries: list[LedgerEntry]
    next_cursor: str | None


class GrantRequest(RequestModel):
    user_id: str = Field(min_length=1, max_length=128)
    credits: int = Field(ge=1, le=10_000_000)
    reason: str = Field(min_length=3, max_length=200)
    grant_id: str | None = Field(
        None, max_length=64, description="Makes the grant exactly-once; a new id is made when absent."
    )


@router.get(
    f"{API_PREFIX}/credits",
    summary="Your plan, balance and usage this period",
    description="A new user is opened on the Free plan with its monthly grant. Usage counters carry a "
    "warning flag from 80% of a plan limit.",
    tags=["Credits"],
)
def get_credits() -> CreditsView:
    ledger = ports().ledger
    user = caller(router).user_id
    account = ledger.account(user)
    return CreditsView(
        plan=account.plan,
        available=account.available,
        reserved=account.reserved,
        monthly_grant_credits=get_catalog().plan(account.plan).monthly_grant_credits,
        usage=ledger.usage(user),
    )


@router.get(f"{API_PREFIX}/credits/ledger", summary="Your ledger, newest first", tags=["Credits"])
def get_ledger(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=2048, description="next_cursor of the previous page")
    ] = None,
) -> LedgerPage:
    ledger = ports().ledger
    user = caller(router).user_id
    ledger.account(user)
    entries, next_cursor = ledger.entries(user, limit=limit, cursor=cursor)
    return LedgerPage(entries=entries, next_cursor=next_cursor)


@router.post(
    f"{API_PREFIX}/credits/grants",
    summary="Grant credits to a user (admins only)",
    description="Requires the 'admin' group in the token. Exactly once per grant_id; "
    "accepts an Idempotency-Key.",
    tags=["Credits"],
)
def grant_credits(request: GrantRequest) -> Movement:
    who = caller(router)
    if not who.is_admin:
        raise Forbidden("Granting credits needs the 'admin' group in your token.")
    grant_id = request.grant_id or new_id("grant-")

    def run() -> dict[str, object]:
        ledger = ports().ledger
        ledger.account(request.user_id)
        movement = ledger.grant(
            request.user_id, grant_id, request.credits, f"admin {who.user_id}: {request.reason}"
        )
        return movement.model_dump(mode="json")

    key = router.current_event.headers.get(HEADER)
    body = request.model_dump(mode="json")
    return Movement.model_validate(
        run_idempotent(
            key, user=who.user_id, scope="grants", body=body, run=run, context=router.lambda_context
        )
    )
