"""GET assets/{id}, DELETE assets/{id}."""

from imagestudio.api.assets_routes import router
from imagestudio.api.handler import http_handler

lambda_handler = http_handler(router)
