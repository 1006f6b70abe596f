"""GET jobs, GET jobs/{id}, DELETE jobs/{id}."""

from imagestudio.api.handler import http_handler
from imagestudio.api.jobs_routes import router

lambda_handler = http_handler(router)
