"""The Studio page as a person uses it, in headless Chromium against the offline stack."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
import urllib.error
import urllib.parse
import urllib.request
import wave
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.browser.conftest import axe_violations, shoot, sign_in
from tests.images import encode

pytestmark = pytest.mark.browser
X = "\N{MULTIPLICATION SIGN}"  # the page writes sizes with it


def photo(tmp_path: Path, name: str = "photo.jpg", size: tuple[int, int] = (1600, 1000)) -> Path:
    """A landscape photo with a clear subject right of centre."""
    im = Image.new("RGB", size, (120, 170, 210))
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, size[1] * 2 // 3, size[0], size[1]), fill=(70, 120, 60))
    draw.ellipse((1000, 300, 1300, 600), fill=(220, 60, 50))
    path = tmp_path / name
    path.write_bytes(encode(im, "JPEG", quality=90))
    return path


def speech(tmp_path: Path, seconds: int) -> Path:
    """A WAV of a tone, as long as asked."""
    path = tmp_path / "speech.wav"
    rate = 16_000
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        tone = (int(8000 * math.sin(2 * math.pi * 220 * i / rate)) for i in range(rate * seconds))
        w.writeframes(b"".join(struct.pack("<h", v) for v in tone))
    return path


def api_get(base: str, path: str, token: str) -> Any:
    req = urllib.request.Request(
        f"{base}/api/image-studio/{path}", headers={"authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def until(page: Any, script: str, arg: Any = None, timeout_ms: int = 15_000) -> None:
    """Wait for a page expression (the page's CSP forbids wait_for_function's eval)."""
    for _ in range(timeout_ms // 100):
        if page.evaluate(script, arg):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {timeout_ms} ms: {script}")


def token_of(page: Any) -> str:
    return str(page.evaluate("JSON.parse(sessionStorage.getItem('studio.session')).token"))


def test_sign_in_create_and_see_the_image(studio_url: str, page: Any) -> None:
    page.goto(studio_url + "/studio/")
    page.get_by_role("heading", name="Sign in").wait_for()
    assert axe_violations(page) == []
    shoot(page, "01-sign-in")
    sign_in(page, studio_url, "ann")
    create = page.locator("#panel-create")

    create.get_by_label("Platform").select_option("instagram")
    create.get_by_label("Template").select_option("instagram_story")
    page.get_by_text(f"Exact size: 1080 {X} 1920 px (9:16)").wait_for()
    create.get_by_label("Quality").select_option("draft")
    create.get_by_label("Variations").fill("2")
    create.get_by_label("Variations").dispatch_event("change")
    estimate = create.locator(".estimate")
    estimate.filter(has_text=re.compile(r"Cost: 10 credits .* you have 200 credits left")).wait_for()
    create.get_by_label("Prompt").fill("A red bicycle against a white wall, morning light")
    create.get_by_role("button", name="Generate").click()

    page.get_by_text(re.compile(r"Done: 2 result\(s\), 10 credits charged")).wait_for()
    cards = create.locator(".gallery figure.card")
    assert cards.count() == 2
    image = cards.first.locator("img")
    image.wait_for()
    until(page, "img => img.complete && img.naturalWidth > 0", image.element_handle())
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [1080, 1920]
    assert f"1080 {X} 1920 · PNG" in cards.first.inner_text()
    page.locator("#credits-badge").filter(has_text="190 credits").wait_for()
    # the estimate now counts what is left
    estimate.filter(has_text="you have 190 credits left").wait_for()
    assert axe_violations(page) == []
    shoot(page, "02-create-gallery")

    # Saved to a new collection, then found in the Library by that collection.
    first = cards.first
    first.get_by_text("Save to collection").click()
    first.get_by_label("New collection").fill("Spring launch")
    first.get_by_role("button", name="Save").click()
    first.get_by_text("Saved to Spring launch.").wait_for()
    page.get_by_role("tab", name="Library", exact=True).click()
    page.get_by_role("complementary").get_by_text("Spring launch (1)").wait_for()
    library = page.locator("#panel-library")
    library.get_by_label("Collection", exact=True).select_option(label="Spring launch")
    library.get_by_role("button", name="Search").click()
    until(page, "() => document.querySelectorAll('.library figure.card').length === 1")
    assert axe_violations(page) == []
    shoot(page, "03-library")

    # The tabs work from the keyboard: arrows move between studios, Home goes back to the first.
    page.get_by_role("tab", name="Library", exact=True).focus()
    page.keyboard.press("ArrowRight")
    credits_tab = page.get_by_role("tab", name="Credits", exact=True)
    assert credits_tab.get_attribute("aria-selected") == "true"
    assert page.evaluate("document.activeElement.id") == "tab-credits"
    page.get_by_text("credits available").wait_for()
    page.keyboard.press("Home")
    assert page.get_by_role("tab", name="Create", exact=True).get_attribute("aria-selected") == "true"

    # At phone width every control is still on the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("tab", name="Create", exact=True).click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []
    shoot(page, "04-create-phone")


def test_social_export_of_a_photo_shows_every_format(studio_url: str, page: Any, tmp_path: Path) -> None:
    sign_in(page, studio_url, "sam")
    page.get_by_role("tab", name="Social", exact=True).click()
    social = page.locator("#panel-social")
    social.get_by_role("checkbox", name="instagram").wait_for()

    # Dropped on the drop zone, as a person drags a file from the desktop.
    data = base64.b64encode(photo(tmp_path).read_bytes()).decode()
    transfer = page.evaluate_handle(
        """b64 => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], 'photo.jpg', {type: 'image/jpeg'}));
            return dt;
        }""",
        data,
    )
    drop = page.locator("#panel-social .drop")
    drop.dispatch_event("drop", {"dataTransfer": transfer})
    page.get_by_text(re.compile(rf"Uploaded photo\.jpg \(1600 {X} 1000")).wait_for()
    progress = page.locator("#panel-social progress").first
    assert progress.evaluate("p => p.value") == 100

    # The focal point is set by clicking the photo where the subject is.
    focal = page.get_by_role("img", name="Click where the subject is to set the focal point")
    box = focal.bounding_box()
    assert box is not None
    focal.click(position={"x": box["width"] * 0.72, "y": box["height"] * 0.45})
    assert social.get_by_role("checkbox", name="Use this focal point").is_checked()
    assert social.get_by_label("Focal x (%)").input_value() == "72"
    assert page.locator(".focal-marker").is_visible()

    social.get_by_role("button", name="Export", exact=True).click()
    page.get_by_text(re.compile(r"^\d+ formats ready\.")).wait_for(timeout=60_000)
    social.get_by_text("The crops followed your focal point.").wait_for()
    assert page.locator(".subject-box").is_hidden()

    # Without the focal point, smart crop shows what it followed over the photo: the subject (dashed),
    # and the part kept first (solid), here the red disc at x 1000-1300, y 300-600.
    social.get_by_role("checkbox", name="Use this focal point").uncheck()
    assert page.locator(".focal-marker").is_hidden()  # a point not used is not shown
    social.get_by_role("button", name="Export", exact=True).click()
    social.get_by_text(re.compile(r"^Smart crop followed the dashed box")).wait_for(timeout=60_000)
    assert (
        "Smart crop" not in social.get_by_text(re.compile(r"^\d+ formats ready\.")).inner_text()
    )  # said once

    def drawn(selector: str) -> tuple[float, float, float, float]:
        """The element's box in fractions of the photo's (both measured now: the page scrolls)."""
        rect, shown = page.locator(selector).bounding_box(), focal.bounding_box()
        assert rect is not None and shown is not None, selector
        left, top = (rect["x"] - shown["x"]) / shown["width"], (rect["y"] - shown["y"]) / shown["height"]
        return left, top, left + rect["width"] / shown["width"], top + rect["height"] / shown["height"]

    core, subject = drawn(".subject-core"), drawn(".subject-box")
    page.evaluate("() => document.querySelector('fieldset.focal').scrollIntoView()")
    shoot(page, "05a-social-followed", full_page=False)
    assert 0.55 < core[0] < 1000 / 1600 + 0.01 and 1300 / 1600 - 0.01 < core[2] < 0.9, core
    assert 0.2 < core[1] < 300 / 1000 + 0.01 and 600 / 1000 - 0.01 < core[3] < 0.7, core
    assert all(subject[i] <= core[i] + 0.005 for i in (0, 1)) and all(
        subject[i] >= core[i] - 0.005 for i in (2, 3)
    )

    token = token_of(page)
    platforms = sorted({t["platform"] for t in api_get(studio_url, "templates", token)["templates"]})
    expected = []
    for name in platforms:
        for f in api_get(studio_url, f"social/platforms/{name}/formats", token)["formats"]:
            expected.append((name, f["name"], f["width"], f["height"]))
    figures = page.locator(".formats figure.format")
    assert figures.count() == len(expected)
    shown = figures.evaluate_all(
        """figs => figs.map(f => {
            const frame = f.querySelector('.aspect').getBoundingClientRect();
            const img = f.querySelector('img');
            return {caption: f.querySelector('strong').textContent, ratio: frame.width / frame.height,
                    natural: img.naturalWidth ? img.naturalWidth / img.naturalHeight : null,
                    safe: getComputedStyle(f.querySelector('.safe-zone')).display !== 'none'};
        })"""
    )
    for (name, fmt, width, height), cell in zip(expected, shown, strict=True):
        assert cell["caption"] == f"{name}: {fmt}"
        assert cell["ratio"] == pytest.approx(width / height, rel=0.02)
        assert cell["safe"], f"{name} {fmt} has no safe-zone overlay"
    until(
        page, "() => [...document.querySelectorAll('.formats img')].every(i => i.complete && i.naturalWidth)"
    )
    assert page.get_by_role("link", name=f"Download all {len(expected)} as a zip").is_visible()
    assert page.get_by_role(
        "link", name=f"Download {expected[0][0]} {expected[0][1]}", exact=True
    ).is_visible()
    assert axe_violations(page) == []
    shoot(page, "05-social-export")
    page.evaluate("() => window.scrollTo(0, document.querySelector('.bundle').offsetTop - 40)")
    page.wait_for_timeout(300)
    shoot(page, "05b-social-grid", full_page=False)

    social.get_by_role("checkbox", name="Show safe zones").uncheck()
    assert page.locator(".safe-zone").first.evaluate("z => getComputedStyle(z).display") == "none"

    # On a phone the grid is two columns and nothing runs off the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    columns = figures.evaluate_all("fs => new Set(fs.map(f => Math.round(f.getBoundingClientRect().x))).size")
    assert columns == 2
    assert axe_violations(page) == []


def test_batch_csv_with_a_bad_row_shows_it_then_runs_to_the_end(
    studio_url: str, page: Any, tmp_path: Path
) -> None:
    sign_in(page, studio_url, "bea")
    page.get_by_role("tab", name="Batches", exact=True).click()
    tab = page = page.locator("#panel-batches")  # every control below is in the Batches panel
    csv = tmp_path / "campaign.csv"
    csv.write_text(
        "operation,prompt,quality,num_variations\n"
        "create,a blue cup on a desk,draft,1\n"
        "create,,draft,1\n"
        "create,a green hat,draft,1\n"
    )
    page.get_by_label("CSV file").set_input_files(str(csv))
    page.get_by_label("Batch name").fill("Spring cups")
    page.get_by_role("button", name="Preview (dry run)").click()

    errors = page.get_by_role("table", name="Rows with errors")
    errors.wait_for()
    assert errors.locator("tbody tr").all_inner_texts() == ["3\tprompt\tcreate rows need 'prompt'."]
    assert page.get_by_text("2 valid row(s), 1 with errors · cost 10 credits").is_visible()
    assert axe_violations(tab.page) == []
    shoot(tab.page, "06-batch-preview")

    page.get_by_role("button", name="Run now").click()
    # Without skipping, the API refuses and says why.
    page.get_by_role("alert").filter(has_text="1 row(s) are invalid (rows 3)").wait_for()
    page.get_by_label("Skip invalid rows").check()
    page.get_by_role("button", name="Run now").click()

    panel = page.locator("section.job").first
    seen = set()
    for _ in range(240):
        text = panel.locator("p[role=status]").inner_text()
        seen.add(text.split(" · ")[1] if " · " in text else text)
        if panel.get_attribute("data-status") in ("succeeded", "partial", "failed"):
            break
        tab.page.wait_for_timeout(250)
    # The status may turn final between two reads of the text: the final text is read once more.
    final = panel.locator("p[role=status]").inner_text()
    seen.add(final.split(" · ")[1] if " · " in final else final)
    # The skipped row makes the batch partial: both rows that ran succeeded.
    assert panel.get_attribute("data-status") == "partial", panel.inner_text()
    assert "2 of 2 rows done (100%)" in seen
    assert "2 succeeded, 0 failed, 1 skipped" in panel.inner_text()
    assert panel.locator("progress").evaluate("p => p.value") == 100
    rows = panel.get_by_role("table", name="Rows").locator("tbody tr").all_inner_texts()
    assert [r.split("\t")[:3] for r in rows] == [["2", "succeeded", "5"], ["4", "succeeded", "5"]]
    assert panel.get_by_role("link", name="Download the manifest (CSV)").is_visible()
    manifest = panel.get_by_role("link", name="Download the manifest (CSV)").get_attribute("href")
    assert manifest is not None
    with urllib.request.urlopen(manifest, timeout=10) as resp:
        assert resp.read().decode().count("succeeded") == 2
    history = page.get_by_role("table", name="Your batches")
    history.get_by_text("Spring cups").wait_for()
    assert axe_violations(tab.page) == []
    shoot(tab.page, "07-batch-done")

    # The same rows, scheduled for tomorrow morning instead of now.
    page.get_by_role("button", name="Preview (dry run)").click()
    page.get_by_role("button", name="Schedule").wait_for(state="visible")
    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT09:00")
    page.get_by_label("Run at (for Schedule)").fill(tomorrow)
    page.get_by_label("Batch name").fill("Tomorrow's cups")
    page.get_by_role("button", name="Schedule").click()
    page.get_by_text(re.compile(r"^Scheduled for ")).wait_for()
    scheduled = page.locator("section.job", has_text="Tomorrow's cups")
    scheduled.get_by_text(re.compile(r"Status: scheduled .* runs at ")).wait_for()
    history.locator("tr", has_text="Tomorrow's cups").get_by_text("scheduled").wait_for()
    # Paused, then cancelled before it ever runs.
    scheduled.get_by_role("button", name="Pause").click()
    scheduled.get_by_text(re.compile(r"^Status: paused ")).wait_for()
    assert scheduled.get_by_role("button", name="Resume").is_visible()
    scheduled.get_by_role("button", name="Cancel batch").click()
    canceled = re.compile(r"^Status: canceled · .* 0 succeeded, 0 failed, 2 canceled, 1 skipped · 0 credits")
    scheduled.get_by_text(canceled).wait_for()
    assert scheduled.get_by_role("button", name="Cancel batch").is_hidden()
    history.locator("tr", has_text="Tomorrow's cups").get_by_text("canceled").wait_for()


def test_cancelling_a_job_returns_its_credits_in_the_credits_view(
    studio_url: str, page: Any, tmp_path: Path
) -> None:
    sign_in(page, studio_url, "cal")
    page.get_by_role("tab", name="Credits", exact=True).click()
    page.get_by_text("200 credits available").wait_for()

    page.get_by_role("tab", name="Transform", exact=True).click()
    page.locator("#panel-transform").get_by_label("Image", exact=True).set_input_files(str(photo(tmp_path)))
    page.get_by_text("Uploaded photo.jpg").wait_for()
    transform = page.locator("#panel-transform")
    # A talking avatar is priced by the speech's length: the cost shows once the speech is in.
    transform.get_by_label("Turn the image into").select_option("talking-avatar")
    transform.get_by_text("Add the speech to see the cost").wait_for()
    transform.get_by_label("Speech (WAV or MP3)").set_input_files(str(speech(tmp_path, seconds=6)))
    transform.get_by_text("Uploaded speech.wav").wait_for()
    transform.get_by_text(re.compile(r"^Cost: \d+ credits .* reserved now")).wait_for()
    transform.get_by_label("Turn the image into").select_option("image-to-video")
    transform.get_by_label("Resolution").select_option("480p")
    transform.get_by_text("Cost: 25 credits").wait_for()
    transform.get_by_role("button", name="Start").click()
    job = page.locator("section.job").first
    job.get_by_text(re.compile(r"Status: (queued|running) .* 25 credits reserved")).wait_for()
    page.locator("#credits-badge").filter(has_text="175 credits").wait_for()
    assert axe_violations(page) == []
    shoot(page, "08-transform-running")
    job.get_by_role("button", name="Cancel job").click()
    job.get_by_text("Canceled: 25 reserved credits went back to your balance.").wait_for()
    assert job.get_attribute("data-status") == "canceled"
    page.locator("#credits-badge").filter(has_text="200 credits").wait_for()

    page.get_by_role("tab", name="Credits", exact=True).click()
    page.get_by_text("200 credits available").wait_for()
    ledger = page.get_by_role("table", name="Every credit movement, newest first")
    ledger.get_by_text("release").wait_for()
    kinds = ledger.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert kinds[:2] == ["release", "reserve"], kinds
    release = ledger.locator("tbody tr").first.locator("td").all_inner_texts()
    # kind, balance change (a release moves credits from reserved back to available), amount, why, after
    assert release[1:] == ["release", "0", "25", "canceled by the user", "200", "0"], release
    assert page.get_by_text("0 reserved by running jobs").is_visible()
    assert axe_violations(page) == []
    shoot(page, "09-credits-after-cancel")


def test_api_errors_are_shown_with_their_message(studio_url: str, page: Any, tmp_path: Path) -> None:
    sign_in(page, studio_url, "eve")
    # A real refusal: search and replace without saying what to find.
    page.get_by_role("tab", name="Edit", exact=True).click()
    page.locator("#panel-edit").get_by_label("Image to edit").set_input_files(str(photo(tmp_path)))
    page.get_by_text("Uploaded photo.jpg").wait_for()
    page.locator("#panel-edit").get_by_label("Operation").select_option("search_replace")
    page.locator("#panel-edit").get_by_label("Prompt").fill("a yellow ball")
    page.locator("#panel-edit").get_by_role("button", name="Apply edit").click()
    alert = page.locator("#panel-edit").get_by_role("alert")
    alert.wait_for()
    assert "search_prompt" in alert.inner_text()
    shoot(page, "10a-api-error-edit")

    # What the API says when the balance is short, word for word.
    message = "This needs 10 credits and you have 3: choose Draft quality or top up."
    page.route(
        "**/api/image-studio/create",
        lambda route: route.fulfill(
            status=402,
            content_type="application/json",
            body=json.dumps({"error": {"code": "insufficient_credits", "message": message, "details": {}}}),
        ),
    )
    page.get_by_role("tab", name="Create", exact=True).click()
    create = page.locator("#panel-create")
    create.get_by_label("Prompt").fill("a lighthouse at dusk")
    create.get_by_role("button", name="Generate").click()
    create.get_by_role("alert").filter(has_text=message).wait_for()
    assert create.get_by_role("button", name="Generate").is_enabled()
    shoot(page, "10-api-error")

    # Signing out leaves nothing of this user on the page for the next one.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    sign_in(page, studio_url, "fay")
    page.locator("#credits-badge").filter(has_text="200 credits").wait_for()
    assert page.locator("#panel-create").get_by_label("Prompt").input_value() == ""
    assert page.locator("#panel-edit .input-preview img").count() == 0


def test_one_image_through_edit_upscale_transform_and_the_library(studio_url: str, page: Any) -> None:
    sign_in(page, studio_url, "ida")
    create = page.locator("#panel-create")
    create.get_by_label("Width (px)").fill("512")
    create.get_by_label("Height (px)").fill("512")
    create.get_by_label("Quality").select_option("draft")
    create.get_by_label("Prompt").fill("A ceramic vase on a wooden table")
    create.get_by_role("button", name="Generate").click()
    create.get_by_text("Done: 1 result(s)").wait_for()
    create.get_by_role("button", name="Use as input").click()

    # Edit: inpaint where the mask is painted on the image.
    page.get_by_role("tab", name="Edit", exact=True).click()
    edit = page.locator("#panel-edit")
    edit.get_by_text(f"512 {X} 512 · PNG").wait_for()
    canvas = edit.get_by_label("Mask: paint over the area to change")
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6, steps=8)
    page.mouse.up()
    edit.get_by_text(re.compile(r"^Cost: \d+ credits .* you have 195 credits left$")).wait_for()
    edit.get_by_label("Prompt").fill("a yellow flower")
    edit.get_by_role("button", name="Apply edit").click()
    edit.get_by_text(re.compile(r"Done: 1 result\(s\), \d+ credits charged")).wait_for()
    assert edit.locator("figure.compare").count() == 1
    assert axe_violations(page) == []

    # Upscale: before and after, split by a slider.
    page.get_by_role("tab", name="Upscale", exact=True).click()
    upscale = page.locator("#panel-upscale")
    upscale.get_by_label("Mode").select_option("fast")
    upscale.get_by_text(re.compile(r"^Cost: 2 credits \(US\$0\.02\) with .* credits left$")).wait_for()
    upscale.get_by_role("button", name="Upscale", exact=True).click()
    upscale.get_by_text(re.compile(r"Done: 1 result\(s\)")).wait_for()
    assert f"2048 {X} 2048" in upscale.locator("figure.card").first.inner_text()
    upscale.get_by_label("Before / after").fill("20")
    split = upscale.locator(".compare-top").evaluate("e => e.style.getPropertyValue('--split')")
    assert split == "20%"
    assert axe_violations(page) == []
    shoot(page, "11-upscale-before-after")
    # Creative upscale runs as a job (202): followed in the page while the other studios work.
    upscale.get_by_label("Mode").select_option("creative")
    upscale.get_by_text(re.compile(r"^Cost: 60 credits")).wait_for()
    upscale.get_by_role("button", name="Upscale", exact=True).click()
    upscale.get_by_text("Running as a job: follow it below.").wait_for()
    creative = upscale.locator("section.job")
    creative.get_by_text(re.compile(r"Status: (queued|running) .* 60 credits reserved")).wait_for()

    # Control: a sketch of the same image turned into a new one.
    page.get_by_role("tab", name="Control", exact=True).click()
    control = page.locator("#panel-control")
    control.get_by_label("Prompt").fill("a watercolour vase")
    control.get_by_role("button", name="Generate").click()
    control.get_by_text(re.compile(r"Done: 1 result\(s\)")).wait_for()
    assert control.locator("figure.card img").count() == 1

    # Transform: a video and a 3D model. The job view lists its outputs with their download URLs, as
    # the synchronous answers do, so the page shows them without looking any asset up.
    lookups: list[str] = []
    page.on("request", lambda r: "/api/image-studio/assets/" in r.url and lookups.append(r.url))
    page.get_by_role("tab", name="Transform", exact=True).click()
    transform = page.locator("#panel-transform")
    transform.get_by_label("Resolution").select_option("480p")
    transform.get_by_role("button", name="Start").click()
    video_job = transform.locator("section.job", has_text="image-to-video job")
    video_job.wait_for()
    transform.get_by_label("Turn the image into").select_option("image-to-3d")
    transform.get_by_role("button", name="Start").click()
    model_job = transform.locator("section.job", has_text="image-to-3d job")

    video_job.get_by_text("Done: 1 output(s).").wait_for(timeout=90_000)
    assert video_job.get_attribute("data-status") == "succeeded"
    result = video_job.locator("figure.card .frame > *").first
    assert result.evaluate("e => e.tagName") in ("VIDEO", "IMG")
    until(page, "e => e.tagName === 'VIDEO' ? e.readyState > 0 : e.naturalWidth > 0", result.element_handle())
    model_job.get_by_text("Done: 1 output(s).").wait_for(timeout=90_000)
    glb = model_job.get_by_role("link", name=re.compile(r"Download image-to-3d result 1 \(model."))
    assert glb.is_visible()
    assert lookups == [], "the job view carries its outputs' URLs: no asset lookups"
    shoot(page, "12-transform-video")

    page.get_by_role("tab", name="Upscale", exact=True).click()
    creative.get_by_text("Done: 1 output(s).").wait_for(timeout=90_000)
    assert creative.locator("figure.card img").count() == 1

    # Library: favourite, versions, a share link with an expiry, then revoked.
    page.get_by_role("tab", name="Library", exact=True).click()
    library = page.locator("#panel-library")
    cards = library.locator(".library figure.card")
    cards.first.wait_for()
    assert cards.count() == 7  # created, edited, upscaled twice, controlled, video, 3D model
    upscaled = cards.filter(has_text=f"2048 {X} 2048").last  # the fast one, older
    favourite = upscaled.get_by_role("button", name="☆ Favourite")
    favourite.click()
    upscaled.get_by_role("button", name="★ Favourite").wait_for()
    assert upscaled.get_by_role("button", name="★ Favourite").get_attribute("aria-pressed") == "true"
    library.get_by_label("Favourites only").check()
    library.get_by_role("button", name="Search").click()
    until(page, "() => document.querySelectorAll('.library figure.card').length === 1")
    cards.first.get_by_role("button", name="Details").click()
    lineage = library.locator(".lineage li")
    lineage.first.wait_for()
    assert lineage.first.inner_text().startswith("made from: ")
    library.get_by_label("Link expires after").select_option("86400")
    library.get_by_role("button", name="Create share link").click()
    library.get_by_text("Share link created.").wait_for()
    link = library.locator(".detail a.share-api").get_attribute("href")
    viewer_link = library.locator(".detail a.share-viewer").get_attribute("href")
    assert link is not None and viewer_link is not None
    with urllib.request.urlopen(link, timeout=10) as resp:
        assert resp.status == 200
    shoot(page, "13-library-share")
    # Anyone with the link sees the image without signing in.
    viewer = page.context.browser.new_context().new_page()
    viewer.goto(viewer_link)
    shared = viewer.get_by_role("figure").locator("img")
    shared.wait_for()
    until(viewer, "img => img.complete && img.naturalWidth === 2048", shared.element_handle())
    assert viewer.get_by_text(re.compile(r"1 item\(s\) · the link works until ")).is_visible()
    assert axe_violations(viewer) == []
    shoot(viewer, "13b-share-viewer")
    assert axe_violations(page) == []
    page.get_by_role("button", name=re.compile("^Revoke the link")).click()
    library.get_by_text("Link revoked: it now answers 404.").wait_for()
    library.get_by_text(re.compile("revoked or expired")).wait_for()
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(link, timeout=10)
    assert gone.value.code == 404
    viewer.reload()
    viewer.get_by_role("alert").filter(has_text="This link has expired or was revoked.").wait_for()
    assert viewer.get_by_role("figure").count() == 0
    viewer.context.close()


def test_new_studio_tabs_appear_only_where_the_api_serves_them(
    studio_url: str, page: Any, tmp_path: Path
) -> None:
    with urllib.request.urlopen(f"{studio_url}/api/image-studio/openapi.json", timeout=30) as resp:
        spec = json.loads(resp.read())
    sign_in(page, studio_url, "noa")
    page.get_by_role("tab", name="Library", exact=True).wait_for()
    served = "/api/image-studio/compress" in spec["paths"]
    assert page.get_by_role("tab", name="Compress", exact=True).count() == (1 if served else 0)

    # A stack that serves compress: the tab's form is the route's own request schema.
    spec["paths"]["/api/image-studio/compress"] = {
        "post": {
            "requestBody": {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompressTest"}}}
            }
        }
    }
    spec["components"]["schemas"]["CompressTest"] = {
        "type": "object",
        "properties": {
            "image": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "asset_id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "quality": {"type": "integer", "minimum": 1, "maximum": 100, "title": "Quality", "default": 80},
            "output_format": {"type": "string", "enum": ["jpeg", "webp"], "title": "Output format"},
            "strip_metadata": {"type": "boolean", "title": "Strip metadata", "default": True},
        },
        "required": ["output_format"],
    }
    sent: list[dict[str, Any]] = []

    def compress(route: Any) -> None:
        body = route.request.post_data_json
        sent.append(body)
        asset = api_get(studio_url, f"assets/{body['asset_id']}", token_of(page))
        route.fulfill(
            status=200,
            json={
                "job_id": "job-1",
                "status": "succeeded",
                "operation": "compress",
                "credits_charged": 0,
                "outputs": [
                    {
                        "asset_id": "compressed-1",
                        "url": asset["download_url"],
                        "width": asset["width"],
                        "height": asset["height"],
                        "mime": "image/webp",
                        "bytes": asset["bytes"] // 4,
                    }
                ],
                "failures": [],
            },
        )

    page.route("**/api/image-studio/openapi.json", lambda route: route.fulfill(json=spec))
    page.route("**/api/image-studio/compress", compress)
    page.reload()
    page.get_by_role("tab", name="Compress", exact=True).click()
    panel = page.locator("#panel-compress")
    panel.get_by_label("Image").set_input_files(str(photo(tmp_path)))
    panel.get_by_text("Uploaded photo.jpg").wait_for()
    panel.get_by_label("Quality").fill("60")
    panel.get_by_label("Output format").select_option("webp")
    panel.get_by_role("button", name="Compress", exact=True).click()
    panel.get_by_text(re.compile(r"→ .*: 75% smaller\.")).wait_for()
    assert sent[0]["quality"] == 60 and sent[0]["output_format"] == "webp" and sent[0]["strip_metadata"]
    assert set(sent[0]) == {"asset_id", "quality", "output_format", "strip_metadata"}
    assert panel.locator("figure.compare").count() == 1
    assert axe_violations(page) == []
    shoot(page, "14-new-studio-compress")


def test_hosted_ui_sign_in_with_pkce_as_deployed(studio_url: str, page: Any) -> None:
    """The deployed sign-in (config.json from the stack), the hosted UI played by routes here."""
    idp = "https://auth.example.test"
    config = {
        "api_base": "",
        "auth": {
            "mode": "oidc",
            "client_id": "studio-client",
            "scope": "openid email profile",
            "authorize_endpoint": f"{idp}/oauth2/authorize",
            "token_endpoint": f"{idp}/oauth2/token",
            "logout_endpoint": f"{idp}/logout",
        },
    }
    seen: dict[str, str] = {}

    def authorize(route: Any) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(route.request.url).query))
        seen.update(query)
        back = f"{query['redirect_uri']}?code=the-code&state={query['state']}"
        route.fulfill(status=302, headers={"location": back})

    def token(route: Any) -> None:
        form = dict(urllib.parse.parse_qsl(route.request.post_data or ""))
        digest = hashlib.sha256(form["code_verifier"].encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        ok = form["code"] == "the-code" and challenge == seen["code_challenge"]
        dev = urllib.request.Request(
            f"{studio_url}/_local/dev-token", data=b'{"user": "olga"}', method="POST"
        )
        with urllib.request.urlopen(dev, timeout=10) as resp:
            id_token = json.loads(resp.read())["token"]
        route.fulfill(
            status=200 if ok else 400,
            headers={"access-control-allow-origin": "*"},
            json={"id_token": id_token, "token_type": "Bearer"} if ok else {"error": "invalid_grant"},
        )

    page.route("**/studio/config.json", lambda route: route.fulfill(json=config))
    page.route(f"{idp}/oauth2/authorize*", authorize)
    page.route(f"{idp}/oauth2/token", token)
    logouts: list[str] = []

    def logout(route: Any) -> None:
        logouts.append(route.request.url)
        route.fulfill(status=302, headers={"location": f"{studio_url}/studio/"})

    page.route(f"{idp}/logout*", logout)

    page.goto(studio_url + "/studio/")
    assert page.get_by_label("User name").is_hidden()
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("Signed in as olga@example.com").wait_for()
    assert seen["response_type"] == "code" and seen["client_id"] == "studio-client"
    assert seen["code_challenge_method"] == "S256" and seen["redirect_uri"] == f"{studio_url}/studio/"
    assert "code=" not in page.url  # the code is not left in the address bar
    page.locator("#credits-badge").filter(has_text="200 credits").wait_for()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.evaluate("sessionStorage.getItem('studio.session')") is None
    (ended,) = logouts  # the hosted UI's own session ends too
    assert dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(ended).query)) == {
        "client_id": "studio-client",
        "logout_uri": f"{studio_url}/studio/",
    }
