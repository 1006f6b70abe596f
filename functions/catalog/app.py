"""Read-only catalog: templates, search and recommend, providers, platform specs, formats, edit models."""

from imagestudio.api.catalog_routes import catalog_router
from imagestudio.api.handler import http_handler

lambda_handler = http_handler(catalog_router)
