"""POST webhooks/{provider}: verified provider callbacks resume their jobs."""

from imagestudio.api.handler import http_handler
from imagestudio.api.webhooks_routes import router

lambda_handler = http_handler(router)
