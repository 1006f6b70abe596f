"""POST uploads, GET uploads/{id}."""

from imagestudio.api.handler import http_handler
from imagestudio.api.uploads_routes import router

lambda_handler = http_handler(router)
