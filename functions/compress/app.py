"""POST compress, with compress/formats, compress/presets and compress/estimate."""

from imagestudio.api.handler import http_handler
from imagestudio.api.studio_routes import studio_routers
from imagestudio.operations.compress import SPEC

lambda_handler = http_handler(*studio_routers(SPEC))
