"""Collections and campaigns: CRUD, add and remove assets."""

from imagestudio.api.collections_routes import router
from imagestudio.api.handler import http_handler

lambda_handler = http_handler(router)
