"""GET openapi.json and the Swagger UI: the spec is generated from every router of the API."""

from imagestudio.api.docs_routes import add_docs_routes
from imagestudio.api.handler import http_handler
from imagestudio.api.routers import ALL_ROUTERS

lambda_handler = http_handler(*ALL_ROUTERS, configure=add_docs_routes)
