"""Upscale Studio through the HTTP API on moto with the offline provider: sizes, modes, limits, money."""

from __future__ import annotations

import time

import pytest

from tests.conftest import ApiClient, Deployed, api_event
from tests.integration import studio_helpers as studio

pytestmark = pytest.mark.usefixtures("pro_users")


def upscale(client: ApiClient, user: str = "alice", **body: object) -> tuple[int, dict]:
    return client.call("POST", f"{studio.P}/upscale", user=user, body=body)


def test_fast_upscale_is_exactly_4x_and_costs_the_estimate(deployed: Deployed, client: ApiClient) -> None:
    before = studio.balance(client, "user-alice")
    status, body = deployed.http("UpscaleFunction", api_event("upscale/fast"))
    assert status == 200, body
    assert body["details"]["mode"] == "fast"
    asset, image = studio.stored(deployed, client, "user-alice", body["outputs"][0]["asset_id"])
    assert image.size == (128 * 4, 96 * 4)
    assert asset["source"] == "upscaled" and asset["metadata"]["mode"] == "fast"
    cost = studio.estimate(client, "user-alice", operation="upscale", mode="fast", width=128, height=96)
    assert body["credits_charged"] == cost
    assert studio.balance(client, "user-alice") == (before[0] - cost, 0)


def test_auto_picks_conservative_for_a_3000_px_target(deployed: Deployed, client: ApiClient) -> None:
    before = studio.balance(client, "alice")
    status, body = upscale(
        client, image=studio.inline(studio.product(600, 400)), mode="auto", target_long_side=3000
    )
    assert status == 200, body
    assert body["details"]["mode"] == "conservative" and body["model"] == "stability-upscale-conservative"
    _, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert image.size == (3000, 2000)
    cost = studio.estimate(client, "alice", operation="upscale", mode="auto", target_long_side=3000)
    assert body["credits_charged"] == cost
    assert studio.balance(client, "alice") == (before[0] - cost, 0)


def test_auto_without_a_target_is_fast(client: ApiClient) -> None:
    status, body = upscale(client, image=studio.inline(studio.product(100, 80)))
    assert status == 200, body
    assert body["details"]["mode"] == "fast" and body["outputs"][0]["width"] == 400


def test_preset_social_makes_a_1080_px_long_side(deployed: Deployed, client: ApiClient) -> None:
    status, body = upscale(client, image=studio.inline(studio.product(200, 150)), preset="social")
    assert status == 200, body
    assert body["details"]["target_long_side"] == 1080 and body["details"]["mode"] == "fast"
    _, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert image.size == (1080, 810)


def test_an_explicit_target_wins_over_the_preset(deployed: Deployed, client: ApiClient) -> None:
    status, body = upscale(
        client, image=studio.inline(studio.product(200, 150)), preset="print", target_long_side=1200
    )
    assert status == 200, body
    assert body["details"]["target_long_side"] == 1200 and body["details"]["mode"] == "fast"
    assert (body["outputs"][0]["width"], body["outputs"][0]["height"]) == (1200, 900)


def test_fast_refuses_a_2000_px_image_naming_its_limit_and_charges_nothing(client: ApiClient) -> None:
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    status, body = upscale(client, image=studio.inline(studio.png(2000, 2000)), mode="fast")
    assert status == 422, body
    message = body["error"]["message"]
    assert "1536" in message.replace(",", "") and "1 MP" in message, message
    assert "conservative" in message  # the modes that can take it
    studio.assert_nothing_charged(client, "alice", before, entries)


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        ({"preset": "billboard"}, "Unknown preset 'billboard'"),
        ({"mode": "conservative", "target_long_side": 5000}, "at most 4,096 px"),
        ({"target_long_side": 200}, "nothing to upscale"),
        ({"mode": "creative", "creativity": 0.9}, "0 to 0.35"),
        ({"mode": "turbo"}, "mode"),
    ],
)
def test_bad_requests_are_422_before_any_charge(client: ApiClient, request_body: dict, expected: str) -> None:
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    status, body = upscale(client, image=studio.inline(studio.product(256, 192)), **request_body)
    assert status == 422, body
    assert expected in body["error"]["message"], body
    studio.assert_nothing_charged(client, "alice", before, entries)


def test_creative_upscale_is_a_long_job_with_its_credits_reserved(client: ApiClient) -> None:
    before = studio.balance(client, "alice")
    status, body = upscale(
        client, image=studio.inline(studio.product()), mode="creative", prompt="crisp product photo"
    )
    assert status == 202, body
    cost = studio.estimate(client, "alice", operation="upscale", mode="creative")
    assert body["status"] == "running" and body["credits_estimated"] == cost and body["credits_charged"] == 0
    assert "creative upscale runs as a long job; follow status_url" in " ".join(body["notes"])
    status, job = client.call("GET", body["links"]["status_url"], user="alice")
    assert job["status"] == "running" and job["provider_job_id"] and job["credits_reserved"] == cost
    assert studio.balance(client, "alice") == (before[0] - cost, cost)


def test_an_upscaled_library_asset_records_its_parent(deployed: Deployed, client: ApiClient) -> None:
    parent = studio.uploaded_asset(client, "alice")
    status, body = upscale(client, asset_id=parent, mode="fast")
    assert status == 200, body
    asset, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    assert asset["parent_id"] == parent and image.size == (1600, 1200)
    status, credits = client.call("GET", f"{studio.P}/credits", user="alice")
    assert credits["usage"]["buckets"]["edits"]["used"] == 1


def test_another_users_asset_is_404(client: ApiClient) -> None:
    bobs = studio.uploaded_asset(client, "bob")
    status, body = upscale(client, asset_id=bobs)
    assert status == 404, body


def test_a_creative_upscale_runs_on_the_provider_job_machine(client: ApiClient, deployed: Deployed) -> None:
    before = studio.balance(client, "alice")
    status, body = upscale(
        client, image=studio.inline(studio.product(256, 192)), mode="creative", target_long_side=1024
    )
    assert status == 202, body
    cost = body["credits_estimated"]
    job: dict = {}
    for _ in range(100):  # the state machine polls the provider; the client only reads the job
        _, job = client.call("GET", body["links"]["status_url"], user="alice")
        if job["status"] != "running":
            break
        time.sleep(0.1)
    assert job["status"] == "succeeded", job
    assert job["credits_captured"] == cost and len(job["outputs"]) == 1
    assert job["outputs"][0]["width"] == 1024 and job["outputs"][0]["url"]
    assert client.call("GET", body["links"]["status_url"], user="bob")[0] == 404
    sfn = deployed.session.client("stepfunctions")
    machine = deployed.plan.physical["ProviderJobStateMachine"]
    arn = f"{machine.replace(':stateMachine:', ':execution:')}:{job['id']}"
    for _ in range(100):  # the job is settled by the machine's last task, a moment before the machine ends
        execution = sfn.describe_execution(executionArn=arn)
        if execution["status"] != "RUNNING":
            break
        time.sleep(0.1)
    assert execution["status"] == "SUCCEEDED"
    _, asset = client.call("GET", f"{studio.P}/assets/{job['outputs'][0]['asset_id']}", user="alice")
    assert (asset["width"], asset["height"]) == (1024, 768) and asset["source"] == "upscaled"
    assert studio.balance(client, "alice") == (before[0] - cost, 0)
