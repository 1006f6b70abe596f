"""POST social/optimize: Social Optimizer."""

from imagestudio.api.handler import http_handler
from imagestudio.api.social_routes import router

lambda_handler = http_handler(router)
