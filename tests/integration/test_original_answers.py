"""The original Image Studio front end's answers (images inline) beside ours, through the HTTP API on moto.

What the original client would notice: `success`, the image it shows (decoded and opened here, at the
size it should be), a 413 with a `detail` it can show when the inline answer could not fit in a
Lambda answer, and that nothing was charged then. Our own answers stay the default.
"""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image

from imagestudio.errors import AnswerTooLarge
from imagestudio.operations.inline_answer import (
    LAMBDA_ANSWER_MAX,
    ensure_inline_fits,
    file_bound,
    inline_bound,
)
from tests.conftest import ApiClient, Deployed
from tests.integration import studio_helpers as studio

pytestmark = pytest.mark.usefixtures("pro_users")
P = studio.P
DATA_URL = re.compile(r"data:(image/[a-z]+);base64,(.+)", re.DOTALL)


def opened(data_url: str) -> tuple[str, Image.Image]:
    match = DATA_URL.fullmatch(data_url)
    assert match, data_url[:60]
    image = Image.open(io.BytesIO(base64.b64decode(match.group(2), validate=True)))
    image.load()
    return match.group(1), image


def raw_image(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64, validate=True)))
    image.load()
    return image


# --- the bound ------------------------------------------------------------------------------------


def test_the_bound_is_above_what_the_worst_image_really_takes() -> None:
    """Noise does not compress: an RGBA noise PNG and an RGB noise JPEG stay under their bound."""
    noise = Image.frombytes("RGBA", (300, 200), bytes((i * 7919) % 251 for i in range(300 * 200 * 4)))
    for fmt, image in (("png", noise), ("jpeg", noise.convert("RGB")), ("webp", noise)):
        out = io.BytesIO()
        image.save(out, fmt.upper(), **({"quality": 95} if fmt != "png" else {}))
        assert len(out.getvalue()) <= file_bound(300, 200, fmt), fmt


def test_the_limit_has_two_sides() -> None:
    """The most variations of 512x512 PNG that fit pass; one more is refused, saying how many fit."""
    n = 1
    while inline_bound([(512, 512)] * (n + 1), "png") <= LAMBDA_ANSWER_MAX:
        n += 1
    ensure_inline_fits([(512, 512)] * n, "png", what="the images")
    with pytest.raises(AnswerTooLarge) as refused:
        ensure_inline_fits([(512, 512)] * (n + 1), "png", what="the images")
    assert refused.value.status == 413 and refused.value.details["fits_outputs"] == n
    assert (
        f"at most {n} output(s)" in refused.value.message and "response_format=url" in refused.value.message
    )
    with pytest.raises(AnswerTooLarge, match="only known once it is made"):
        ensure_inline_fits([(None, None)], "png", what="the image")


# --- create ---------------------------------------------------------------------------------------


def test_create_answers_ours_by_default_and_the_original_when_asked(client: ApiClient) -> None:
    status, ours = client.call(
        "POST", f"{P}/create", user="alice", body={"prompt": "a pear", "width": 96, "height": 80}
    )
    assert status == 200 and ours["outputs"][0]["url"] and "success" not in ours
    before = studio.balance(client, "alice")
    status, body = client.call(
        "POST",
        f"{P}/create",
        user="alice",
        body={"prompt": "a pear", "width": 96, "height": 80, "num_variations": 2, "seed": 11},
        headers={"accept": "application/vnd.imagestudio.original+json"},
    )
    assert status == 200, body
    assert body["success"] is True and body["total_generated"] == 2 and body["total_failed"] == 0
    assert [r["variation"] for r in body["results"]] == [0, 1]
    assert [r["seed"] for r in body["results"]] == [11, 12]
    for result in body["results"]:
        assert raw_image(result["image_base64"]).size == (96, 80)
        assert result["provider"] and result["model"]
    assert body["request"]["provider"] == body["results"][0]["provider"]
    assert studio.balance(client, "alice")[0] == before[0] - body["credits_charged"]


def test_create_that_could_not_fit_is_413_before_any_credit(client: ApiClient) -> None:
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    big = {"prompt": "a pear", "width": 1024, "height": 1024, "response_format": "original"}
    status, body = client.call("POST", f"{P}/create", user="alice", body={**big, "num_variations": 2})
    assert status == 413, body
    assert "at most 1 output(s)" in body["detail"] and "response_format=url" in body["detail"]
    studio.assert_nothing_charged(client, "alice", before, entries)
    status, listed = client.call("GET", f"{P}/jobs", user="alice")
    assert status == 200 and listed["jobs"] == []
    # the other side of the limit: one 1024x1024 PNG fits, and arrives whole
    status, body = client.call("POST", f"{P}/create", user="alice", body=big)
    assert status == 200, body
    assert raw_image(body["results"][0]["image_base64"]).size == (1024, 1024)


# --- edit, control, upscale -----------------------------------------------------------------------


