"""POST transform/image-to-video, talking-avatar, image-to-3d (202 + job) and transform/estimate-cost."""

from imagestudio.api.handler import http_handler
from imagestudio.api.transform_routes import router

lambda_handler = http_handler(router)
