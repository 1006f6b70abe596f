"""POST upscale."""

from imagestudio.api.handler import http_handler
from imagestudio.api.upscale_routes import router

lambda_handler = http_handler(router)
