"""Typed settings from environment variables, validated at a function's cold start.

Every environment read of the domain goes through this module: `environ()` is the only place that
looks at the process environment, and the models below are the only readers of it. A variable the
template gives every function is required: missing or empty, the function fails at cold start with
a `ConfigError` naming it (and every other missing or invalid one), instead of with a confusing
error on the first request that needs it.

- `Settings`: everything a function needs (its tables, bucket, state machines, ...); it includes
- `ProviderSettings`: the provider mode, and (`KeySettings`) where each provider's API key lives,
- `LocalProviderSettings`: the offline provider's knobs (faults, polls, frame rate, ...),
- `ObservabilitySettings`: the Powertools service name, log level, metrics namespace, tracing;
  the sections are read on their own by code that needs only them (and by tests that set only them).

On AWS each function has its own process and environment. The offline stack runs every function in
one process, so it hands each invocation its own view of the variables through `environment_view`;
settings are read from the view of the running invocation, and cached per distinct environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

_env_view: ContextVar[Mapping[str, str] | None] = ContextVar("imagestudio_env_view", default=None)

API_KEY_SUFFIX = "_API_KEY_PARAMETER"


def environ() -> Mapping[str, str]:
    """The environment of the running function (a per-invocation view offline, os.environ on AWS)."""
    view = _env_view.get()
    return view if view is not None else os.environ


@contextmanager
def environment_view(variables: Mapping[str, str]) -> Iterator[None]:
    """Run a block with `variables` layered over the process environment (offline stack only)."""
    token = _env_view.set({**os.environ, **variables})
    try:
        yield
    finally:
        _env_view.reset(token)


class ConfigError(RuntimeError):
    """The function's environment is missing a variable or has one that is not valid."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        listed = "; ".join(f"{name}: {why}" for name, why in problems.items())
        super().__init__(f"The function's environment is not valid: {listed}")


def _words(value: Any) -> Any:
    """A comma-separated list ("a,b") as a tuple, blanks dropped."""
    if isinstance(value, str):
        return tuple(w.strip() for w in value.split(",") if w.strip())
    return value


Words = Annotated[tuple[str, ...], BeforeValidator(_words)]
Name = Annotated[str, Field(min_length=1), BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v)]


def _var(name: str, *, default: Any = ..., **rules: Any) -> Any:
    """A field read from the environment variable `name`."""
    return Field(default, validation_alias=AliasChoices(name), **rules)


class _FromEnv(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    # A blank variable counts as unset (the template passes an empty parameter as ""), except a list:
    # an empty list is a value.
    keep_blank: ClassVar[frozenset[str]] = frozenset({"CORS_ORIGINS", "CALLBACK_PROVIDERS"})

    @classmethod
    def variables(cls) -> frozenset[str]:
        names: set[str] = set()
        for field in cls.model_fields.values():
            alias = field.validation_alias
            if isinstance(alias, AliasChoices):
                names.update(str(a) for a in alias.choices)
        return frozenset(names)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """Read and check this model's variables from `env` (default: the running function's)."""
        env = environ() if env is None else env
        relevant = cls.variables()
        snapshot = tuple(
            sorted(
                (k, v)
                for k, v in env.items()
                if (k in relevant or k.endswith(API_KEY_SUFFIX)) and (v.strip() or k in cls.keep_blank)
            )
        )
        found: Self = _load(cls, snapshot)
        return found


@cache
def _load(model: type[_FromEnv], snapshot: tuple[tuple[str, str], ...]) -> Any:
    env = dict(snapshot)
    try:
        return model.model_validate(env)
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else model.__name__
            if error["type"] == "missing":
                problems[name] = "missing or empty"
            else:
                problems[name] = f"{error['msg']} (got {env.get(name, error.get('input'))!r})"
        raise ConfigError(problems) from None


class ObservabilitySettings(_FromEnv):
    service: str = _var("POWERTOOLS_SERVICE_NAME", default="image-studio")
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    ] = _var("LOG_LEVEL", default="INFO")
    metrics_namespace: str = _var("POWERTOOLS_METRICS_NAMESPACE", default="ImageStudio")
    # Powertools' own rule: "1" or "true" disables tracing, anything else leaves it on.
    trace_disabled: Annotated[
        bool, BeforeValidator(lambda v: v.strip().lower() in {"1", "true"} if isinstance(v, str) else v)
    ] = _var("POWERTOOLS_TRACE_DISABLED", default=False)
    metrics_disabled: Annotated[
        bool, BeforeValidator(lambda v: v.strip().lower() in {"1", "true"} if isinstance(v, str) else v)
    ] = _var("POWERTOOLS_METRICS_DISABLED", default=False)


