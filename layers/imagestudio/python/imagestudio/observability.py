"""Powertools Logger, Metrics and Tracer, one of each per function (service name from the environment)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

from imagestudio.config import environ


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
    env = environ()
    disabled = env.get("POWERTOOLS_TRACE_DISABLED", "").lower() in {"1", "true"}
    return Tracer(service=env.get("POWERTOOLS_SERVICE_NAME", "image-studio"), disabled=disabled)
