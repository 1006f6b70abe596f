"""One place that turns routers into a Powertools HTTP API resolver and maps errors to HTTP.

Every function builds its resolver here, so error bodies, validation and OpenAPI metadata are
the same everywhere, and the API-docs function can include every router to publish one spec.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

import pydantic
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseProxyEvent, Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

from imagestudio import __version__
from imagestudio.errors import DomainError, InvalidInput, error_body

API_TITLE = "Image Studio Serverless API"
API_DESCRIPTION = (
    "AI image studio for marketers: generate, edit, upscale, restyle, transform and organise images, "
    "paid in credits (1 credit = US$0.01). Authenticate with a JWT bearer token."
)
# As plain data: Powertools validates it into its OpenAPI models only when a document is generated (the
# API-docs function), so other functions do not import those models at cold start.
SECURITY_SCHEMES: dict[str, Any] = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}

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


# JSON deeper than this is refused before any handler sees it (DynamoDB itself stops at 32 levels).
MAX_JSON_DEPTH = 32


def _error(status: int, code: str, message: str, details: Any = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=error_body(code, message, details),
    )


# Routes with no authorizer in template.yaml (health, public share views, provider webhooks) pass this
# as `openapi_extensions`: the OpenAPI document then gives them `security: []` (Powertools drops an
# empty `security` list, so the global bearerAuth would otherwise claim them).
PUBLIC_ROUTE: dict[str, Any] = {"x-public": True}
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def openapi_with_public_routes(schema: Any) -> Any:
    """`schema` (Powertools' OpenAPI model) with `security: []` on every operation marked PUBLIC_ROUTE."""
    for item in (schema.paths or {}).values():
        for method in _METHODS:
            operation = getattr(item, method, None)
            if operation is None:
                continue
            extensions = {**(operation.model_extra or {}), **(operation.openapi_extensions or {})}
            if extensions.get("x-public"):
                operation.security = []
    return schema


def _check_json(value: Any) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH, and strings holding an unpaired UTF-16 surrogate
    (a "\\ud800" escape: valid JSON, but no UTF-8 can store it). Iterative: no recursion limit."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInput(
                    "The body holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff): send text.",
                    details={"field": "body"},
                ) from None
        elif isinstance(item, dict | list):
            if level > MAX_JSON_DEPTH:
                raise _too_deep()
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)


def _too_deep() -> InvalidInput:
    return InvalidInput(
        f"The JSON body nests lists or objects more than {MAX_JSON_DEPTH} levels deep: flatten it.",
        details={"field": "body", "max_depth": MAX_JSON_DEPTH},
    )


