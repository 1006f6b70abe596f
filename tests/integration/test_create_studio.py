"""Create Studio through the HTTP API (in-process) with the offline provider: files, sizes and money."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests.conftest import ApiClient

P = "/api/image-studio"


@pytest.fixture(autouse=True)
def pro_alice(domain) -> None:
    domain.ledger.account("alice")
    domain.ledger.set_plan("alice", "pro")


def balance(client: ApiClient, user: str = "alice") -> tuple[int, int]:
    body = client.call("GET", f"{P}/credits", user=user)[1]
    return body["available"], body["reserved"]


def download(client: ApiClient, asset_id: str, user: str = "alice") -> Image.Image:
    asset = client.deployed.session.resource("dynamodb").Table(client.deployed.plan.physical["AssetsTable"])
    key = asset.get_item(Key={"pk": f"USER#{user}", "sk": f"ASSET#{asset_id}"})["Item"]["key"]
    s3 = client.deployed.session.client("s3")
    data = s3.get_object(Bucket=client.deployed.plan.physical["MediaBucket"], Key=key)["Body"].read()
    return Image.open(io.BytesIO(data))


def test_three_variations_from_the_instagram_portrait_template(client: ApiClient) -> None:
    before = balance(client)
    status, body = client.call(
        "POST",
        f"{P}/create",
        user="alice",
        body={
            "prompt": "red sneakers on a sunny beach",
            "template_id": "instagram_feed_portrait",
            "num_variations": 3,
        },
    )
    assert status == 200, body
    assert body["status"] == "succeeded" and len(body["outputs"]) == 3
    assert {(o["width"], o["height"]) for o in body["outputs"]} == {(1080, 1350)}
    for output in body["outputs"]:
        assert download(client, output["asset_id"]).size == (1080, 1350)
        assert output["url"].startswith("http")
    # the template's premium model, its style appended to the prompt, seeds seed+i
    assert body["model"] == "ideogram-v3-turbo"
    assert "professional photography" in body["details"]["applied_prompt"]
    seeds = body["details"]["seeds"]
    assert seeds == [seeds[0], seeds[0] + 1, seeds[0] + 2]
    assert body["credits_charged"] == body["credits_estimated"] == 30
    assert balance(client) == (before[0] - 30, 0)
    images = [download(client, o["asset_id"]).tobytes() for o in body["outputs"]]
    assert len(set(images)) == 3  # three different images


def test_an_explicit_quality_is_not_overridden_by_the_template(client: ApiClient) -> None:
    status, body = client.call(
        "POST",
        f"{P}/create",
        user="alice",
        body={"prompt": "a cup of coffee", "template_id": "instagram_feed_portrait", "quality": "standard"},
    )
    assert status == 200, body
    assert body["model"] == "qwen-image"  # standard tier, not the template's premium
    assert (body["outputs"][0]["width"], body["outputs"][0]["height"]) == (1080, 1350)


def test_decimal_ratios_and_ratio_with_one_side(client: ApiClient) -> None:
    status, body = client.call(
        "POST",
        f"{P}/create",
        user="alice",
        body={"prompt": "a banner", "aspect_ratio": "1.91:1", "width": 1200},
    )
    assert status == 200, body
    assert (body["outputs"][0]["width"], body["outputs"][0]["height"]) == (1200, 628)
    _, body = client.call(
        "POST", f"{P}/create", user="alice", body={"prompt": "a banner", "aspect_ratio": "16:9"}
    )
    assert (body["outputs"][0]["width"], body["outputs"][0]["height"]) == (1920, 1080)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"prompt": "x", "num_variations": 11}, "num_variations"),
        ({"prompt": "x", "template_id": "nope"}, "instagram_feed_square"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"prompt": "   "}, "blank"),
        ({"prompt": "x", "aspect_ratio": "wide"}, "aspect_ratio"),
        ({"prompt": "x", "style_preset": "glitter"}, "photographic"),
        ({"prompt": "x", "model": "dall-e"}, "ideogram-v3-turbo"),
    ],
)
def test_bad_requests_are_422_and_charge_nothing(client: ApiClient, body: dict, needle: str) -> None:
    before = balance(client)
    status, answer = client.call("POST", f"{P}/create", user="alice", body=body)
    assert status == 422, answer
    assert needle in str(answer)
    assert balance(client) == before


def test_a_free_user_is_told_the_plan_limit_and_charged_nothing(client: ApiClient) -> None:
    status, body = client.call(
        "POST", f"{P}/create", user="newbie", body={"prompt": "a logo", "num_variations": 10}
    )
    assert status == 429, body
    assert "variations" in body["error"]["message"]
    assert balance(client, "newbie") == (200, 0)


def test_personas_are_applied_and_are_private(client: ApiClient) -> None:
    persona = {"name": "Acme", "tone": "playful", "palette": ["teal", "orange"], "negative_words": ["blurry"]}
    assert client.call("PUT", f"{P}/personas/acme", user="alice", body=persona)[0] == 200
    assert client.call("GET", f"{P}/personas/acme", user="alice")[1]["tone"] == "playful"
    assert client.call("GET", f"{P}/personas/acme", user="bob")[0] == 404
    status, body = client.call(
        "POST",
        f"{P}/create",
        user="alice",
        body={"prompt": "a mascot", "use_persona": True, "persona_id": "acme", "width": 256, "height": 256},
    )
    assert status == 200, body
    assert "colour palette: teal, orange" in body["details"]["applied_prompt"]
    assert "blurry" in body["details"]["negative_prompt"]


def test_inline_base64_only_when_asked(client: ApiClient) -> None:
    status, body = client.call(
        "POST",
        f"{P}/create",
        user="alice",
        body={"prompt": "a tiny icon", "width": 128, "height": 128, "response_format": "b64_json"},
    )
    assert status == 200
    raw = base64.b64decode(body["outputs"][0]["b64_json"])
    assert Image.open(io.BytesIO(raw)).size == (128, 128)
    _, plain = client.call(
        "POST", f"{P}/create", user="alice", body={"prompt": "a tiny icon", "width": 64, "height": 64}
    )
    assert plain["outputs"][0]["b64_json"] is None


def test_provider_outage_falls_back_and_a_total_outage_refunds(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imagestudio.providers import registry

    registry.reset()
    try:
        monkeypatch.setenv("LOCAL_PROVIDER_FAULTS", "wavespeed:outage")
        status, body = client.call(
            "POST", f"{P}/create", user="alice", body={"prompt": "a shoe", "quality": "premium"}
        )
        assert status == 200, body
        assert body["provider"] == "stability" and "wavespeed" in body["fallback"]
        registry.reset()
        before = balance(client)
        monkeypatch.setenv("LOCAL_PROVIDER_FAULTS", "outage")
        status, body = client.call("POST", f"{P}/create", user="alice", body={"prompt": "a shoe"})
        assert status == 503, body
        assert body["error"]["details"]["job_id"]
        assert balance(client) == before
    finally:
        registry.reset()


def test_the_sample_event_of_the_create_function(deployed) -> None:
    from tests.conftest import api_event

    status, body = deployed.http("CreateFunction", api_event("create/instagram_portrait"))
    assert status == 200, body
    assert [(o["width"], o["height"]) for o in body["outputs"]] == [(1080, 1350)] * 3
