"""Powertools Logger, Metrics and Tracer, one of each per function (service name from the environment)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

from imagestudio.config import ObservabilitySettings


def logger() -> Logger:
    env = ObservabilitySettings.from_env()
    return Logger(service=env.service, level=env.log_level)


def metrics() -> Metrics:
    env = ObservabilitySettings.from_env()
    return Metrics(namespace=env.metrics_namespace, service=env.service)


def tracer() -> Tracer:
    env = ObservabilitySettings.from_env()
    return Tracer(service=env.service, disabled=env.trace_disabled)
