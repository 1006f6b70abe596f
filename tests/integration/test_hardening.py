"""Bad input never reaches a 500: each case answers a 4xx in the API's error shape that says what to fix,
and nothing is charged (issue 15). Through the emulated API Gateway and the real function handlers."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import ApiClient, Deployed
from tests.integration.studio_helpers import balance, ledger, uploaded_asset

P = "/api/image-studio"

pytestmark = pytest.mark.usefixtures("pro_users")


def send(
    client: ApiClient, method: str, path: str, body: bytes, *, content_type: str = "application/json"
) -> tuple[int, dict[str, Any]]:
    headers = {
        "host": "localhost",
        "content-type": content_type,
        "authorization": f"Bearer {client.token('alice')}",
    }
    status, _, out = client.api.handle(method, path, headers, body)
    return status, json.loads(out)


def assert_error(status: int, body: dict[str, Any], expected: int, *words: str) -> dict[str, Any]:
    assert status == expected, body
    error = body["error"]
    assert error["code"] and error["message"]
    for word in words:
        assert word in error["message"], error
    return error


@pytest.fixture
def untouched(client: ApiClient):
    """Asserts, after the test, that alice's balance and ledger did not move."""
    before = balance(client, "alice"), ledger(client, "alice")
    yield
    assert (balance(client, "alice"), ledger(client, "alice")) == before


@pytest.mark.usefixtures("untouched")
@pytest.mark.parametrize("route", ["create", "edit/process", "upscale", "batches", "transform/estimate-cost"])
def test_deeply_nested_json_is_a_422_not_a_recursion_crash(client: ApiClient, route: str) -> None:
    status, body = send(client, "POST", f"{P}/{route}", b"[" * 20000 + b"]" * 20000)
    assert_error(status, body, 422, "levels deep")
    nested = {"prompt": "a cat", "x": json.loads("[" * 40 + "]" * 40)}  # parses, but deeper than allowed
    status, body = send(client, "POST", f"{P}/{route}", json.dumps(nested).encode())
    assert_error(status, body, 422, "levels deep")


@pytest.mark.usefixtures("untouched")
@pytest.mark.parametrize(
    "content_type",
    [
        "application/octet-stream",
        "text/plain",
        "image/png",
        "multipart/form-data",  # no boundary: Powertools' own parser raised (found by make fuzz)
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
    ],
)
def test_a_body_of_another_content_type_is_a_415(client: ApiClient, content_type: str) -> None:
    status, body = send(client, "POST", f"{P}/create", b'{"prompt": "a cat"}', content_type=content_type)
    error = assert_error(status, body, 415, "application/json")
    assert error["code"] == "unsupported_media_type"


@pytest.mark.usefixtures("untouched")
def test_invalid_utf8_is_a_422_naming_the_byte(client: ApiClient) -> None:
    status, body = send(client, "POST", f"{P}/create", b'{"prompt": "caf\xe9 \xff"}')
    assert_error(status, body, 422, "UTF-8", "byte 15")
    # a lone surrogate escape is valid JSON but no UTF-8 can store it
    status, body = send(client, "POST", f"{P}/create", b'{"prompt": "a cat \\ud800"}')
    assert_error(status, body, 422, "surrogate")


def test_a_base64_encoded_body_that_is_not_utf8_is_a_422(deployed: Deployed) -> None:
    """What API Gateway sends for such a body: isBase64Encoded with the raw bytes."""
    event = _create_event(base64.b64encode(b'{"prompt": "\xc3\x28"}').decode(), encoded=True)
    status, body = deployed.http("CreateFunction", event)
    assert_error(status, body, 422, "UTF-8")
    status, body = deployed.http("CreateFunction", _create_event("not base64 at all!", encoded=True))
    assert_error(status, body, 422, "base64")


def _create_event(body: str, *, encoded: bool, claims: dict[str, str] | None = None) -> dict[str, Any]:
    from tests.conftest import api_event

    event = api_event("create/instagram_portrait")
    event["body"] = body
    event["isBase64Encoded"] = encoded
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


