"""Settings: typed, read through the running function's view of the environment, and checked at cold
start so that a missing or invalid variable is named before any request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from imagestudio.config import (
    ConfigError,
    KeySettings,
    LocalProviderSettings,
    ObservabilitySettings,
    ProviderSettings,
    Settings,
    check_at_cold_start,
    environment_view,
)
from local.lambda_runtime import FunctionSpec, LocalLambdaRuntime

ROOT = Path(__file__).resolve().parents[2]

# What template.yaml's Globals give every function.
FUNCTION_ENV = {
    "STAGE": "test",
    "LOG_LEVEL": "INFO",
    "JOBS_TABLE": "jobs",
    "CREDITS_TABLE": "credits",
    "ASSETS_TABLE": "assets",
    "IDEMPOTENCY_TABLE": "idempotency",
    "MEDIA_BUCKET": "media",
    "PROVIDER_MODE": "local",
    "CORS_ORIGINS": "https://app.example.com,https://admin.example.com",
    "POLL_WAIT_SCALE": "0.5",
    "EVENT_BUS_NAME": "bus",
    "CALLBACK_PROVIDERS": "",
    "STABILITY_API_KEY_PARAMETER": "ssm:/image-studio/test/stability-api-key",
}
REQUIRED = (
    "PROVIDER_MODE",
    "STAGE",
    "JOBS_TABLE",
    "CREDITS_TABLE",
    "ASSETS_TABLE",
    "IDEMPOTENCY_TABLE",
    "MEDIA_BUCKET",
)


@pytest.fixture(autouse=True)
def no_function_variables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test process's own environment must not fill in what a function's view leaves out."""
    for name in (*FUNCTION_ENV, "PROVIDER_JOB_STATE_MACHINE", "CALLBACK_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    yield


def without(*names: str, **changes: str) -> dict[str, str]:
    return {**{k: v for k, v in FUNCTION_ENV.items() if k not in names}, **changes}


def test_settings_are_typed_from_the_functions_variables() -> None:
    with environment_view(FUNCTION_ENV):
        settings = Settings.from_env()
    assert settings.jobs_table == "jobs" and settings.media_bucket == "media"
    assert settings.cors_origins == ("https://app.example.com", "https://admin.example.com")
    assert settings.poll_wait_scale == 0.5
    assert settings.callback_providers == ()  # an empty template parameter is an empty list
    assert settings.callback_timeout_seconds == 900  # unset: the default
    assert settings.provider_job_state_machine == ""  # only the functions that start jobs get it
    assert settings.api_key_parameter("STABILITY_API_KEY_PARAMETER").endswith("/stability-api-key")
    assert settings.api_key_parameter("GEMINI_API_KEY_PARAMETER") == ""


@pytest.mark.parametrize("name", REQUIRED)
def test_a_missing_or_empty_required_variable_is_named(name: str) -> None:
    for env in (without(name), without(**{name: "  "})):
        with environment_view(env), pytest.raises(ConfigError) as caught:
            Settings.from_env()
        assert caught.value.problems == {name: "missing or empty"}
        assert name in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PROVIDER_MODE", "remote"),
        ("POLL_WAIT_SCALE", "fast"),
        ("POLL_WAIT_SCALE", "-1"),
        ("CALLBACK_TIMEOUT_SECONDS", "0"),
        ("LOG_LEVEL", "chatty"),
        ("LOCAL_PROVIDER_POLLS", "three"),
    ],
)
def test_an_invalid_value_is_named_with_what_was_given(name: str, value: str) -> None:
    with environment_view(without(**{name: value})), pytest.raises(ConfigError) as caught:
        check_at_cold_start()
    assert set(caught.value.problems) == {name}
    assert repr(value) in caught.value.problems[name]


def test_the_cold_start_check_lists_every_problem_at_once() -> None:
    with (
        environment_view(without("JOBS_TABLE", "MEDIA_BUCKET", LOG_LEVEL="loud")),
        pytest.raises(ConfigError) as caught,
    ):
        check_at_cold_start()
    assert set(caught.value.problems) == {"JOBS_TABLE", "MEDIA_BUCKET", "LOG_LEVEL"}


def test_each_function_reads_its_own_view() -> None:
    with environment_view(without(PROVIDER_JOB_STATE_MACHINE="arn:aws:states:::machine/provider-job")):
        starts_jobs = Settings.from_env()
    with environment_view(FUNCTION_ENV):
        plain = Settings.from_env()
    assert starts_jobs.provider_job_state_machine.endswith("provider-job")
    assert plain.provider_job_state_machine == ""
    with environment_view(without(JOBS_TABLE="other-jobs")):
        assert Settings.from_env().jobs_table == "other-jobs"  # read again when the view changes


def test_sections_need_only_their_own_variables() -> None:
    with environment_view({"PROVIDER_MODE": "live", "WAVESPEED_API_KEY_PARAMETER": "/is/ws"}):
        assert ProviderSettings.from_env().provider_mode == "live"
        assert KeySettings.from_env().api_key_parameter("WAVESPEED_API_KEY_PARAMETER") == "/is/ws"
        observed = ObservabilitySettings.from_env()
        local = LocalProviderSettings.from_env()
    assert (observed.service, observed.log_level, observed.trace_disabled) == ("image-studio", "INFO", False)
    assert local.faults == "" and local.polls is None
    with environment_view({}):  # outside a function: offline, never a paid provider
        assert ProviderSettings.from_env().provider_mode == "local"
    with environment_view({"POWERTOOLS_TRACE_DISABLED": "TRUE", "LOG_LEVEL": "debug"}):
        observed = ObservabilitySettings.from_env()
    assert (observed.log_level, observed.trace_disabled) == ("DEBUG", True)


def test_a_function_missing_a_variable_fails_its_cold_start_naming_it() -> None:
    runtime = LocalLambdaRuntime([])

    def spec(name: str, environment: dict[str, str]) -> FunctionSpec:
        return FunctionSpec(
            logical_id=name,
            name=name,
            arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
            code_dir=ROOT / "functions" / "health",
            handler="app.lambda_handler",
            environment=environment,
        )

    runtime.register(spec("HealthMissingBucket", without("MEDIA_BUCKET")))
    runtime.register(spec("Health", FUNCTION_ENV))
    event = {
        "version": "2.0",
        "routeKey": "GET /api/image-studio/health",
        "rawPath": "/api/image-studio/health",
        "rawQueryString": "",
        "headers": {},
        "requestContext": {
            "http": {"method": "GET", "path": "/api/image-studio/health"},
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    failed = runtime.invoke("HealthMissingBucket", event)
    assert failed.error and failed.payload["errorType"] == "ConfigError"
    assert "MEDIA_BUCKET: missing or empty" in failed.payload["errorMessage"]
    served = runtime.invoke("Health", event)
    assert not served.error and served.payload["statusCode"] == 200, served.payload
