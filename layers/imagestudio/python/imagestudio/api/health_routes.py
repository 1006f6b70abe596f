"""GET /health: liveness, version and configuration a client can check without a token."""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel

from imagestudio import API_PREFIX, __version__
from imagestudio.api.resolver import PUBLIC_ROUTE
from imagestudio.config import Settings

router = Router()


class Health(BaseModel):
    status: str
    service: str
    version: str
    stage: str
    provider_mode: str
    time: datetime


@router.get(
    f"{API_PREFIX}/health",
    summary="Liveness and version (no authentication)",
    tags=["health"],
    openapi_extensions=PUBLIC_ROUTE,
)
def health() -> Health:
    settings = Settings.from_env()
    return Health(
        status="ok",
        service=settings.service,
        version=__version__,
        stage=settings.stage,
        provider_mode=settings.provider_mode,
        time=datetime.now(UTC),
    )
