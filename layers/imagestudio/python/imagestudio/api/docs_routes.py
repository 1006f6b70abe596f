"""The OpenAPI document of the whole API, generated from every router, and a Swagger UI."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from imagestudio import API_PREFIX, __version__
from imagestudio.api.resolver import API_DESCRIPTION, API_TITLE, SECURITY_SCHEMES

OPENAPI_PATH = f"{API_PREFIX}/openapi.json"
DOCS_PATH = f"{API_PREFIX}/docs"


def add_docs_routes(app: APIGatewayHttpResolver) -> None:
    """Serve the spec as JSON and the Swagger UI (assets bundled with Powertools, no CDN)."""
    app.enable_swagger(
        path=DOCS_PATH,
        title=API_TITLE,
        version=__version__,
        description=API_DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,
        security=[{"bearerAuth": []}],
        persist_authorization=True,
        compress=True,
    )

    spec: dict[str, Any] = {}  # the routes do not change in a warm container: build the document once

    @app.get(OPENAPI_PATH, include_in_schema=False)
    def openapi_json() -> dict[str, Any]:
        if not spec:
            spec.update(json.loads(app.get_openapi_json_schema()))
        return spec
