"""The offline stack's Studio routes: web/ files (never outside it), the config, the dev token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local import studio


@pytest.fixture
def web(tmp_path: Path) -> Path:
    root = tmp_path / "web"
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>Studio</title>")
    (root / "js" / "app.js").write_text("export {};")
    (tmp_path / "secret.txt").write_text("not for the web")
    return root


def test_the_page_and_its_modules_are_served_with_their_types(web: Path) -> None:
    status, headers, body = studio.static_file("/studio/", web)
    assert status == 200 and body.startswith(b"<!doctype html>")
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in headers["content-security-policy"]
    status, headers, _ = studio.static_file("/studio/js/app.js", web)
    assert status == 200 and headers["content-type"] == "text/javascript; charset=utf-8"
    assert studio.static_file("/studio", web)[:2] == (301, {"location": "/studio/"})


@pytest.mark.parametrize("path", ["/studio/../secret.txt", "/studio/js/../../secret.txt", "/studio/nope.js"])
def test_nothing_outside_web_nor_missing_is_served(web: Path, path: str) -> None:
    status, _, body = studio.static_file(path, web)
    assert status == 404 and b"not for the web" not in body


def test_the_repository_page_is_there() -> None:
    status, _, body = studio.static_file("/studio/")
    assert status == 200 and b'src="js/app.js"' in body


def test_config_says_dev_sign_in_on_this_origin() -> None:
    status, _, body = studio.config()
    assert status == 200
    assert json.loads(body) == {"api_base": "", "auth": {"mode": "dev", "token_url": "/_local/dev-token"}}


def test_dev_token_for_a_named_user_and_refusals() -> None:
    issued: list[str] = []

    def issue(user: str) -> str:
        issued.append(user)
        return f"token-for-{user}"

    status, _, body = studio.dev_token(issue, b'{"user": "alice"}')
    assert status == 200 and json.loads(body)["user"] == "alice" and issued == ["alice"]
    assert json.loads(studio.dev_token(issue, b"")[2])["user"] == "dev-user"
    assert studio.dev_token(issue, b'{"user": "../../etc"}')[0] == 400
    assert studio.dev_token(issue, b"not json")[0] == 400
    assert issued == ["alice", "dev-user"]
