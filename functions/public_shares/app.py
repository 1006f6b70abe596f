"""The public view of a share link (no login)."""

from imagestudio.api.handler import http_handler
from imagestudio.api.shares_routes import public_router

lambda_handler = http_handler(public_router)
