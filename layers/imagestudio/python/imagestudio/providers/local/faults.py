"""Fault switches: make the offline provider fail the ways real providers do, to test retries,
fallbacks and the job state machine.

Syntax (the `LOCAL_PROVIDER_FAULTS` environment variable, `Faults.parse`, or `Faults("...")`): rules
separated by commas, each `[scope:]...kind[*count]`:

- kind: `outage` (503), `429` (rate limited, retry_after 1 s), `500`, `timeout` - each raises
  ProviderUnavailable with details {"status", "fault", "retryable": True}; `moderation` raises
  ContentRejected (status 403); `fail_job` makes an asynchronous job end Failed; `never_finish` keeps
  it Running forever; `async` / `sync` force a capability to answer Submitted / Succeeded.
  Aliases: 503, unavailable -> outage; rate_limit, quota -> 429; 5xx, error -> 500; 504 -> timeout;
  403, nsfw, content -> moderation; fail -> fail_job; hang, stuck -> never_finish.
- scopes (all must match): a provider name the instance answers to ("wavespeed", "local"), a
  capability ("text-to-image" or "generate", "edit", "upscale", "control", "image-to-video" or
  "video", "talking-avatar" or "avatar", "image-to-3d" or "3d"), an operation (an edit operation such
  as "inpaint", an upscale mode, a control operation) or "poll" (polling a job).
  Without a scope a rule applies to every call, polls included.
- `*count`: the rule fires on the first `count` matching calls only, then the call goes through
  (e.g. `429*2`: two rate limits, then success - what a retry loop needs).

Examples: `outage`, `wavespeed:outage`, `edit:inpaint:500*1`, `video:fail_job`, `poll:timeout*2`.
Faults built from the environment are cached per spec string, so counts carry across provider
instances in one process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from imagestudio.config import LocalProviderSettings
from imagestudio.errors import ContentRejected
from imagestudio.providers.base import ProviderUnavailable

ENV_VAR: Final = "LOCAL_PROVIDER_FAULTS"

KINDS: Final = ("outage", "429", "500", "timeout", "moderation", "fail_job", "never_finish", "async", "sync")
CALL_KINDS: Final = ("moderation", "outage", "429", "500", "timeout")  # checked in this order
ALIASES: Final[dict[str, str]] = {
    "503": "outage",
    "unavailable": "outage",
    "rate_limit": "429",
    "ratelimit": "429",
    "quota": "429",
    "5xx": "500",
    "error": "500",
    "504": "timeout",
    "403": "moderation",
    "nsfw": "moderation",
    "content": "moderation",
    "fail": "fail_job",
    "failed": "fail_job",
    "hang": "never_finish",
    "stuck": "never_finish",
}
SCOPE_ALIASES: Final[dict[str, str]] = {
    "generate": "text-to-image",
    "t2i": "text-to-image",
    "video": "image-to-video",
    "avatar": "talking-avatar",
    "3d": "image-to-3d",
}
STATUS: Final[dict[str, int]] = {"outage": 503, "429": 429, "500": 500, "timeout": 504, "moderation": 403}


@dataclass
class FaultRule:
    kind: str
    scopes: tuple[str, ...] = ()
    count: int | None = None  # None: every matching call
    fired: int = field(default=0, compare=False)

    @classmethod
    def parse(cls, text: str) -> FaultRule:
        parts = [p.strip().lower() for p in text.strip().split(":")]
        if not parts or not parts[-1]:
            raise ValueError(f"empty fault rule in '{text}'")
        last, count = parts[-1], None
        if "*" in last:
            last, _, times = last.partition("*")
            if not times.isdigit() or int(times) < 1:
                raise ValueError(f"fault rule '{text}': the count after '*' must be a positive integer")
            count = int(times)
        kind = ALIASES.get(last, last)
        if kind not in KINDS:
            raise ValueError(
                f"unknown fault '{last}' in '{text}'. Valid faults: {', '.join(KINDS)}"
                f" (or aliases {', '.join(ALIASES)})."
            )
        scopes = tuple(SCOPE_ALIASES.get(s, s) for s in parts[:-1] if s)
        return cls(kind=kind, scopes=scopes, count=count)

    def matches(self, context: frozenset[str]) -> bool:
        return all(scope in context for scope in self.scopes)

    def __str__(self) -> str:
        times = f"*{self.count}" if self.count is not None else ""
        return ":".join((*self.scopes, self.kind)) + times


class Faults:
    """A set of fault rules; `Faults()` has none."""

    def __init__(self, *rules: FaultRule | str) -> None:
        parsed: list[FaultRule] = []
        for rule in rules:
            if isinstance(rule, FaultRule):
                parsed.append(rule)
            else:
                parsed.extend(FaultRule.parse(item) for item in rule.split(",") if item.strip())
        self.rules = tuple(parsed)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        return cls(spec or "")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Faults:
        spec = LocalProviderSettings.from_env(environ).faults
        with _CACHE_LOCK:
            found = _FROM_ENV.get(spec)
            if found is None:
                found = _FROM_ENV[spec] = cls.parse(spec)
            return found

    def __bool__(self) -> bool:
        return bool(self.rules)

    def __repr__(self) -> str:
        return f"Faults({', '.join(repr(str(r)) for r in self.rules)})"

    def active(self, kind: str, context: Iterable[str]) -> bool:
        """Whether a `kind` rule applies to a call in `context`; counted rules use one firing."""
        ctx = frozenset(context)
        with self._lock:
            for rule in self.rules:
                if rule.kind != kind or not rule.matches(ctx):
                    continue
                if rule.count is None:
                    return True
                if rule.fired < rule.count:
                    rule.fired += 1
                    return True
        return False

    def check_call(self, provider: str, context: Iterable[str]) -> None:
        """Raise the error of the first call fault that applies (moderation first, then outages)."""
        ctx = frozenset(context)
        for kind in CALL_KINDS:
            if self.active(kind, ctx):
                raise fault_error(kind, provider)


_FROM_ENV: dict[str, Faults] = {}
_CACHE_LOCK = threading.Lock()


def fault_error(kind: str, provider: str) -> Exception:
    details: dict[str, object] = {
        "provider": provider,
        "status": STATUS[kind],
        "fault": kind,
        "simulated": True,
    }
    if kind == "moderation":
        return ContentRejected(
            f"{provider} refused the request under its content policy (simulated moderation)."
            " Change the prompt or image.",
            details=details,
        )
    details["retryable"] = True
    messages = {
        "outage": f"{provider} is unavailable (simulated outage, HTTP 503); try again shortly.",
        "429": f"{provider} is rate limiting us (simulated HTTP 429); try again shortly.",
        "500": f"{provider} failed with a server error (simulated HTTP 500); try again shortly.",
        "timeout": f"{provider} did not answer in time (simulated timeout); try again shortly.",
    }
    if kind == "429":
        details["retry_after"] = 1.0
    return ProviderUnavailable(messages[kind], details=details)
