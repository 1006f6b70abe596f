"""POST convert-format, with convert-format/supported and convert-format/recommendations."""

from imagestudio.api.handler import http_handler
from imagestudio.api.studio_routes import studio_routers
from imagestudio.operations.convert import SPEC

lambda_handler = http_handler(*studio_routers(SPEC))
