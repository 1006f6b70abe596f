"""POST control."""

from imagestudio.api.control_routes import router
from imagestudio.api.handler import http_handler

lambda_handler = http_handler(router)
