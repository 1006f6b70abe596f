"""Batches: submit (preview, run, schedule), monitor, pause, resume, cancel, CSV templates."""

from imagestudio.api.batches_routes import router
from imagestudio.api.handler import http_handler

lambda_handler = http_handler(router)
