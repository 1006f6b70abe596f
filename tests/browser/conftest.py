"""The Studio page in a real browser: Debian's chromium driven by Playwright, against `python -m local run`.

One offline stack and one browser per module; each test signs in as its own user (its own credits
and library) in a fresh browser context. Screenshots go to tests/browser/artifacts/ (ignored by git).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# Root on a closed network: no sandbox, and none of Chromium's own background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def studio_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    state = tmp_path_factory.mktemp("studio-state")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    log = (state / "stack.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "local", "run", "--port", str(port), "--state-dir", str(state)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(base + "/studio/", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the local stack did not start:\n" + (state / "stack.log").read_text()[-4000:])
            time.sleep(0.3)
    yield base
    proc.terminate()
    proc.wait(15)
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "chromium is not installed: the browser tests need Debian's package "
            "(apt-get install -y chromium; `make test` installs it)."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -r requirements-dev.txt")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"the page threw: {errors}"


def shoot(page: Any, name: str, *, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in(page: Any, base: str, user: str) -> None:
    page.goto(base + "/studio/")
    page.get_by_label("User name").fill(user)
    page.get_by_role("button", name="Sign in with a dev token").click()
    page.get_by_role("tab", name="Create", exact=True).wait_for()
    page.get_by_text(f"Signed in as {user}@example.com").wait_for()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Served from the page's own origin: its CSP allows scripts from 'self' only.
        page.route(
            "**/studio/__axe__.js",
            lambda route: route.fulfill(body=AXE.read_bytes(), content_type="text/javascript"),
        )
        page.add_script_tag(url="__axe__.js")
    result: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]
