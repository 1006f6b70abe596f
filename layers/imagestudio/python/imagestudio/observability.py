"""Powertools Logger and Metrics, and our X-Ray tracer (`tracing.py`: spans without the X-Ray SDK), one
of each per function (service name from the environment)."""

from __future__ import annotations

import json
import time

from aws_lambda_powertools import Logger, Metrics

from imagestudio.config import ObservabilitySettings
from imagestudio.tracing import Tracer


def logger() -> Logger:
    env = ObservabilitySettings.from_env()
    return Logger(service=env.service, level=env.log_level)


def metrics() -> Metrics:
    env = ObservabilitySettings.from_env()
    return Metrics(namespace=env.metrics_namespace, service=env.service)


def tracer() -> Tracer:
    """Traces each sampled invocation; POWERTOOLS_TRACE_DISABLED=true turns it off (read per invocation)."""
    return Tracer(service=ObservabilitySettings.from_env().service)


def emit(name: str, value: float, unit: str = "Count", **dimensions: str) -> None:
    """One metric with its own dimensions (provider, status), written now as an EMF line: CloudWatch
    turns it into a metric under POWERTOOLS_METRICS_NAMESPACE with dimensions service + `dimensions`
    (the alarms and the dashboard in template.yaml read these). Off where metrics are disabled."""
    env = ObservabilitySettings.from_env()
    if env.metrics_disabled:
        return
    record = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": env.metrics_namespace,
                    "Dimensions": [["service", *dimensions]],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }
            ],
        },
        "service": env.service,
        **dimensions,
        name: value,
    }
    print(json.dumps(record, separators=(",", ":")), flush=True)