@pytest.mark.usefixtures("untouched")
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"operation": "talking-avatar"}, "duration_seconds"),
        ({"operation": "image-to-video", "duration": -5}, "duration"),
        ({"operation": "image-to-video", "resolution": "8k"}, "resolution"),
    ],
)
def test_transform_estimates_of_bad_bodies_are_422_like_estimate_cost(
    client: ApiClient, body: dict[str, Any], field: str
) -> None:
    status, answer = client.call("POST", f"{P}/transform/estimate-cost", user="alice", body=body)
    error = assert_error(status, answer, 422)
    assert field in json.dumps(error)
    status, answer = client.call("POST", f"{P}/estimate-cost", user="alice", body=body)
    assert status == 422, answer


def test_a_token_without_sub_is_a_401_before_anything_runs(deployed: Deployed) -> None:
    claims = {"iss": "https://issuer", "aud": "client", "token_use": "id"}
    status, body = deployed.http(
        "CreateFunction", _create_event('{"prompt": "a cat"}', encoded=False, claims=claims)
    )
    assert_error(status, body, 401, "sub")
    # even with a body that would be a 422: who is asking is settled first
    status, body = deployed.http(
        "CreateFunction", _create_event("[" * 50, encoded=False, claims={**claims, "sub": " "})
    )
    assert status == 401, body


def test_a_sub_with_a_slash_keeps_its_files_under_its_own_prefix_and_its_upload_completes(
    client: ApiClient,
) -> None:
    user = "idp/tenant/alice"
    upload_id = uploaded_asset(client, user)
    status, upload = client.call("GET", f"{P}/uploads/{upload_id}", user=user)
    assert status == 200 and upload["upload"]["status"] == "ready", upload
    bucket = client.deployed.plan.physical["MediaBucket"]
    keys = [
        o["Key"]
        for o in client.deployed.session.client("s3").list_objects_v2(Bucket=bucket)["Contents"]
        if "alice" in o["Key"]
    ]
    assert keys and all("/idp%2Ftenant%2Falice/" in k for k in keys), keys
    # another user whose id is a prefix of that path sees nothing of it
    assert client.call("GET", f"{P}/uploads/{upload_id}", user="idp")[0] == 404


