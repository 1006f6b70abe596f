"""Who is calling: only ever from the authorizer's verified JWT claims, never from a body or a query."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from imagestudio.errors import Unauthorized

ADMIN_GROUP = "admin"


@dataclass(frozen=True)
class Caller:
    user_id: str
    groups: frozenset[str]
    client_id: str | None = None  # the app client the token was issued to (azp, or client_id)

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups


def _groups(raw: object) -> frozenset[str]:
    # API Gateway flattens array claims to a string like "[admin editors]".
    if isinstance(raw, list):
        return frozenset(str(g) for g in raw)
    if isinstance(raw, str):
        return frozenset(g for g in raw.strip("[]").replace(",", " ").split() if g)
    return frozenset()


def caller_from_event(event: APIGatewayProxyEventV2) -> Caller:
    authorizer = event.request_context.authorizer
    claims = (authorizer.jwt_claim if authorizer else None) or {}
    sub = claims.get("sub")
    if not sub:
        raise Unauthorized("No verified identity on this request: send 'Authorization: Bearer <token>'.")
    client = claims.get("azp") or claims.get("client_id")
    return Caller(
        user_id=str(sub),
        groups=_groups(claims.get("cognito:groups")),
        client_id=str(client) if client else None,
    )
