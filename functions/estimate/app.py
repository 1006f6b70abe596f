"""POST estimate-cost (every operation the catalog prices) and POST edit/recommend."""

from imagestudio.api.catalog_routes import estimate_router
from imagestudio.api.handler import http_handler

lambda_handler = http_handler(estimate_router)