@pytest.mark.usefixtures("untouched")
@pytest.mark.parametrize(
    ("char", "name"),
    [
        ("\x00", "U+0000"),
        ("\x1b", "U+001B"),
        ("\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("\u2066", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
    ],
)
def test_control_and_bidi_characters_in_prompts_are_refused(client: ApiClient, char: str, name: str) -> None:
    status, body = client.call("POST", f"{P}/create", user="alice", body={"prompt": f"a cat{char}txt.exe"})
    error = assert_error(status, body, 422, "prompt", name, "character 6")
    assert error["code"] == "invalid_input"
    status, body = client.call(
        "POST", f"{P}/create", user="alice", body={"prompt": "a cat", "negative_prompt": f"x{char}"}
    )
    assert_error(status, body, 422, "negative_prompt")


def test_tabs_and_line_breaks_in_prompts_are_fine(client: ApiClient) -> None:
    status, body = client.call(
        "POST", f"{P}/create", user="alice", body={"prompt": "a cat\n\twith a hat\r\n", "quality": "draft"}
    )
    assert status == 200, body


@pytest.mark.usefixtures("untouched")
@pytest.mark.parametrize(
    "url",
    [
        "https://100.64.0.1/hook",  # shared address space (carrier-grade NAT)
        "https://192.88.99.1/hook",  # 6to4 relay anycast
        "https://[2002:a00:1::1]/hook",  # 6to4: embeds 10.0.0.1
        "https://[::ffff:10.0.0.1]/hook",  # IPv4-mapped private
        "https://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
        "https://10.0.0.1/hook",
        "https://127.0.0.1/hook",
        "http://example.com/hook",
    ],
)
def test_webhook_urls_must_be_globally_routable_on_transforms_batches_and_dry_runs(
    client: ApiClient, url: str
) -> None:
    asset_id = uploaded_asset(client, "alice")
    before = balance(client, "alice"), ledger(client, "alice")
    request = {"asset_id": asset_id, "webhook_url": url}
    status, body = client.call("POST", f"{P}/transform/image-to-3d", user="alice", body=request)
    assert_error(status, body, 422, "webhook_url")
    rows = [{"operation": "create", "prompt": "poster", "quality": "draft"}]
    for dry_run in (True, False):
        batch = {"items": rows, "webhook_url": url, "dry_run": dry_run}
        status, body = client.call("POST", f"{P}/batches", user="alice", body=batch)
        assert_error(status, body, 422, "webhook_url")
    assert (balance(client, "alice"), ledger(client, "alice")) == before
    assert client.call("GET", f"{P}/batches", user="alice")[1]["batches"] == []


@pytest.mark.usefixtures("untouched")
@pytest.mark.parametrize(
    ("at", "words"),
    [
        ("2000-01-01T00:00:00Z", ("in the past",)),
        (lambda: (datetime.now(UTC) - timedelta(hours=1)).isoformat(), ("in the past",)),
        ("9999-12-31T23:59:59Z", ("366 days",)),
        (lambda: (datetime.now(UTC) + timedelta(days=400)).isoformat(), ("366 days",)),
    ],
)
def test_schedule_at_must_be_in_the_next_year(client: ApiClient, at: Any, words: tuple[str, ...]) -> None:
    when = at() if callable(at) else at
    rows = [{"operation": "create", "prompt": "poster", "quality": "draft"}]
    for dry_run in (True, False):
        body = {"items": rows, "schedule_at": when, "dry_run": dry_run}
        status, answer = client.call("POST", f"{P}/batches", user="alice", body=body)
        error = assert_error(status, answer, 422, "schedule_at", *words)
        assert error["details"]["field"] == "schedule_at"
    assert client.call("GET", f"{P}/batches", user="alice")[1]["batches"] == []


@pytest.mark.usefixtures("untouched")
@pytest.mark.parametrize("schedule", ["at(9999-12-31T23:59:59)", "at(2000-01-01T00:00:00)"])
def test_a_one_time_at_schedule_is_bounded_too(client: ApiClient, schedule: str) -> None:
    rows = [{"operation": "create", "prompt": "poster", "quality": "draft"}]
    status, answer = client.call(
        "POST", f"{P}/batches", user="alice", body={"items": rows, "schedule": schedule}
    )
    error = assert_error(status, answer, 422)
    assert error["details"]["field"] == "schedule"


def test_schedule_at_within_the_year_is_scheduled(client: ApiClient) -> None:
    when = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    rows = [{"operation": "create", "prompt": "poster", "quality": "draft"}]
    status, answer = client.call(
        "POST", f"{P}/batches", user="alice", body={"items": rows, "schedule_at": when}
    )
    assert status == 202 and answer["batch"]["status"] == "scheduled", answer


def test_webhook_secrets_are_generated_per_stack_into_ssm_never_a_constant(client: ApiClient) -> None:
    ssm = client.deployed.session.client("ssm")
    name = "/image-studio/local/webhook-signing-master"
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=name)
    status, first = client.call("GET", f"{P}/webhooks/secret", user="alice")
    assert status == 200 and first["secret"].startswith("whsec_")
    stored = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString" and len(base64.b64decode(stored["Value"])) == 32
    assert b"image-studio-offline" not in stored["Value"].encode()
    # generated once: later calls (and other functions) read the same master
    assert client.call("GET", f"{P}/webhooks/secret", user="alice")[1] == first
    # another stack (another parameter) gets another master, so another secret for the same user
    ssm.delete_parameter(Name=name)
    from imagestudio.providers import keys

    keys.reset()
    assert client.call("GET", f"{P}/webhooks/secret", user="alice")[1]["secret"] != first["secret"]
