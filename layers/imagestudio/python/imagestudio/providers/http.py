"""HTTP for provider adapters: one httpx client per provider reused across warm invocations, timeouts on
every call, retries with exponential backoff and full jitter (honouring Retry-After, never on other
4xx, within a time budget; a POST submit only when it cannot have started a paid job), error mapping,
and a guarded download of provider output URLs (https only, globally routable addresses only,
streamed, size-capped, type sniffed).

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


# Requests that change nothing when repeated: retried on any transient failure.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def not_sent_errors() -> tuple[type[Exception], ...]:
    """Failures before a byte of the request left: the provider cannot have received it."""
    import httpx

    return (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def may_retry_error(exc: Exception, *, safe: bool) -> bool:
    """Retry after a transport error? Always for a safe request; a submit (POST) only when it was never
    sent, since a timeout or a dropped connection after sending may have started a paid job."""
    return safe or isinstance(exc, not_sent_errors())


def may_retry_response(response: httpx.Response, *, safe: bool) -> bool:
    """Retry after this answer? A safe request on 429 and 5xx; a submit only when the provider says it
    did not take it: 429, or 503 with Retry-After. A 500, 502 or 504 may come after the job started."""
    status = response.status_code
    if status not in RETRY_STATUSES:
        return False
    return safe or status == 429 or (status == 503 and _retry_after(response) is not None)


def send(
    provider: str,
    method: str,
    url: str,
    *,
    attempts: int = 4,
    budget_seconds: float = 20.0,
    sleep: Callable[[float], None] = time.sleep,
    http: httpx.Client | None = None,
    idempotency_key: str | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send with retries; answer the first response that is not a retryable failure, or raise.

    GET and the other idempotent methods are retried on 429, 5xx and transport errors. A POST (a
    submit that may start a paid job) is retried only when it cannot have been received or the
    provider said so (see `may_retry_error`, `may_retry_response`), unless `idempotency_key` is given
    for a provider that honours one: it is then sent as the Idempotency-Key header and every
    transient failure is retried, since a repeat is the same job."""
    import httpx

    http = http or client(provider)
    safe = method.upper() in IDEMPOTENT_METHODS or idempotency_key is not None
    if idempotency_key is not None:
        kwargs["headers"] = {**(kwargs.get("headers") or {}), "idempotency-key": idempotency_key}
    deadline = time.monotonic() + budget_seconds
    last: str = "no attempt"
    for attempt in range(attempts):
        try:
            response = http.request(method, url, **kwargs)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            last = f"{type(exc).__name__}: {exc}"
            if not may_retry_error(exc, safe=safe):
                raise ProviderUnavailable(
                    f"{provider} did not answer ({last}); the request may have reached it, so it is not "
                    "sent again.",
                    details={"provider": provider, "last": last, "may_have_started": True},
                ) from None
            wait = backoff(attempt)
        else:
            if not may_retry_response(response, safe=safe):
                if response.status_code in RETRY_STATUSES:  # a submit's 5xx: a job may have started
                    last = f"HTTP {response.status_code}"
                    raise ProviderUnavailable(
                        f"{provider} failed ({last}); the request may have reached it: not sent again.",
                        details={"provider": provider, "last": last, "may_have_started": True},
                    )
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


# Ranges `is_global` lets through that can still reach, or relay to, an address that is not ours to
# call: the 6to4 relay anycast and 6to4 prefix (which embeds any IPv4 address) and NAT64 prefixes.
_NOT_ROUTABLE_HERE = tuple(
    ipaddress.ip_network(n) for n in ("192.88.99.0/24", "2002::/16", "64:ff9b::/96", "64:ff9b:1::/48")
)


def is_public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Only globally routable unicast addresses (IANA special-purpose registries): private, shared
    (100.64/10), loopback, link-local, reserved, multicast, 6to4, NAT64 and Teredo are refused; an
    IPv4-mapped IPv6 address is judged by its IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return is_public_ip(ip.ipv4_mapped)
    if not ip.is_global or ip.is_multicast:
        return False
    return not any(ip.version == net.version and ip in net for net in _NOT_ROUTABLE_HERE)


def _public_address(host: str) -> bool:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return is_public_ip(literal)
    try:
        infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return False
    return bool(infos) and all(is_public_ip(ipaddress.ip_address(info[4][0])) for info in infos)


def check_output_url(url: str, *, resolve: Callable[[str], bool] = _public_address) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ProviderUnavailable("A provider output URL is not https: refused.", details={"url": url[:200]})
    if not resolve(parts.hostname):
        raise ProviderUnavailable(
            "A provider output URL points at an address that is not globally routable: refused.",
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
