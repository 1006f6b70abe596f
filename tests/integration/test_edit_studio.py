"""Edit Studio through the HTTP API on moto with the offline provider: the files themselves, the money."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image, ImageChops

from tests.conftest import ApiClient, Deployed, api_event
from tests.integration import studio_helpers as studio

pytestmark = pytest.mark.usefixtures("pro_users")


def edit(client: ApiClient, user: str = "alice", **body: object) -> tuple[int, dict]:
    return client.call("POST", f"{studio.P}/edit/process", user=user, body=body)


# ----------------------------------------------------------------------------- the sample events


def test_remove_background_makes_a_png_with_transparent_corners(
    deployed: Deployed, client: ApiClient
) -> None:
    before = studio.balance(client, "user-alice")
    status, body = deployed.http("EditFunction", api_event("edit/remove_background"))
    assert status == 200, body
    assert body["status"] == "succeeded" and body["operation"] == "edit"
    out = body["outputs"][0]
    assert out["mime"] == "image/png" and (out["width"], out["height"]) == (128, 96)
    assert out["url"].startswith("http") and out["bytes"] > 0
    asset, image = studio.stored(deployed, client, "user-alice", out["asset_id"])
    assert asset["source"] == "edited" and asset["metadata"]["edit_operation"] == "remove_background"
    assert image.format == "PNG" and image.mode == "RGBA" and image.size == (128, 96)
    for corner in ((0, 0), (127, 0), (0, 95), (127, 95)):
        assert image.getpixel(corner)[3] == 0, corner
    assert image.getpixel((64, 48))[3] == 255
    cost = studio.estimate(client, "user-alice", operation="edit", edit_operation="remove_background")
    assert body["credits_charged"] == body["credits_estimated"] == cost
    assert studio.balance(client, "user-alice") == (before[0] - cost, 0)


def test_outpaint_grows_the_canvas_by_exactly_the_pixels(deployed: Deployed, client: ApiClient) -> None:
    status, body = deployed.http("EditFunction", api_event("edit/outpaint"))
    assert status == 200, body
    _, image = studio.stored(deployed, client, "user-alice", body["outputs"][0]["asset_id"])
    assert image.size == (128 + 32 + 32, 96 + 0 + 16)
    assert body["details"]["output_size"] == {"width": 192, "height": 112}


# --------------------------------------------------------------- inputs checked before any charge


def test_inpaint_with_a_mask_of_another_aspect_is_refused_and_nothing_charged(client: ApiClient) -> None:
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    status, body = edit(
        client,
        operation="inpaint",
        image=studio.inline(studio.product()),
        mask=studio.inline(studio.png(100, 100)),
        prompt="a blue vase",
    )
    assert status == 422, body
    message = body["error"]["message"]
    assert "100x100" in message and "256x192" in message
    assert body["error"]["details"]["mask_size"] == [100, 100]
    studio.assert_nothing_charged(client, "alice", before, entries)


def test_a_mask_at_another_scale_is_resized_and_inpaint_keeps_the_size(
    deployed: Deployed, client: ApiClient
) -> None:
    mask = studio.png(
        128,
        96,
        lambda d: (d.rectangle((0, 0, 128, 96), fill="black"), d.ellipse((40, 30, 88, 66), fill="white")),
    )
    status, body = edit(
        client,
        operation="inpaint",
        image=studio.inline(studio.product()),
        mask=studio.inline(mask),
        prompt="a green apple",
    )
    assert status == 200, body
    assert any("resized from 128x96 to 256x192" in n for n in body["notes"])
    _, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert image.size == (256, 192)


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        ({"operation": "inpaint"}, "inpaint needs 'prompt'"),
        ({"operation": "search_replace", "prompt": "a cat"}, "search_replace needs 'search_prompt'"),
        ({"operation": "search_recolor"}, "search_recolor needs 'prompt' and 'select_prompt'"),
        ({"operation": "general_edit", "prompt": "  "}, "general_edit needs 'prompt'"),
        ({"operation": "outpaint"}, "outpaint needs at least one of 'left', 'right', 'up' or 'down'"),
        ({"operation": "relight", "prompt": "a person"}, "relight needs at least one of"),
        ({"operation": "relight", "lighting_image": "x"}, "relight needs 'background_prompt'"),
        ({"operation": "remove_background", "output_format": "jpeg"}, "png or webp"),
        ({"operation": "outpaint", "left": 10, "mask": "x"}, "outpaint takes no 'mask'"),
        ({"operation": "outpaint", "left": 2049}, "left"),
    ],
)
def test_each_operation_names_what_is_missing(client: ApiClient, request_body: dict, expected: str) -> None:
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    status, body = edit(client, image=studio.inline(studio.product()), **request_body)
    assert status == 422, body
    assert expected in body["error"]["message"], body
    studio.assert_nothing_charged(client, "alice", before, entries)


def test_bad_base64_and_not_an_image_are_422_and_nothing_charged(client: ApiClient) -> None:
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    status, body = edit(client, operation="remove_background", image="not base64 at all!!")
    assert status == 422 and "base64" in body["error"]["message"], body
    text = base64.b64encode(b"just some text, no pixels here\n" * 8).decode()
    status, body = edit(client, operation="remove_background", image=text)
    assert status == 422 and "not an image" in body["error"]["message"].lower(), body
    status, body = edit(
        client, operation="inpaint", prompt="x", image=studio.inline(studio.product()), mask="%%%"
    )
    assert status == 422 and body["error"]["message"].startswith("The mask:"), body
    studio.assert_nothing_charged(client, "alice", before, entries)


def test_another_users_asset_is_404_and_nothing_charged(client: ApiClient) -> None:
    bobs = studio.uploaded_asset(client, "bob")
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    status, body = edit(client, operation="remove_background", asset_id=bobs)
    assert status == 404, body
    status, body = edit(
        client, operation="inpaint", prompt="x", image=studio.inline(studio.product()), mask_asset_id=bobs
    )
    assert status == 404, body
    studio.assert_nothing_charged(client, "alice", before, entries)


# ----------------------------------------------------------------------------- what the edits make


def test_an_edit_of_a_library_asset_records_its_parent(deployed: Deployed, client: ApiClient) -> None:
    parent = studio.uploaded_asset(client, "alice")
    status, body = edit(
        client, operation="search_recolor", asset_id=parent, prompt="blue", select_prompt="red"
    )
    assert status == 200, body
    out = body["outputs"][0]
    assert out["parent_asset_id"] == parent and (out["width"], out["height"]) == (400, 300)
    asset, _ = studio.stored(deployed, client, "alice", out["asset_id"])
    assert asset["parent_id"] == parent and asset["source"] == "edited"
    status, job = client.call("GET", f"{studio.P}/jobs/{body['job_id']}", user="alice")
    assert job["inputs"]["image"] == {
        "source": "asset",
        "asset_id": parent,
        "width": 400,
        "height": 300,
        "mime": "image/jpeg",
    }
    assert len(json.dumps(job["inputs"])) < 2000  # the job record carries no pixels


def test_a_mask_limits_search_and_replace_to_its_white_area(deployed: Deployed, client: ApiClient) -> None:
    source = studio.product()
    mask = studio.png(
        256,
        192,
        lambda d: (d.rectangle((0, 0, 255, 191), fill="black"), d.rectangle((0, 0, 127, 191), fill="white")),
    )
    status, body = edit(
        client,
        operation="search_replace",
        image=studio.inline(source),
        mask=studio.inline(mask),
        prompt="a yellow lemon",
        search_prompt="the red disc",
    )
    assert status == 200, body
    _, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    original = Image.open(io.BytesIO(source)).convert("RGB")
    result = image.convert("RGB")
    right = (128, 0, 256, 192)
    left = (0, 0, 128, 192)
    assert ImageChops.difference(result.crop(right), original.crop(right)).getbbox() is None
    assert ImageChops.difference(result.crop(left), original.crop(left)).getbbox() is not None


def test_general_edit_without_a_model_says_which_and_why(client: ApiClient) -> None:
    before = studio.balance(client, "alice")
    status, body = edit(
        client, operation="general_edit", image=studio.inline(studio.product()), prompt="make it sepia"
    )
    assert status == 200, body
    recommendation = body["details"]["recommendation"]
    model = recommendation["model"]
    assert body["model"] == model and body["details"]["model_chosen_by"] == "recommendation"
    assert (
        recommendation["reason"] and recommendation["plan"] == "pro" and recommendation["priority"] == "cost"
    )
    assert any(model in n and "was chosen" in n for n in body["notes"])
    cost = studio.estimate(client, "alice", operation="edit", edit_operation="general_edit", model=model)
    assert body["credits_charged"] == cost
    assert studio.balance(client, "alice") == (before[0] - cost, 0)
    status, credits = client.call("GET", f"{studio.P}/credits", user="alice")
    assert credits["usage"]["buckets"]["edits"]["used"] == 1
    assert credits["usage"]["buckets"]["wavespeed_calls"]["used"] == 1


def test_general_edit_with_a_named_model_uses_it(client: ApiClient) -> None:
    status, body = edit(
        client,
        operation="general_edit",
        image=studio.inline(studio.product()),
        prompt="warm",
        model="flux-kontext-pro",
    )
    assert status == 200, body
    assert body["model"] == "flux-kontext-pro" and "recommendation" not in body["details"]
    status, body = edit(
        client,
        operation="general_edit",
        image=studio.inline(studio.product()),
        prompt="warm",
        model="stability-inpaint",
    )
    assert status == 422 and "cannot do general_edit" in body["error"]["message"], body


def test_relight_is_queued_as_a_long_job_with_its_credits_reserved(client: ApiClient) -> None:
    before = studio.balance(client, "alice")
    status, body = edit(
        client,
        operation="relight",
        image=studio.inline(studio.product()),
        background_prompt="a sunset beach",
        light_source_direction="left",
        light_source_strength=0.7,
    )
    assert status == 202, body
    cost = studio.estimate(client, "alice", operation="edit", edit_operation="relight")
    assert body["status"] == "running" and body["outputs"] == []
    assert (
        body["credits_estimated"] == cost and body["credits_charged"] == 0 and body["credits_refunded"] == 0
    )
    assert body["details"]["credits_reserved"] == cost
    assert "relight runs as a long job; follow status_url" in " ".join(body["notes"])
    assert body["links"]["status_url"] == f"{studio.P}/jobs/{body['job_id']}"
    status, job = client.call("GET", body["links"]["status_url"], user="alice")
    assert job["status"] == "running" and job["provider_job_id"]
    assert job["credits_reserved"] == cost and job["provider"] == "stability"
    assert studio.balance(client, "alice") == (before[0] - cost, cost)
    # canceling it returns the reservation
    status, _ = client.call("DELETE", body["links"]["cancel_url"], user="alice")
    assert status == 200 and studio.balance(client, "alice") == before


# ----------------------------------------------------------------------------- failures, formats, replays


def test_a_provider_failure_answers_with_the_job_and_returns_the_credits(client: ApiClient, faults) -> None:
    before = studio.balance(client, "alice")
    faults("edit:outage")
    status, body = edit(client, operation="remove_background", image=studio.inline(studio.product()))
    assert status == 503, body
    job_id = body["error"]["details"]["job_id"]
    assert body["error"]["details"]["credits_charged"] == 0
    status, job = client.call("GET", f"{studio.P}/jobs/{job_id}", user="alice")
    assert job["status"] == "failed" and job["error"]["code"] == "provider_unavailable"
    assert studio.balance(client, "alice") == before
    kinds = [e["kind"] for e in studio.ledger(client, "alice")[:2]]
    assert kinds == ["release", "reserve"]


def test_b64_json_inlines_the_file(client: ApiClient) -> None:
    status, body = edit(
        client,
        operation="remove_background",
        image=studio.inline(studio.product()),
        response_format="b64_json",
    )
    assert status == 200, body
    data = base64.b64decode(body["outputs"][0]["b64_json"])
    assert Image.open(io.BytesIO(data)).size == (256, 192)


def test_an_idempotency_key_replays_without_charging_twice(client: ApiClient) -> None:
    before = studio.balance(client, "alice")
    request = {
        "operation": "remove_background",
        "image": studio.inline(studio.product()),
        "response_format": "b64_json",
    }
    headers = {"Idempotency-Key": "edit-once-0001"}
    first = client.call("POST", f"{studio.P}/edit/process", user="alice", body=request, headers=headers)
    second = client.call("POST", f"{studio.P}/edit/process", user="alice", body=request, headers=headers)
    assert first[0] == second[0] == 200, (first, second)
    assert first[1]["job_id"] == second[1]["job_id"]
    assert first[1]["outputs"][0]["b64_json"] == second[1]["outputs"][0]["b64_json"]
    assert studio.balance(client, "alice") == (before[0] - first[1]["credits_charged"], 0)


def test_fields_an_operation_does_not_use_are_ignored_and_said_so(client: ApiClient) -> None:
    status, body = edit(
        client,
        operation="remove_background",
        image=studio.inline(studio.product()),
        prompt="a cat",
        left=0,
        creativity=0.3,
    )
    assert status == 200, body
    assert "remove_background does not use 'prompt' and 'creativity'; ignored." in body["notes"]
    assert body["details"]["ignored"] == ["prompt", "creativity"]