class LocalProviderSettings(_FromEnv):
    """The offline provider's knobs (see providers/local/provider.py); unset means its default."""

    faults: str = _var("LOCAL_PROVIDER_FAULTS", default="")
    polls: float | None = _var("LOCAL_PROVIDER_POLLS", default=None, ge=0)
    poll_after: float | None = _var("LOCAL_PROVIDER_POLL_AFTER", default=None, ge=0)
    video_fps: float | None = _var("LOCAL_PROVIDER_VIDEO_FPS", default=None)
    max_frames: float | None = _var("LOCAL_PROVIDER_MAX_FRAMES", default=None)
    latency: float | None = _var("LOCAL_PROVIDER_LATENCY", default=None)


class KeySettings(_FromEnv):
    api_key_parameters: tuple[tuple[str, str], ...] = Field(
        (), description=f"Every *{API_KEY_SUFFIX} variable: where a provider's API key lives."
    )

    @model_validator(mode="before")
    @classmethod
    def _key_parameters(cls, env: Any) -> Any:
        if isinstance(env, dict) and "api_key_parameters" not in env:
            found = sorted((k, v.strip()) for k, v in env.items() if k.endswith(API_KEY_SUFFIX))
            env = {**env, "api_key_parameters": tuple(found)}
        return env

    def api_key_parameter(self, variable: str) -> str:
        """The SSM parameter or secret named by `variable` (e.g. STABILITY_API_KEY_PARAMETER); "" if unset."""
        return dict(self.api_key_parameters).get(variable, "")


class ProviderSettings(KeySettings):
    # Outside a function (scripts, tests) the safe default: the offline provider, never a paid one.
    # A function must say: `Settings` requires it.
    provider_mode: Literal["local", "live"] = _var("PROVIDER_MODE", default="local")


class Settings(ProviderSettings):
    """A function's settings. Required: what the template gives every function (Globals)."""

    provider_mode: Literal["local", "live"] = _var("PROVIDER_MODE")
    stage: Name = _var("STAGE")
    service: str = _var("POWERTOOLS_SERVICE_NAME", default="image-studio")
    jobs_table: Name = _var("JOBS_TABLE")
    credits_table: Name = _var("CREDITS_TABLE")
    assets_table: Name = _var("ASSETS_TABLE")
    idempotency_table: Name = _var("IDEMPOTENCY_TABLE")
    media_bucket: Name = _var("MEDIA_BUCKET")
    cors_origins: Words = _var("CORS_ORIGINS", default=("*",))
    poll_wait_scale: float = _var("POLL_WAIT_SCALE", default=1.0, ge=0)
    event_bus: str = _var("EVENT_BUS_NAME", default="")
    callback_providers: Words = _var("CALLBACK_PROVIDERS", default=())
    callback_timeout_seconds: int = _var("CALLBACK_TIMEOUT_SECONDS", default=900, gt=0)
    # Only the functions that start these get them (see template.yaml).
    provider_job_state_machine: str = _var("PROVIDER_JOB_STATE_MACHINE", default="")
    batch_state_machine: str = _var("BATCH_STATE_MACHINE", default="")
    batch_distributed_state_machine: str = _var("BATCH_DISTRIBUTED_STATE_MACHINE", default="")
    batch_topic: str = _var("BATCH_TOPIC_ARN", default="")
    # where providers call back in callback mode: the API's base URL (webhooks/{provider} under it)
    callback_base_url: Annotated[
        str, BeforeValidator(lambda v: v.strip().rstrip("/") if isinstance(v, str) else v)
    ] = _var("CALLBACK_BASE_URL", default="")
    dead_letter_queues: str = _var("DEAD_LETTER_QUEUES", default="")  # the re-drive function's queues
    # token clients (azp/client_id) answered the original Image Studio's shapes (api/original_answers.py)
    original_clients: Words = _var("ORIGINAL_CLIENT_IDS", default=())


def check_at_cold_start() -> Settings:
    """Validate every section of the running function's settings; raise ConfigError naming what is
    missing or invalid. Called when a function's module is imported (its cold start)."""
    problems: dict[str, str] = {}
    settings: Settings | None = None
    for section in (Settings, ObservabilitySettings, LocalProviderSettings):
        try:
            found = section.from_env()
        except ConfigError as exc:
            problems.update(exc.problems)
            continue
        if isinstance(found, Settings):
            settings = found
    if problems or settings is None:
        raise ConfigError(problems)
    return settings
