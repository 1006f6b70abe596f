"""The non-HTTP counterpart of `http_handler`: logging, metrics and tracing around an event function
(S3 notifications, schedules, Step Functions tasks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from imagestudio import config, observability

EventFunction = Callable[[dict[str, Any], LambdaContext], Any]


def event_handler(fn: EventFunction) -> EventFunction:
    config.check_at_cold_start()  # a missing or invalid variable fails the cold start, named
    logger = observability.logger()
    metrics = observability.metrics()
    tracer = observability.tracer()

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True, raise_on_empty_metrics=False)
    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: LambdaContext) -> Any:
        result = fn(event, context)
        logger.info("done", extra={"result": result})
        return result

    return handler
