"""GET openapi.json and the Swagger UI: the spec is generated from every router of the API.

Every router means every operation module: they are imported by the first request, not at cold start.
"""

from collections.abc import Sequence

from aws_lambda_powertools.event_handler.api_gateway import Router

from imagestudio.api.docs_routes import add_docs_routes
from imagestudio.api.handler import deferred_http_handler


def _routers() -> Sequence[Router]:
    from imagestudio.api.routers import ALL_ROUTERS

    return ALL_ROUTERS


lambda_handler = deferred_http_handler(_routers, configure=add_docs_routes)
