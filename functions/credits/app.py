"""GET credits, GET credits/ledger, POST credits/grants (admin)."""

from imagestudio.api.credits_routes import router
from imagestudio.api.handler import http_handler

lambda_handler = http_handler(router)