def test_edit_with_the_original_names_answers_a_data_url(client: ApiClient) -> None:
    body = {
        "image_base64": studio.inline(studio.product(200, 150)),
        "operation": "remove_background",
        "options": {},
    }
    status, answer = client.call("POST", f"{P}/edit/process", user="alice", body=body)
    assert status == 200, answer
    assert answer["success"] is True and answer["operation"] == "remove_background" and answer["provider"]
    mime, image = opened(answer["image_base64"])
    assert mime == "image/png" and image.size == (200, 150) == (answer["width"], answer["height"])
    assert answer["metadata"]["asset_id"]
    # our names, no options: our answer
    ours = {"image": body["image_base64"], "operation": "remove_background"}
    status, answer = client.call("POST", f"{P}/edit/process", user="alice", body=ours)
    assert status == 200 and answer["outputs"][0]["url"] and "success" not in answer


def test_edit_options_are_applied_as_fields_or_refused_by_name(client: ApiClient) -> None:
    image = studio.inline(studio.product(120, 90))
    status, answer = client.call(
        "POST",
        f"{P}/edit/process",
        user="alice",
        body={"image": image, "operation": "outpaint", "options": {"expand_left": 30, "seed": 5}},
    )
    assert status == 200, answer
    assert opened(answer["image_base64"])[1].size == (150, 90)  # options is the original's: its answer
    status, job = client.call("GET", f"{P}/jobs/{answer['job_id']}", user="alice")
    assert status == 200 and job["inputs"]["seed"] == 5 and job["inputs"]["left"] == 30
    status, refused = client.call(
        "POST",
        f"{P}/edit/process",
        user="alice",
        body={"image": image, "operation": "outpaint", "options": {"strength": 1}},
    )
    assert status == 422 and "'strength'" in refused["detail"]
    status, refused = client.call(
        "POST",
        f"{P}/edit/process",
        user="alice",
        body={"image": image, "operation": "outpaint", "left": 10, "options": {"left": 20}},
    )
    assert status == 422 and "give it once" in refused["detail"]


def test_outpaint_takes_the_original_expand_names(client: ApiClient) -> None:
    body = {
        "image_base64": studio.inline(studio.product(120, 90)),
        "operation": "outpaint",
        "expand_right": 40,
        "expand_down": 10,
    }
    status, answer = client.call("POST", f"{P}/edit/process", user="alice", body=body)
    assert status == 200, answer
    assert opened(answer["image_base64"])[1].size == (160, 100)


def test_control_process_is_control_at_the_original_path(client: ApiClient) -> None:
    body = {
        "control_image_base64": studio.inline(studio.product(256, 192)),
        "operation": "sketch",
        "prompt": "a lighthouse",
    }
    status, answer = client.call("POST", f"{P}/control/process", user="alice", body=body)
    assert status == 200, answer
    assert answer["success"] is True and answer["operation"] == "sketch"
    assert opened(answer["image_base64"])[1].size == (256, 192)
    # the same operation at our path, with our answer when asked
    status, ours = client.call("POST", f"{P}/control", user="alice", body={**body, "response_format": "url"})
    assert status == 200 and ours["outputs"][0]["width"] == 256


def test_upscale_web_preset_could_not_fit_so_nothing_is_charged(client: ApiClient) -> None:
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    body = {"image_base64": studio.inline(studio.product(256, 192)), "mode": "auto", "preset": "web"}
    status, refused = client.call("POST", f"{P}/upscale", user="alice", body=body)
    assert status == 413, refused
    assert "2048x1536 PNG" in refused["detail"] and "response_format=url" in refused["detail"]
    studio.assert_nothing_charged(client, "alice", before, entries)
    status, answer = client.call("POST", f"{P}/upscale", user="alice", body={**body, "preset": "social"})
    assert status == 200, answer
    assert answer["mode"] == "fast" and opened(answer["image_base64"])[1].size == (1080, 810)
    status, ours = client.call("POST", f"{P}/upscale", user="alice", body={**body, "response_format": "url"})
    assert status == 200 and ours["outputs"][0]["width"] == 2048


def test_a_long_job_for_the_original_client_is_an_honest_202(client: ApiClient) -> None:
    body = {"image_base64": studio.inline(studio.product()), "mode": "creative", "prompt": "crisp"}
    status, answer = client.call("POST", f"{P}/upscale", user="alice", body=body)
    assert status == 202, answer
    assert answer["success"] is False and answer["status"] in ("queued", "running")
    assert answer["links"]["status_url"] in answer["detail"] and "long job" in answer["detail"]


# --- social ---------------------------------------------------------------------------------------


