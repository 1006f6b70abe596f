"""Control Studio through the HTTP API on moto with the offline provider."""

from __future__ import annotations

import pytest

from tests.conftest import ApiClient, Deployed, api_event
from tests.integration import studio_helpers as studio

pytestmark = pytest.mark.usefixtures("pro_users")


def control(client: ApiClient, user: str = "alice", **body: object) -> tuple[int, dict]:
    return client.call("POST", f"{studio.P}/control", user=user, body=body)


def test_sketch_makes_an_image_with_the_requested_strength(deployed: Deployed, client: ApiClient) -> None:
    before = studio.balance(client, "user-alice")
    status, body = deployed.http("ControlFunction", api_event("control/sketch"))
    assert status == 200, body
    assert body["details"]["strengths"] == {"control_strength": 0.6}
    asset, image = studio.stored(deployed, client, "user-alice", body["outputs"][0]["asset_id"])
    assert image.format == "PNG" and image.size == (128, 128)
    assert asset["source"] == "controlled"
    assert asset["metadata"]["control_operation"] == "sketch" and asset["metadata"]["control_strength"] == 0.6
    cost = studio.estimate(client, "user-alice", operation="control", control_operation="sketch")
    assert body["credits_charged"] == cost
    assert studio.balance(client, "user-alice") == (before[0] - cost, 0)
    status, credits = client.call("GET", f"{studio.P}/credits", user="user-alice")
    assert credits["usage"]["buckets"]["images"]["used"] == 1


def test_style_transfer_without_a_style_image_is_422_and_nothing_charged(client: ApiClient) -> None:
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    status, body = control(client, operation="style_transfer", image=studio.inline(studio.product()))
    assert status == 422, body
    assert "style_transfer needs 'style_image'" in body["error"]["message"]
    studio.assert_nothing_charged(client, "alice", before, entries)


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        ({"operation": "sketch", "prompt": "a house", "control_strength": 1.5}, "control_strength"),
        ({"operation": "structure", "prompt": "a house", "control_strength": -0.1}, "control_strength"),
        ({"operation": "style", "prompt": "x", "fidelity": 2}, "fidelity"),
        ({"operation": "sketch"}, "sketch needs 'prompt'"),
        ({"operation": "style", "prompt": "x", "aspect_ratio": "7:3"}, "Unknown aspect_ratio"),
        ({"operation": "sketch", "prompt": "x", "style_image": "abc"}, "takes no style image"),
    ],
)
def test_bad_requests_are_422_before_any_charge(client: ApiClient, request_body: dict, expected: str) -> None:
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    status, body = control(client, image=studio.inline(studio.product()), **request_body)
    assert status == 422, body
    assert expected in body["error"]["message"], body
    studio.assert_nothing_charged(client, "alice", before, entries)


def test_style_transfer_from_library_assets_records_the_parent(deployed: Deployed, client: ApiClient) -> None:
    content = studio.uploaded_asset(client, "alice")
    style = studio.png(200, 200, lambda d: d.rectangle((0, 0, 100, 200), fill=(20, 40, 200)))
    status, body = control(
        client,
        operation="style_transfer",
        asset_id=content,
        style_image=studio.inline(style),
        style_strength=0.8,
    )
    assert status == 200, body
    assert body["details"]["strengths"] == {
        "style_strength": 0.8,
        "composition_fidelity": 0.9,
        "change_strength": 0.9,
    }
    asset, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert asset["parent_id"] == content and image.size == (400, 300)


def test_style_makes_the_aspect_ratio_asked(client: ApiClient) -> None:
    status, body = control(
        client,
        operation="style",
        image=studio.inline(studio.product()),
        prompt="a lighthouse",
        aspect_ratio="16:9",
    )
    assert status == 200, body
    out = body["outputs"][0]
    assert abs(out["width"] / out["height"] - 16 / 9) < 0.02


def test_another_users_style_image_is_404(client: ApiClient) -> None:
    bobs = studio.uploaded_asset(client, "bob")
    status, body = control(
        client, operation="style_transfer", image=studio.inline(studio.product()), style_image_asset_id=bobs
    )
    assert status == 404, body
