"""One place that turns routers into a Powertools HTTP API resolver and maps errors to HTTP.

Every function builds its resolver here, so error bodies, validation and OpenAPI metadata are
the same everywhere, and the API-docs function can include every router to publish one spec.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from imagestudio import __version__
from imagestudio.errors import DomainError

API_TITLE = "Image Studio Serverless API"
API_DESCRIPTION = (
    "AI image studio for marketers: generate, edit, upscale, restyle, transform and organise images, "
    "paid in credits (1 credit = US$0.01). Authenticate with a JWT bearer token."
)
# As plain data: Powertools validates it into its OpenAPI models only when a document is generated (the
# API-docs function), so other functions do not import those models at cold start.
SECURITY_SCHEMES: dict[str, Any] = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _describe_validation(errors: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    problems = []
    for err in errors:
        if err.get("type") == "json_invalid":
            problems.append({"in": "body", "field": "body", "message": "the body is not valid JSON"})
            continue
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else "request"
        field = ".".join(loc[1:]) if len(loc) > 1 else where
        problems.append({"in": where, "field": field, "message": err.get("msg", "invalid value")})
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    return f"The request is not valid. Fix these fields: {summary}.", problems


def build_resolver(*routers: Router, logger: Logger | None = None) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(DomainError)
    def _domain_error(err: DomainError) -> Response:
        return _json(err.status, err.to_body())

    @app.exception_handler(RequestValidationError)
    def _validation_error(err: RequestValidationError) -> Response:
        message, problems = _describe_validation(list(err.errors()))
        return _json(422, {"error": {"code": "invalid_input", "message": message, "details": problems}})

    @app.not_found
    def _not_found(err: NotFoundError) -> Response:
        event = app.current_event
        return _json(
            404,
            {
                "error": {
                    "code": "route_not_found",
                    "message": f"No route {event.http_method} {event.path}. See /api/image-studio/docs.",
                }
            },
        )

    @app.exception_handler(Exception)
    def _unexpected(err: Exception) -> Response:
        request_id = app.lambda_context.aws_request_id if app.lambda_context else "unknown"
        if logger is not None:
            logger.exception("unhandled error")
        return _json(
            500,
            {
                "error": {
                    "code": "internal_error",
                    "message": f"Something went wrong on our side. Quote request id {request_id}.",
                }
            },
        )

    app.configure_openapi(
        title=API_TITLE,
        version=__version__,
        description=API_DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,
        security=[{"bearerAuth": []}],
    )
    return app