def test_social_with_image_base64_answers_every_format_inline(client: ApiClient) -> None:
    body = {
        "image_base64": studio.inline(studio.product(640, 480)),
        "platforms": ["instagram"],
        "format_names": {"instagram": "Feed Post (Square)"},
        "crop_mode": "smart",
        "output_format": "png",
    }
    status, answer = client.call("POST", f"{P}/social/optimize", user="alice", body=body)
    assert status == 200, answer
    assert answer["success"] is True and answer["total_optimized"] == 1
    (result,) = answer["results"]
    mime, image = opened(result["image_base64"])
    assert mime == "image/png" and image.size == (1080, 1080) == (result["width"], result["height"])
    assert result["ratio"] == "1:1" and 0 <= result["safe_zone"]["top"] < 0.5


def test_social_exports_that_could_not_fit_are_413_and_nothing_is_kept(client: ApiClient) -> None:
    noisy = Image.frombytes("RGB", (1200, 1200), bytes((i * 7919) % 251 for i in range(1200 * 1200 * 3)))
    out = io.BytesIO()
    noisy.save(out, "PNG")
    body = {
        "image_base64": studio.inline(out.getvalue()),
        "platforms": ["instagram", "facebook"],
        "all_formats": True,
        "output_format": "png",
    }
    _, before = client.call("GET", f"{P}/assets", user="alice")
    status, refused = client.call("POST", f"{P}/social/optimize", user="alice", body=body)
    assert status == 413, refused
    assert "response_format=url" in refused["detail"]
    _, after = client.call("GET", f"{P}/assets", user="alice")
    assert len(after["assets"]) == len(before["assets"])
    status, ours = client.call(
        "POST", f"{P}/social/optimize", user="alice", body={**body, "response_format": "url"}
    )
    assert status == 200 and len(ours["outputs"]) > 2


# --- save-to-library ------------------------------------------------------------------------------


def test_saving_a_create_result_keeps_it_where_it_is_with_its_jobs_cost(client: ApiClient) -> None:
    status, made = client.call(
        "POST",
        f"{P}/create",
        user="alice",
        body={"prompt": "a plum", "width": 64, "height": 64, "response_format": "original"},
    )
    assert status == 200, made
    result = made["results"][0]
    status, saved = client.call(
        "POST",
        f"{P}/save-to-library",
        user="alice",
        body={
            "image_base64": result["image_base64"],
            "prompt": "a plum",
            "provider": result["provider"],
            "model": result["model"],
            "cost": 99.5,
            "operation": "image-generation",
            "output_format": "png",
        },
    )
    assert status == 200, saved
    (asset,) = saved["assets"]
    assert asset["id"] == result["metadata"]["asset_id"]
    assert asset["cost_credits"] == made["credits_charged"] and asset["metadata"]["saved"] is True
    assert any("cost sent was ignored" in n for n in saved["notes"])
    # another user re-sending the same bytes gets a copy of their own, costing nothing
    status, theirs = client.call(
        "POST",
        f"{P}/save-to-library",
        user="bob",
        body={"image_base64": result["image_base64"], "cost": 3, "operation": "image-generation"},
    )
    assert status == 200 and theirs["assets"][0]["id"] != asset["id"]
    assert theirs["assets"][0]["cost_credits"] == 0 and theirs["assets"][0]["source"] == "generated"


def test_save_refuses_an_unknown_operation_by_name(client: ApiClient) -> None:
    status, refused = client.call(
        "POST",
        f"{P}/save-to-library",
        user="alice",
        body={"image_base64": studio.inline(studio.product(40, 30)), "operation": "painting"},
    )
    assert status == 422 and "image-generation" in refused["detail"]


# --- the document ---------------------------------------------------------------------------------


def test_the_openapi_document_describes_both_shapes(deployed: Deployed, client: ApiClient) -> None:
    status, spec = client.call("GET", f"{P}/openapi.json")
    assert status == 200
    schemas = spec["components"]["schemas"]
    assert {"OriginalCreateAnswer", "OriginalStudioAnswer", "OriginalPending", "OriginalSocialAnswer"} <= set(
        schemas
    )
    create = spec["paths"][f"{P}/create"]["post"]["responses"]
    refs = {
        r["$ref"].rsplit("/", 1)[1] for r in create["200"]["content"]["application/json"]["schema"]["anyOf"]
    }
    assert refs == {"OperationResponse", "OriginalCreateAnswer"} and "413" in create
    assert "post" in spec["paths"][f"{P}/control/process"]
    assert "original" in schemas["CreateRequest"]["properties"]["response_format"]["enum"]


def test_a_replayed_original_answer_is_the_same_image_charged_once(client: ApiClient) -> None:
    body = {
        "image_base64": studio.inline(studio.product(160, 120)),
        "operation": "remove_background",
        "options": {},
    }
    headers = {"idempotency-key": "original-replay-0001"}
    status, first = client.call("POST", f"{P}/edit/process", user="alice", body=body, headers=headers)
    assert status == 200, first
    after_first = studio.balance(client, "alice")
    status, second = client.call("POST", f"{P}/edit/process", user="alice", body=body, headers=headers)
    assert status == 200, second
    assert second["image_base64"] == first["image_base64"] and second["job_id"] == first["job_id"]
    assert studio.balance(client, "alice") == after_first
