"""Typed settings built from environment variables, once per function at cold start.

On AWS each function has its own process and environment. The offline stack runs every
function in one process, so it hands each invocation its own view of the variables through
`environment_view`; settings always read through `environ()`, never `os.environ` directly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_env_view: ContextVar[Mapping[str, str] | None] = ContextVar("imagestudio_env_view", default=None)


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


@dataclass(frozen=True)
class Settings:
    stage: str
    service: str
    jobs_table: str
    credits_table: str
    assets_table: str
    idempotency_table: str
    media_bucket: str
    provider_mode: str
    cors_origins: tuple[str, ...]
    provider_job_state_machine: str = ""
    poll_wait_scale: float = 1.0
    event_bus: str = ""
    callback_providers: tuple[str, ...] = ()
    callback_timeout_seconds: int = 900
    batch_state_machine: str = ""
    batch_distributed_state_machine: str = ""
    batch_topic: str = ""
    original_clients: tuple[str, ...] = ()  # token clients (azp/client_id) answered the original's shapes

    @classmethod
    def from_env(cls) -> Settings:
        env = environ()
        return cls(
            stage=env.get("STAGE", "dev"),
            service=env.get("POWERTOOLS_SERVICE_NAME", "image-studio"),
            jobs_table=env.get("JOBS_TABLE", ""),
            credits_table=env.get("CREDITS_TABLE", ""),
            assets_table=env.get("ASSETS_TABLE", ""),
            idempotency_table=env.get("IDEMPOTENCY_TABLE", ""),
            media_bucket=env.get("MEDIA_BUCKET", ""),
            provider_mode=env.get("PROVIDER_MODE", "local"),
            cors_origins=tuple(o for o in env.get("CORS_ORIGINS", "*").split(",") if o),
            provider_job_state_machine=env.get("PROVIDER_JOB_STATE_MACHINE", ""),
            poll_wait_scale=float(env.get("POLL_WAIT_SCALE", "1") or 1),
            event_bus=env.get("EVENT_BUS_NAME", ""),
            callback_providers=tuple(p for p in env.get("CALLBACK_PROVIDERS", "").split(",") if p),
            callback_timeout_seconds=int(env.get("CALLBACK_TIMEOUT_SECONDS", "900") or 900),
            batch_state_machine=env.get("BATCH_STATE_MACHINE", ""),
            batch_distributed_state_machine=env.get("BATCH_DISTRIBUTED_STATE_MACHINE", ""),
            batch_topic=env.get("BATCH_TOPIC_ARN", ""),
            original_clients=tuple(
                c.strip() for c in env.get("ORIGINAL_CLIENT_IDS", "").split(",") if c.strip()
            ),
        )
