"""Share links of the caller: create, list, revoke."""

from imagestudio.api.handler import http_handler
from imagestudio.api.shares_routes import router

lambda_handler = http_handler(router)
