"""Outgoing webhooks: signed, https and public only, retried on 429/5xx/connection errors only."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from imagestudio.notify import DeliveryResult, deliver, user_webhook_secret, verify
from imagestudio.notify.signing import whsec
from tests.http_fakes import transport

URL = "https://hooks.example.com/image-studio"
SECRET = b"user-secret"
NOW = 1_700_000_000


def public(host: str) -> bool:
    return True


def send(http: httpx.Client, waits: list[float] | None = None, **kwargs: Any) -> DeliveryResult:
    options: dict[str, Any] = {
        "secret": SECRET,
        "message_id": "msg_1",
        "http": http,
        "sleep": (waits if waits is not None else []).append,
        "resolve": public,
        "clock": lambda: NOW,
        **kwargs,
    }
    return deliver(URL, {"type": "job.succeeded", "job_id": "j1"}, **options)


def test_delivered_with_standard_webhooks_headers_and_a_verifiable_signature() -> None:
    http, seen = transport(httpx.Response(204))
    result = send(http)
    assert (result.status, result.attempts, result.last_status, result.error) == ("delivered", 1, 204, None)
    (request,) = seen
    assert request.method == "POST" and str(request.url) == URL
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "msg_1"
    assert request.headers["webhook-timestamp"] == str(NOW)
    assert json.loads(request.content) == {"type": "job.succeeded", "job_id": "j1"}
    verify(
        SECRET,
        request.headers["webhook-id"],
        int(request.headers["webhook-timestamp"]),
        request.content,
        request.headers["webhook-signature"],
        now=NOW,
    )


def test_a_delivery_during_a_rotation_verifies_with_the_old_and_the_new_secret_in_standardwebhooks() -> None:
    http, seen = transport(httpx.Response(200))
    old, new = b"old-user-secret", b"new-user-secret"
    result = send(http, secret=[new, old], clock=time.time)
    assert result.status == "delivered"
    (request,) = seen
    assert request.headers["webhook-signature"].count("v1,") == 2
    for secret in (old, new):
        assert Webhook(whsec(secret)).verify(request.content, dict(request.headers))["job_id"] == "j1"


def test_retries_503_then_delivers_with_backoff_and_the_same_id() -> None:
    http, seen = transport(httpx.Response(503), httpx.Response(429), httpx.Response(200))
    waits: list[float] = []
    result = send(http, waits)
    assert (result.status, result.attempts, result.last_status) == ("delivered", 3, 200)
    assert len(seen) == 3 and len(waits) == 2
    assert 0 <= waits[0] <= 0.5 and 0 <= waits[1] <= 1.0
    assert {r.headers["webhook-id"] for r in seen} == {"msg_1"}


def test_connection_errors_are_retried_and_exhaustion_fails_without_raising() -> None:
    http, seen = transport(
        httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(500), httpx.Response(502)
    )
    result = send(http, attempts=4)
    assert (result.status, result.attempts, result.last_status, result.error) == (
        "failed",
        4,
        502,
        "HTTP 502",
    )
    assert len(seen) == 4
    http, seen = transport(httpx.ConnectError("refused"), httpx.ConnectError("refused"))
    result = send(http, attempts=2)
    assert (result.status, result.attempts, result.last_status) == ("failed", 2, None)
    assert result.error is not None and "ConnectError" in result.error


def test_other_4xx_and_redirects_fail_at_once() -> None:
    for status in (400, 401, 404, 410, 301):
        http, seen = transport(httpx.Response(status, headers={"location": "http://10.0.0.1/"}))
        waits: list[float] = []
        result = send(http, waits)
        assert (result.status, result.attempts, result.last_status) == ("failed", 1, status)
        assert len(seen) == 1 and waits == []


def test_http_and_private_addresses_are_refused_without_a_request() -> None:
    http, seen = transport()
    result = deliver(
        "http://hooks.example.com/x", {}, secret=SECRET, message_id="m", http=http, resolve=public
    )
    assert (result.status, result.attempts, result.last_status) == ("failed", 0, None)
    assert result.error is not None and "https" in result.error
    result = deliver(URL, {}, secret=SECRET, message_id="m", http=http, resolve=lambda host: False)
    assert result.status == "failed" and result.attempts == 0
    assert result.error is not None and "globally routable" in result.error
    # the real resolver, at delivery time: loopback, link-local (instance metadata), shared (CGNAT),
    # 6to4 relay and prefix literals
    for url in (
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/x",
        "https://100.64.0.1/hook",
        "https://192.88.99.1/hook",
        "https://[2002:a9fe:a9fe::1]/hook",
    ):
        assert deliver(url, {}, secret=SECRET, message_id="m", http=http).attempts == 0
    assert seen == []


def test_every_attempt_is_signed_with_its_own_timestamp() -> None:
    http, seen = transport(httpx.Response(503), httpx.Response(200))
    ticks = iter([NOW, NOW + 400])
    send(http, clock=lambda: next(ticks))
    late = seen[1]
    assert late.headers["webhook-timestamp"] == str(NOW + 400)
    verify(SECRET, "msg_1", NOW + 400, late.content, late.headers["webhook-signature"], now=NOW + 401)


def test_dynamodb_numbers_are_sent_as_json_numbers() -> None:
    http, seen = transport(httpx.Response(200))
    deliver(
        URL,
        {"credits": Decimal("5"), "cost": Decimal("0.25")},
        secret=SECRET,
        message_id="m",
        http=http,
        resolve=public,
    )
    assert json.loads(seen[0].content) == {"credits": 5, "cost": 0.25}


def test_user_secret_is_hmac_of_the_user_id_under_the_master() -> None:
    master = b"master-from-ssm"
    secret = user_webhook_secret("user-1", master)
    assert secret == hmac.new(master, b"user-1", hashlib.sha256).digest()
    assert secret != user_webhook_secret("user-2", master)
    assert secret != user_webhook_secret("user-1", b"rotated-master")
