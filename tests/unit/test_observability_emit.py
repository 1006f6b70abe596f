"""imagestudio.observability.emit: one EMF line CloudWatch turns into a metric with its dimensions."""

from __future__ import annotations

import json

import pytest

from imagestudio.config import environment_view
from imagestudio.observability import emit


def test_a_metric_with_its_own_dimensions_is_one_emf_line(capsys: pytest.CaptureFixture[str]) -> None:
    env = {"POWERTOOLS_METRICS_DISABLED": "false", "POWERTOOLS_METRICS_NAMESPACE": "ImageStudio"}
    with environment_view(env):
        emit("ProviderLatency", 812.5, "Milliseconds", provider="stability")
    record = json.loads(capsys.readouterr().out)
    [directive] = record["_aws"]["CloudWatchMetrics"]
    assert directive == {
        "Namespace": "ImageStudio",
        "Dimensions": [["service", "provider"]],
        "Metrics": [{"Name": "ProviderLatency", "Unit": "Milliseconds"}],
    }
    assert (record["service"], record["provider"], record["ProviderLatency"]) == (
        "image-studio",
        "stability",
        812.5,
    )


def test_nothing_is_written_where_metrics_are_off(capsys: pytest.CaptureFixture[str]) -> None:
    with environment_view({"POWERTOOLS_METRICS_DISABLED": "true"}):
        emit("JobsEnded", 1, status="failed")
    assert capsys.readouterr().out == ""
