"""GET /api/image-studio/health (no authentication)."""

from imagestudio.api.handler import http_handler
from imagestudio.api.health_routes import router

lambda_handler = http_handler(router)
