"""Powertools Logger and Metrics, and our X-Ray tracer (`tracing.py`: spans without the X-Ray SDK), one
of each per function (service name from the environment)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

from imagestudio.config import environ
from imagestudio.tracing import Tracer


def logger() -> Logger:
    env = environ()
    return Logger(
        service=env.get("POWERTOOLS_SERVICE_NAME", "image-studio"), level=env.get("LOG_LEVEL", "INFO")
    )


def metrics() -> Metrics:
    env = environ()
    return Metrics(
        namespace=env.get("POWERTOOLS_METRICS_NAMESPACE", "ImageStudio"),
        service=env.get("POWERTOOLS_SERVICE_NAME", "image-studio"),
    )


def tracer() -> Tracer:
    """Traces each sampled invocation; POWERTOOLS_TRACE_DISABLED=true turns it off (read per invocation)."""
    return Tracer(service=environ().get("POWERTOOLS_SERVICE_NAME", "image-studio"))
