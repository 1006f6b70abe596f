"""API Gateway's behaviour as the offline HTTP API emulates it: routing, events, responses, CORS."""

from __future__ import annotations

import base64
import json

import pytest

from local.http_api import build_event, to_http
from local.provision import Route, match_path


def test_path_templates_match_like_api_gateway() -> None:
    assert match_path(
        "/api/image-studio/platform-specs/{platform}", "/api/image-studio/platform-specs/x"
    ) == {"platform": "x"}
    assert (
        match_path("/api/image-studio/platform-specs/{platform}", "/api/image-studio/platform-specs/x/y")
        is None
    )
    assert match_path("/files/{proxy+}", "/files/a/b/c.png") == {"proxy": "a/b/c.png"}
    assert match_path("/a.b", "/aXb") is None  # dots are literal


def test_most_specific_route_wins(tmp_path) -> None:
    from local.provision import StackPlan

    plan = StackPlan("s", "us-east-1", "1", tmp_path, {}, {})
    plan.routes = [
        Route("GET", "/assets/{id}", "by-id", None, "GET /assets/{id}"),
        Route("GET", "/assets/search", "search", None, "GET /assets/search"),
        Route("ANY", "/{proxy+}", "catch-all", None, "ANY /{proxy+}"),
    ]
    assert plan.find_route("GET", "/assets/search")[0].function == "search"
    assert plan.find_route("GET", "/assets/42")[0].function == "by-id"
    assert plan.find_route("POST", "/assets/42")[0].function == "catch-all"


def test_the_default_route_catches_only_what_nothing_else_matches(tmp_path) -> None:
    from local.provision import DEFAULT_ROUTE, StackPlan

    plan = StackPlan("s", "us-east-1", "1", tmp_path, {}, {})
    plan.routes = [
        Route("ANY", DEFAULT_ROUTE, "fallback", None, DEFAULT_ROUTE),
        Route("GET", "/assets/{id}", "by-id", None, "GET /assets/{id}"),
    ]
    assert plan.find_route("GET", "/assets/42")[0].function == "by-id"
    assert plan.find_route("DELETE", "/assets/42")[0].function == "fallback"
    assert plan.find_route("GET", "/nothing/here") == (plan.routes[0], {})
    plan.routes = plan.routes[1:]
    assert plan.find_route("GET", "/nothing/here") is None


def test_event_is_payload_v2_with_claims_as_strings(tmp_path) -> None:
    from local.provision import StackPlan

    plan = StackPlan("s", "us-east-1", "123", tmp_path, {}, {})
    route = Route("POST", "/items/{id}", "fn", "Api.Jwt", "POST /items/{id}")
    event = build_event(
        plan=plan,
        route=route,
        path_params={"id": "7"},
        method="POST",
        raw_path="/items/7",
        raw_query="a=1&a=2&b=",
        headers={"content-type": "application/json", "cookie": "x=1; y=2"},
        body=b'{"k": 1}',
        claims={"sub": "alice", "cognito:groups": ["admin"]},
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /items/{id}"
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["pathParameters"] == {"id": "7"}
    assert event["cookies"] == ["x=1", "y=2"]
    assert event["body"] == '{"k": 1}' and event["isBase64Encoded"] is False
    assert event["requestContext"]["authorizer"]["jwt"]["claims"] == {
        "sub": "alice",
        "cognito:groups": "[admin]",
    }
    assert event["requestContext"]["http"]["method"] == "POST"

    def anonymous_post(content_type: str, body: bytes) -> dict:
        return build_event(
            plan=plan,
            route=route,
            path_params={},
            method="POST",
            raw_path="/items/7",
            raw_query="",
            headers={"content-type": content_type},
            body=body,
            claims=None,
        )

    binary = anonymous_post("image/png", b"\x89PNG\x00")
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x89PNG\x00"
    assert "authorizer" not in binary["requestContext"]
    # a "JSON" body that is not UTF-8 reaches the function base64-encoded, as API Gateway passes it
    broken = anonymous_post("application/json", b'{"k": "\xff"}')
    assert broken["isBase64Encoded"] is True and base64.b64decode(broken["body"]) == b'{"k": "\xff"}'


@pytest.mark.parametrize(
    ("payload", "expected_status", "expected_body"),
    [
        (
            {"statusCode": 201, "body": '{"a":1}', "headers": {"Content-Type": "application/json"}},
            201,
            b'{"a":1}',
        ),
        (
            {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True},
            200,
            b"\x00\x01",
        ),
        ({"just": "a dict"}, 200, json.dumps({"just": "a dict"}).encode()),
    ],
)
def test_function_answers_become_http(payload, expected_status, expected_body) -> None:
    status, headers, body = to_http(payload)
    assert (status, body) == (expected_status, expected_body)
    assert all(k == k.lower() for k in headers)


class _Refusing:
    def verify(self, header: str | None) -> dict[str, str]:
        from local.auth import AuthError

        raise AuthError("token expired")


def test_the_gateway_own_answers_keep_api_gateways_message_and_add_detail(tmp_path) -> None:
    from local.http_api import MAX_REQUEST_BYTES, HttpApi
    from local.provision import StackPlan

    plan = StackPlan("s", "us-east-1", "1", tmp_path, {}, {})
    plan.routes = [Route("GET", "/items", "fn", "Api.Jwt", "GET /items")]
    api = HttpApi(plan, runtime=None, signers={"Api.Jwt": _Refusing()})  # type: ignore[arg-type]

    status, headers, body = api.handle("GET", "/items", {}, b"")
    answer = json.loads(body)
    assert status == 401 and answer["message"] == "Unauthorized"
    assert "bearer token" in answer["detail"] and "token expired" in answer["detail"]
    assert headers["www-authenticate"].startswith("Bearer")

    status, _, body = api.handle("GET", "/elsewhere", {}, b"")
    assert status == 404 and json.loads(body) == {
        "message": "Not Found",
        "detail": "No route GET /elsewhere.",
    }

    status, _, body = api.handle("POST", "/items", {}, b"x" * (MAX_REQUEST_BYTES + 1))
    answer = json.loads(body)
    assert status == 413 and "uploads" in answer["detail"] and answer["message"] == "Request Entity Too Large"
