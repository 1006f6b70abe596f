"""Provider HTTP resilience: retries only what is worth retrying, honours Retry-After, guards downloads."""

from __future__ import annotations

import httpx
import pytest

from imagestudio.errors import ContentRejected
from imagestudio.providers.base import ProviderRejected, ProviderUnavailable
from imagestudio.providers.http import backoff, check_output_url, download, raise_for_status, send
from tests.http_fakes import transport


def test_retries_429_and_5xx_then_answers_honouring_retry_after() -> None:
    http, seen = transport(
        httpx.Response(429, headers={"retry-after": "2"}),
        httpx.Response(503),
        httpx.Response(200, json={"ok": True}),
    )
    waits: list[float] = []
    response = send("p", "GET", "https://x.test/a", http=http, sleep=waits.append, budget_seconds=60)
    assert response.json() == {"ok": True}
    assert len(seen) == 3
    assert waits[0] == 2.0  # the provider's hint, not our backoff
    assert 0 <= waits[1] <= 1.0  # full jitter of base 0.5 * 2^1


def test_never_retries_other_4xx() -> None:
    http, seen = transport(
        httpx.Response(400, json={"name": "bad_request", "errors": ["prompt is required"]})
    )
    response = send("p", "POST", "https://x.test/a", http=http, sleep=lambda s: None)
    assert response.status_code == 400 and len(seen) == 1
    with pytest.raises(ProviderRejected, match="prompt is required"):
        raise_for_status("p", response)


def test_connection_errors_and_persistent_5xx_become_provider_unavailable_within_budget() -> None:
    http, seen = transport(
        httpx.ConnectError("down"), httpx.Response(500), httpx.Response(500), httpx.Response(500)
    )
    with pytest.raises(ProviderUnavailable, match="not answering"):
        send("p", "GET", "https://x.test/a", http=http, sleep=lambda s: None, attempts=4)
    assert len(seen) == 4
    http, seen = transport(httpx.Response(429, headers={"retry-after": "120"}), httpx.Response(200))
    with pytest.raises(ProviderUnavailable):  # a 2-minute hint does not fit a 20 s budget: fail fast
        send("p", "GET", "https://x.test/a", http=http, sleep=lambda s: None, budget_seconds=20)
    assert len(seen) == 1


def test_moderation_is_the_users_to_fix_and_quota_is_ours() -> None:
    with pytest.raises(ContentRejected, match="content policy"):
        raise_for_status("p", httpx.Response(403, json={"name": "content_moderation", "errors": ["flagged"]}))
    with pytest.raises(ProviderUnavailable):
        raise_for_status("p", httpx.Response(402, json={"message": "no credit"}))


def test_backoff_is_bounded_full_jitter() -> None:
    values = [backoff(10) for _ in range(200)]
    assert all(0 <= v <= 8.0 for v in values) and max(values) > 4.0


@pytest.mark.parametrize(
    "url",
    ["http://cdn.example.com/a.png", "https://127.0.0.1/a.png", "https://169.254.169.254/latest/meta-data"],
)
def test_output_urls_must_be_https_and_public(url: str) -> None:
    with pytest.raises(ProviderUnavailable):
        check_output_url(url)


def test_download_is_size_capped_and_sniffs_the_type() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    http, _ = transport(
        httpx.Response(200, content=png, headers={"content-type": "application/octet-stream"})
    )
    data, mime = download("p", "https://cdn.example.com/out", http=http, resolve=lambda host: True)
    assert data == png and mime == "image/png"
    http, _ = transport(httpx.Response(200, content=b"x" * 2000))
    with pytest.raises(ProviderUnavailable, match="larger than"):
        download("p", "https://cdn.example.com/out", http=http, max_bytes=1000, resolve=lambda host: True)
