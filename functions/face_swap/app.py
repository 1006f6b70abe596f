"""POST face-swap/process, with face-swap/models and face-swap/recommend."""

from imagestudio.api.handler import http_handler
from imagestudio.api.studio_routes import studio_routers
from imagestudio.operations.faceswap import SPEC

lambda_handler = http_handler(*studio_routers(SPEC))
