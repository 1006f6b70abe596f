"""The one way an HTTP function is put together: logger, metrics, tracer, resolver, handler.

A function's app.py names its routers and calls `http_handler`; nothing else is repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from imagestudio import config, observability
from imagestudio.api.resolver import build_resolver, refuse_without_subject

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def http_handler(
    *routers: Router, configure: Callable[[APIGatewayHttpResolver], None] | None = None
) -> Handler:
    config.check_at_cold_start()  # a missing or invalid variable fails the cold start, named
    logger = observability.logger()
    metrics = observability.metrics()
    tracer = observability.tracer()
    app = build_resolver(*routers, logger=logger)
    if configure is not None:
        configure(app)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @metrics.log_metrics(capture_cold_start_metric=True)
    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        response = refuse_without_subject(event) or app.resolve(event, context)
        status = int(response.get("statusCode", 500))
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        if status >= 500:
            metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)
        elif status >= 400:
            metrics.add_metric(name="ClientErrors", unit=MetricUnit.Count, value=1)
        return response

    return handler


def deferred_http_handler(
    routers: Callable[[], Sequence[Router]], configure: Callable[[APIGatewayHttpResolver], None] | None = None
) -> Handler:
    """`http_handler` whose routers are imported by the first invocation, not at cold start. For the
    API-docs function: its routers are every route of the API, and the document generated from them is
    the first request's work anyway (its first call pays the import; later ones are served warm)."""
    built: list[Handler] = []

    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if not built:
            built.append(http_handler(*routers(), configure=configure))
        return built[0](event, context)

    return handler