def parse_json_body(text: str) -> Any:
    """The request body as JSON; too deep or not storable as UTF-8 is a 422, never a crash."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise _too_deep() from None
    _check_json(value)
    return value


class HttpApiEvent(APIGatewayProxyEventV2):
    """A payload v2 event whose body, base64 or not, must be UTF-8 text: a 422 naming the byte if not."""

    @property
    def decoded_body(self) -> str | None:
        body = self.body
        if not body or not self.is_base64_encoded:
            return body
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("The request body is not valid base64.", details={"field": "body"}) from None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"The request body is not valid UTF-8 (byte {exc.start}): send JSON encoded as UTF-8.",
                details={"field": "body", "byte_offset": exc.start},
            ) from None


class JsonBodyValidation(OpenAPIRequestValidationMiddleware):
    """Request validation that takes JSON bodies only: a form or multipart body (which Powertools would
    otherwise try to parse, and fail on without a boundary) is a 415 like any other type."""

    def _get_body(self, app: Any) -> dict[str, Any]:
        content_type = app.current_event.headers.get("content-type", "").strip().lower()
        if content_type and not content_type.startswith(content_types.APPLICATION_JSON):
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[{"type": "unsupported_content_type", "loc": ("body",), "msg": content_type}],
            )
        body: dict[str, Any] = super()._get_body(app)
        return body


class HttpApiResolver(APIGatewayHttpResolver):
    """Our resolver: JSON bodies only, UTF-8 checked, and an OpenAPI document that describes our error
    body (not Powertools' default one) and says `security: []` on the public routes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._request_validation_middleware = JsonBodyValidation()

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        from aws_lambda_powertools.event_handler.openapi.models import Schema  # only the docs need it

        schema = super().get_openapi_schema(**kwargs)
        schemas = schema.components.schemas if schema.components is not None else None
        if schemas is not None and ERROR_SCHEMA_NAME in schemas:
            schemas[ERROR_SCHEMA_NAME] = Schema.model_validate(ERROR_BODY_SCHEMA)
            schemas.pop("ValidationError", None)
        result: OpenAPI = openapi_with_public_routes(schema)
        return result

    def _to_proxy_event(self, event: dict) -> BaseProxyEvent:
        return HttpApiEvent(event, self._json_body_deserializer)


def _describe_validation(errors: list[Any], *, where: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    problems = []
    for err in errors:
        if err.get("type") == "json_invalid":
            problems.append({"in": "body", "field": "body", "message": "the body is not valid JSON"})
            continue
        loc = [str(p) for p in err.get("loc", ())]
        if where is not None:
            loc = [where, *loc]
        where = loc[0] if loc else "request"
        field = ".".join(loc[1:]) if len(loc) > 1 else where
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        problems.append({"in": where, "field": field, "message": message})
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    return f"The request is not valid. Fix these fields: {summary}.", problems


def refuse_without_subject(event: dict[str, Any]) -> dict[str, Any] | None:
    """A 401 answer (payload v2) for a token the authorizer passed that names no subject (`sub`): every
    record is keyed by its owner, so a request with no one behind it goes no further. None otherwise
    (including public routes, which carry no authorizer context)."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    jwt = authorizer.get("jwt")
    if jwt is None:
        return None
    sub = (jwt.get("claims") or {}).get("sub")
    if isinstance(sub, str) and sub.strip():
        return None
    body = error_body(
        "unauthorized", "The token names no subject ('sub' claim): sign in again for a new token."
    )
    return {
        "statusCode": 401,
        "headers": {
            "Content-Type": content_types.APPLICATION_JSON,
            "WWW-Authenticate": 'Bearer error="invalid_token"',
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def build_resolver(*routers: Router, logger: Logger | None = None) -> APIGatewayHttpResolver:
    app = HttpApiResolver(enable_validation=True, json_body_deserializer=parse_json_body)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(DomainError)
    def _domain_error(err: DomainError) -> Response:
        return _error(err.status, err.code, err.message, err.details)

    @app.exception_handler(RequestValidationError)
    def _validation_error(err: RequestValidationError) -> Response:
        message, problems = _describe_validation(list(err.errors()))
        return _error(422, "invalid_input", message, problems)

    @app.exception_handler(pydantic.ValidationError)
    def _model_validation_error(err: pydantic.ValidationError) -> Response:
        # Request bodies that a route validates itself (a model picked by a field of the body) fail here.
        message, problems = _describe_validation(list(err.errors()), where="body")
        return _error(422, "invalid_input", message, problems)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_type(err: RequestUnsupportedContentType) -> Response:
        sent = app.current_event.headers.get("content-type", "")
        return _error(
            415,
            "unsupported_media_type",
            f"The body's content type '{sent[:100]}' is not accepted: send JSON with "
            "'Content-Type: application/json'.",
            {"field": "content-type", "value": sent[:100], "accepted": [content_types.APPLICATION_JSON]},
        )

    @app.not_found
    def _not_found(err: NotFoundError) -> Response:
        event = app.current_event
        return _error(
            404, "route_not_found", f"No route {event.http_method} {event.path}. See /api/image-studio/docs."
        )

    @app.exception_handler(Exception)
    def _unexpected(err: Exception) -> Response:
        request_id = app.lambda_context.aws_request_id if app.lambda_context else "unknown"
        if logger is not None:
            logger.exception("unhandled error")
        return _error(
            500, "internal_error", f"Something went wrong on our side. Quote request id {request_id}."
        )

    app.configure_openapi(
        title=API_TITLE,
        version=__version__,
        description=API_DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,
        security=[{"bearerAuth": []}],
    )
    return app
