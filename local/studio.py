"""The Studio web page offline: web/ served at /studio/, its config, and a one-click dev token.

Deployed, the same files live in a private S3 bucket behind CloudFront (template.yaml), and the
config comes from a CloudFront Function; the dev-token route exists only in the offline stack.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

Reply = tuple[int, dict[str, str], bytes]

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
PREFIX = "/studio"
USER_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
}
# What a page served by us may do: scripts and styles of its own, images and media from anywhere it
# is given a presigned URL (the bucket's endpoint differs offline and deployed).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data: http: https:; "
    "media-src 'self' blob: http: https:; connect-src 'self' http: https:; frame-ancestors 'none'"
)


def _json(status: int, body: Any) -> Reply:
    return (
        status,
        {"content-type": "application/json", "cache-control": "no-store"},
        json.dumps(body).encode(),
    )


def static_file(path: str, root: Path = WEB_ROOT) -> Reply:
    """GET /studio/<path>: a file under web/, never outside it; /studio/ is index.html."""
    if path == PREFIX:
        return 301, {"location": PREFIX + "/"}, b""
    relative = path[len(PREFIX) + 1 :] or "index.html"
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()) or not target.is_file():
        return _json(404, {"message": "Not Found"})
    ctype = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    headers = {
        "content-type": ctype,
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
    }
    if target.suffix == ".html":
        headers["content-security-policy"] = CSP
    return 200, headers, target.read_bytes()


def config() -> Reply:
    """What the page needs to know: the API is this origin and sign-in is the offline dev token."""
    return _json(200, {"api_base": "", "auth": {"mode": "dev", "token_url": "/_local/dev-token"}})


def dev_token(issue: Callable[[str], str], body: bytes) -> Reply:
    """POST /_local/dev-token {"user": "..."}: a dev JWT, as `make token` prints (offline only)."""
    try:
        user = (json.loads(body or b"{}") or {}).get("user") or "dev-user"
    except (ValueError, AttributeError):
        return _json(400, {"message": 'Send JSON like {"user": "dev-user"}.'})
    if not isinstance(user, str) or not USER_NAME.match(user):
        return _json(400, {"message": "A user name is 1-64 letters, digits or . _ @ -."})
    return _json(200, {"token": issue(user), "user": user, "token_type": "Bearer"})
