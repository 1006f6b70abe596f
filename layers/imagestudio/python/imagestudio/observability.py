"""Powertools Logger, Metrics and Tracer, one of each per function (service name from the environment)."""

from __future__ import annotations

import json
import time

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


def emit(name: str, value: float, unit: str = "Count", **dimensions: str) -> None:
    """One metric with its own dimensions (provider, status), written now as an EMF line: CloudWatch
    turns it into a metric under POWERTOOLS_METRICS_NAMESPACE with dimensions service + `dimensions`
    (the alarms and the dashboard in template.yaml read these). Off where metrics are disabled."""
    env = environ()
    if env.get("POWERTOOLS_METRICS_DISABLED", "").lower() in {"1", "true"}:
        return
    service = env.get("POWERTOOLS_SERVICE_NAME", "image-studio")
    record = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": env.get("POWERTOOLS_METRICS_NAMESPACE", "ImageStudio"),
                    "Dimensions": [["service", *dimensions]],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }
            ],
        },
        "service": service,
        **dimensions,
        name: value,
    }
    print(json.dumps(record, separators=(",", ":")), flush=True)
