"""The HTTP API in front of the functions, as API Gateway (HTTP API, payload format 2.0) runs it.

Routes, the JWT authorizer and CORS come from the plan read out of template.yaml. Requests are
turned into v2 events, handed to the in-process runtime, and the function's answer is turned
back into HTTP. API Gateway's limits are kept (10 MB request, 6 MB function response) so a
defect that would fail on AWS fails here too.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.auth import AuthError, TokenSigner, claims_as_api_gateway_passes_them
from local.lambda_runtime import LocalLambdaRuntime
from local.provision import Route, StackPlan

log = logging.getLogger("local.http")

MAX_REQUEST_BYTES = 10 * 1024 * 1024
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")

LocalRoute = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


def build_event(
    *,
    plan: StackPlan,
    route: Route,
    path_params: dict[str, str],
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
    claims: dict[str, Any] | None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An API Gateway HTTP API payload v2.0 event."""
    now = time.time()
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    content_type = headers.get("content-type", "")
    is_text = not body or any(t in content_type for t in TEXT_TYPES) or content_type.startswith("multipart/")
    if is_text and body:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            is_text = False  # API Gateway passes a body that is not UTF-8 base64-encoded, whatever its type
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        # API Gateway adds the X-Forwarded-* headers; offline the scheme is http.
        "headers": {"x-forwarded-proto": "http", **headers},
        "requestContext": {
            "accountId": plan.account_id,
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": headers.get("host", "127.0.0.1").split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if "cookie" in headers:
        event["cookies"] = [c.strip() for c in headers["cookie"].split(";") if c.strip()]
    if query:
        event["queryStringParameters"] = query
    if path_params:
        event["pathParameters"] = path_params
    if body:
        event["body"] = body.decode("utf-8") if is_text else base64.b64encode(body).decode()
    if claims is not None:
        event["requestContext"]["authorizer"] = {
            "jwt": {"claims": claims_as_api_gateway_passes_them(claims), "scopes": None}
        }
    return event


def to_http(payload: Any) -> tuple[int, dict[str, str], bytes]:
    """Payload format 2.0: a dict with statusCode is a response; anything else is a 200 JSON body."""
    if not (isinstance(payload, dict) and "statusCode" in payload):
        return 200, {"content-type": "application/json"}, json.dumps(payload).encode()
    headers = {k.lower(): str(v) for k, v in (payload.get("headers") or {}).items()}
    for key, values in (payload.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = ", ".join(str(v) for v in values)
    if payload.get("cookies"):
        headers["set-cookie"] = "; ".join(payload["cookies"])
    raw = payload.get("body") or ""
    body = base64.b64decode(raw) if payload.get("isBase64Encoded") else str(raw).encode()
    return int(payload["statusCode"]), headers, body


# The answers API Gateway itself gives (no function runs): its `message`, as on AWS, plus the
# `detail` every error body of ours carries. Deployed, an HTTP API cannot change these bodies
# (gateway responses are a REST API feature): unknown routes reach our $default route instead,
# but the authorizer's 401, the 413 and API Gateway's 5xx say only `message` there.
UNAUTHORIZED_DETAIL = (
    "Sign in again: this route needs a valid bearer token (Authorization: Bearer <JWT>) from the "
    "API's issuer, for its audience, not expired"
)
TOO_LARGE_DETAIL = (
    "The request is larger than API Gateway's 10 MB limit. Upload big images with "
    "POST /api/image-studio/uploads and send the upload_id (or asset_id) instead of inline base64."
)
INTERNAL_DETAIL = "Something went wrong on our side. Try again; if it keeps failing, tell us the time."


def _gateway_error(message: str, detail: str) -> dict[str, str]:
    return {"message": message, "detail": detail}


def _json(
    status: int, body: dict[str, Any], extra: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    return status, {"content-type": "application/json", **(extra or {})}, json.dumps(body).encode()


class HttpApi:
    """Routes a request to its function through the authorizer, like API Gateway."""

    def __init__(self, plan: StackPlan, runtime: LocalLambdaRuntime, signers: dict[str, TokenSigner]) -> None:
        self.plan = plan
        self.runtime = runtime
        self.signers = signers  # authorizer key in plan.authorizers -> signer
        self.local_routes: dict[tuple[str, str], LocalRoute] = {}

    def add_local_route(self, method: str, prefix: str, handler: LocalRoute) -> None:
        self.local_routes[(method, prefix)] = handler

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str = "127.0.0.1"
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        path, raw_query = parts.path, parts.query
        for (local_method, prefix), handler in self.local_routes.items():
            if method == local_method and path.startswith(prefix):
                return handler(method, path, headers, body)

        cors = self._cors_headers(headers.get("origin"))
        if method == "OPTIONS" and self.plan.cors and "access-control-request-method" in headers:
            return self._preflight(headers)
        if len(body) > MAX_REQUEST_BYTES:
            return _json(413, _gateway_error("Request Entity Too Large", TOO_LARGE_DETAIL), cors)
        found = self.plan.find_route(method, path)
        if found is None:
            return _json(404, _gateway_error("Not Found", f"No route {method} {path}."), cors)
        route, path_params = found

        claims = None
        if route.authorizer is not None:
            signer = self.signers[route.authorizer]
            try:
                claims = signer.verify(headers.get("authorization"))
            except AuthError as exc:
                log.info("401 %s %s: %s", method, path, exc)
                return _json(
                    401,
                    _gateway_error("Unauthorized", f"{UNAUTHORIZED_DETAIL} ({exc})"),
                    {**cors, "www-authenticate": 'Bearer error="invalid_token"'},
                )

        event = build_event(
            plan=self.plan,
            route=route,
            path_params=path_params,
            method=method,
            raw_path=path,
            raw_query=raw_query,
            headers=headers,
            body=body,
            claims=claims,
            source_ip=source_ip,
        )
        result = self.runtime.invoke(route.function, event, one_at_a_time=True)
        if result.error:
            return _json(500, _gateway_error("Internal Server Error", INTERNAL_DETAIL), cors)
        if len(json.dumps(result.payload)) > MAX_RESPONSE_BYTES:
            log.error("%s answered more than Lambda's 6 MB response limit", route.function)
            return _json(500, _gateway_error("Internal Server Error", INTERNAL_DETAIL), cors)
        status, out_headers, out_body = to_http(result.payload)
        return status, {**out_headers, **cors}, out_body

    def _cors_headers(self, origin: str | None) -> dict[str, str]:
        cors = self.plan.cors
        if cors is None or not origin:
            return {}
        if "*" in cors.allow_origins:
            allowed = "*"
        elif origin in cors.allow_origins:
            allowed = origin
        else:
            return {}
        headers = {"access-control-allow-origin": allowed}
        if cors.expose_headers:
            headers["access-control-expose-headers"] = ",".join(cors.expose_headers)
        if cors.allow_credentials:
            headers["access-control-allow-credentials"] = "true"
        return headers

    def _preflight(self, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        assert self.plan.cors is not None
        cors = self.plan.cors
        out = self._cors_headers(headers.get("origin"))
        if not out:
            return 204, {}, b""
        method = headers.get("access-control-request-method", "").upper()
        if "*" not in cors.allow_methods and method not in cors.allow_methods:
            return 204, {}, b""
        out["access-control-allow-methods"] = ",".join(cors.allow_methods)
        out["access-control-allow-headers"] = ",".join(cors.allow_headers)
        if cors.max_age is not None:
            out["access-control-max-age"] = str(cors.max_age)
        return 204, out, b""


def serve(api: HttpApi, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers: dict[str, str] = {}
            for key, value in self.headers.items():
                key = key.lower()
                headers[key] = f"{headers[key]},{value}" if key in headers else value
            started = time.monotonic()
            try:
                status, out_headers, out_body = api.handle(
                    self.command, self.path, headers, body, self.client_address[0]
                )
            except Exception:
                log.exception("local API failed on %s %s", self.command, self.path)
                status, out_headers, out_body = _json(
                    500, _gateway_error("Internal Server Error", INTERNAL_DETAIL)
                )
            self.send_response(status)
            for key, value in out_headers.items():
                if key not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(key, value)
            self.send_header("content-length", str(len(out_body)))
            self.send_header("apigw-requestid", str(uuid.uuid4()))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(out_body)
            log.info(
                "%s %s -> %s (%.0f ms)", self.command, self.path, status, (time.monotonic() - started) * 1000
            )

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
