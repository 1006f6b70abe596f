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
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, OpenAPI, Schema

from imagestudio import __version__
from imagestudio.errors import DomainError, error_body

API_TITLE = "Image Studio Serverless API"
API_DESCRIPTION = (
    "AI image studio for marketers: generate, edit, upscale, restyle, transform and organise images, "
    "paid in credits (1 credit = US$0.01). Authenticate with a JWT bearer token."
)
SECURITY_SCHEMES: dict[str, Any] = {"bearerAuth": HTTPBearer(bearerFormat="JWT")}

# Every error body (imagestudio.errors.error_body). Powertools documents its own 422 body (FastAPI's
# `{"detail": [ValidationError]}`) under this name; the document must describe the body we send.
ERROR_SCHEMA_NAME = "HTTPValidationError"
ERROR_BODY_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Machine-readable, e.g. invalid_input, not_found."},
                "message": {"type": "string", "description": "What was wrong and how to fix it."},
                "details": {
                    "description": "Where: for invalid input a list of {in, field, message}; else an object."
                },
            },
        },
        "detail": {
            "type": "string",
            "description": "The same message: what the original Image Studio front end shows.",
        },
    },
}


class _Resolver(APIGatewayHttpResolver):
    """Our resolver: the OpenAPI document describes our error body, not Powertools' default one."""

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        schema = super().get_openapi_schema(**kwargs)
        schemas = schema.components.schemas if schema.components is not None else None
        if schemas is not None and ERROR_SCHEMA_NAME in schemas:
            schemas[ERROR_SCHEMA_NAME] = Schema.model_validate(ERROR_BODY_SCHEMA)
            schemas.pop("ValidationError", None)
        return schema


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
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        problems.append({"in": where, "field": field, "message": message})
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    return f"The request is not valid. Fix these fields: {summary}.", problems


def build_resolver(*routers: Router, logger: Logger | None = None) -> APIGatewayHttpResolver:
    app = _Resolver(enable_validation=True)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(DomainError)
    def _domain_error(err: DomainError) -> Response:
        return _json(err.status, err.to_body())

    @app.exception_handler(RequestValidationError)
    def _validation_error(err: RequestValidationError) -> Response:
        message, problems = _describe_validation(list(err.errors()))
        return _json(422, error_body("invalid_input", message, problems))

    @app.not_found
    def _not_found(err: NotFoundError) -> Response:
        event = app.current_event
        message = f"No route {event.http_method} {event.path}. See /api/image-studio/docs."
        return _json(404, error_body("route_not_found", message))

    @app.exception_handler(Exception)
    def _unexpected(err: Exception) -> Response:
        request_id = app.lambda_context.aws_request_id if app.lambda_context else "unknown"
        if logger is not None:
            logger.exception("unhandled error")
        message = f"Something went wrong on our side. Quote request id {request_id}."
        return _json(500, error_body("internal_error", message))

    app.configure_openapi(
        title=API_TITLE,
        version=__version__,
        description=API_DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,
        security=[{"bearerAuth": []}],
    )
    return app
