"""HTTP for provider adapters: one httpx client per provider reused across warm invocations, timeouts on
every call, retries with exponential backoff and full jitter on 429/5xx/connection errors (honouring
Retry-After, never on other 4xx, within a time budget), error mapping, and a guarded download of
provider output URLs (https only, no private addresses, streamed, size-capped, type sniffed).

httpx is imported by the first call, not at cold start (functions that only validate a webhook URL or
name a retry status never pay for it)."""

from __future__ import annotations

import ipaddress
import logging
import random
import socket
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from imagestudio import tracing
from imagestudio.catalog import ModelSpec, get_catalog
from imagestudio.errors import ContentRejected
from imagestudio.imaging.verify import sniff_format
from imagestudio.providers.base import BaseProvider, ProviderRejected, ProviderUnavailable, Unsupported

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

TIMEOUT = (5.0, 60.0, 30.0, 5.0)  # httpx's (connect, read, write, pool), in seconds
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
MIME_BY_SNIFF = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


@cache
def client(provider: str) -> httpx.Client:
    """The provider's client, created once per container (connection reuse across warm invocations)."""
    import httpx

    return httpx.Client(
        timeout=TIMEOUT,
        headers={"user-agent": "image-studio-serverless/1"},
        follow_redirects=False,
        event_hooks=tracing.http_hooks(),  # an X-Ray subsegment per call, when the invocation is traced
    )


def reset_clients() -> None:
    client.cache_clear()


class HttpProvider(BaseProvider):
    """What every remote adapter holds: the API key (or a callable, so the secret is read when first
    needed), an optional httpx client (else the provider's shared one), the API base URL (the class's
    `default_base_url` unless given) and the sleep used between retries."""

    default_base_url = ""

    def __init__(
        self,
        api_key: Callable[[], str] | str,
        *,
        http: httpx.Client | None = None,
        base_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api_key = api_key
        self._http = http
        self._base = (self.default_base_url if base_url is None else base_url).rstrip("/")
        self._sleep = sleep

    def _key(self) -> str:
        return self._api_key() if callable(self._api_key) else self._api_key

    def _spec(self, model_id: str, capability: str) -> ModelSpec:
        """The catalog model (422 if unknown for `capability`); Unsupported if another provider serves it."""
        spec = get_catalog().model(model_id, capability=capability, status=422)
        if spec.provider != self.name:
            raise Unsupported(
                f"Model '{spec.id}' is served by {spec.provider}, not {self.name}.",
                details={"provider": self.name, "model": spec.id},
            )
        return spec


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def backoff(attempt: int, *, base: float = 0.5, cap: float = 8.0) -> float:
    """Full jitter: a random wait in [0, min(cap, base * 2^attempt)]."""
    return random.uniform(0, min(cap, base * 2**attempt))


def send(
    provider: str,
    method: str,
    url: str,
    *,
    attempts: int = 4,
    budget_seconds: float = 20.0,
    sleep: Callable[[float], None] = time.sleep,
    http: httpx.Client | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send with retries; answer the first response that is not a retryable failure, or raise."""
    import httpx

    http = http or client(provider)
    deadline = time.monotonic() + budget_seconds
    last: str = "no attempt"
    for attempt in range(attempts):
        try:
            response = http.request(method, url, **kwargs)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            last = f"{type(exc).__name__}: {exc}"
            wait = backoff(attempt)
        else:
            if response.status_code not in RETRY_STATUSES:
                return response
            last = f"HTTP {response.status_code}"
            hinted = _retry_after(response)
            wait = hinted if hinted is not None else backoff(attempt)
        if attempt == attempts - 1 or time.monotonic() + wait > deadline:
            break
        log.info("%s %s failed (%s); retry %d in %.2fs", provider, url, last, attempt + 1, wait)
        sleep(wait)
    raise ProviderUnavailable(
        f"{provider} is not answering ({last}); try again shortly.",
        details={"provider": provider, "last": last},
    )


def raise_for_status(provider: str, response: httpx.Response, *, message: str | None = None) -> None:
    """4xx are the user's to fix (403 is content moderation); anything else unexpected is ours."""
    status = response.status_code
    if status < 400:
        return
    detail = message or _error_text(response)
    details = {"provider": provider, "status": status, "provider_message": detail}
    if status == 403:
        raise ContentRejected(
            f"{provider} refused the request under its content policy: {detail}. Change the prompt or image.",
            details=details,
        )
    if status in (400, 404, 413, 415, 422):
        raise ProviderRejected(f"{provider} did not accept the input: {detail}", details=details)
    if status in (401, 402):
        raise ProviderUnavailable(
            f"{provider} is misconfigured or out of credit on our side.", details=details
        )
    raise ProviderUnavailable(f"{provider} failed ({status}): {detail}", details=details)


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(str(e) for e in errors)[:300]
        for key in ("message", "error", "detail", "name"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value
            if value:
                return str(value)[:300]
    return str(body)[:300]


def _public_address(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return False
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            return False
        if ip.is_unspecified:
            return False
    return True


def check_output_url(url: str, *, resolve: Callable[[str], bool] = _public_address) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ProviderUnavailable("A provider output URL is not https: refused.", details={"url": url[:200]})
    if not resolve(parts.hostname):
        raise ProviderUnavailable(
            "A provider output URL points at a private, loopback or link-local address: refused.",
            details={"host": parts.hostname},
        )


def download(
    provider: str,
    url: str,
    *,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    http: httpx.Client | None = None,
    resolve: Callable[[str], bool] = _public_address,
) -> tuple[bytes, str]:
    """Copy a provider output: (bytes, mime sniffed from the bytes, else the declared type)."""
    check_output_url(url, resolve=resolve)
    http = http or client(provider)
    with http.stream("GET", url) as response:
        raise_for_status(provider, response, message=f"output download answered {response.status_code}")
        declared = int(response.headers.get("content-length") or 0)
        if declared > max_bytes:
            raise ProviderUnavailable(f"{provider} output is larger than {max_bytes} bytes.")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise ProviderUnavailable(f"{provider} output is larger than {max_bytes} bytes.")
            chunks.append(chunk)
        data = b"".join(chunks)
        declared_type = response.headers.get("content-type", "application/octet-stream").split(";")[0]
    return data, sniff_mime(data, declared_type)


def sniff_mime(data: bytes, fallback: str = "application/octet-stream") -> str:
    fmt = sniff_format(data)
    if fmt in MIME_BY_SNIFF:
        return MIME_BY_SNIFF[fmt]
    if data[:4] == b"glTF":
        return "model/gltf-binary"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    return fallback
