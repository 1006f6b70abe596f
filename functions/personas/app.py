"""PUT/GET personas/{id}: brand personas for Create Studio."""

from imagestudio.api.create_routes import personas_router
from imagestudio.api.handler import http_handler

lambda_handler = http_handler(personas_router)
