"""Every router of the API, so the docs function can publish one OpenAPI document for all of them.

A new area adds its router here (an operation with a `route` on its spec is added by itself); tests check
that template.yaml routes and these routers agree.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from imagestudio.api import (
    assets_routes,
    batches_routes,
    collections_routes,
    control_routes,
    create_routes,
    credits_routes,
    edit_routes,
    jobs_routes,
    shares_routes,
    social_routes,
    transform_routes,
    uploads_routes,
    upscale_routes,
    webhooks_routes,
)
from imagestudio.api.catalog_routes import catalog_router, estimate_router
from imagestudio.api.health_routes import router as health_router
from imagestudio.api.studio_routes import registered_routers

ALL_ROUTERS: tuple[Router, ...] = (
    health_router,
    catalog_router,
    estimate_router,
    jobs_routes.router,
    credits_routes.router,
    assets_routes.router,
    collections_routes.router,
    batches_routes.router,
    shares_routes.router,
    shares_routes.public_router,
    uploads_routes.router,
    create_routes.router,
    create_routes.personas_router,
    transform_routes.router,
    webhooks_routes.router,
    social_routes.router,
    edit_routes.router,
    upscale_routes.router,
    control_routes.router,
    *registered_routers(),
)
