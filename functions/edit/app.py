"""POST edit/process."""

from imagestudio.api.edit_routes import router
from imagestudio.api.handler import http_handler

lambda_handler = http_handler(router)
