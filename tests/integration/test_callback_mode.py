"""Callback mode on the real ASL: the job waits on a task token, a signed provider webhook resumes it;
a forged or replayed webhook is rejected; a webhook that never comes falls back to polling."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from imagestudio.notify.provider_webhooks import provider_secret, wavespeed_signature
from local.stack import LOCAL_PARAMETERS
from tests.conftest import TEMPLATE, ApiClient, deploy
from tests.integration.test_transform_jobs import history, portrait, wait_for

P = "/api/image-studio"


@pytest.fixture
def callback_client(aws_env: None, tmp_path) -> Iterator[ApiClient]:
    # waits scale 0.005: polls every 1 s, and a missing webhook times out after ceil(900 x 0.005) = 5 s
    params = {**LOCAL_PARAMETERS, "CallbackProviders": "stability", "PollWaitScale": "0.005"}
    for deployed in deploy(TEMPLATE, params):
        from imagestudio.api.context import ports
        from imagestudio.config import environment_view

        with environment_view(deployed.plan.function("JobsFunction").environment):
            ledger = ports().ledger
            ledger.account("alice")
            ledger.set_plan("alice", "pro")
        yield ApiClient(deployed, tmp_path)


def waiting_for_callback(client: ApiClient, job_id: str) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = client.call("GET", f"{P}/jobs/{job_id}", user="alice")[1]
        if job["provider_job_id"] and "WaitForCallback" in history(client, job_id):
            return job
        time.sleep(0.05)
    raise AssertionError("the execution never waited for a callback")


def offline_secret(client: ApiClient) -> bytes:
    """What the offline provider signs its callbacks with: derived from this stack's own master secret."""
    from imagestudio.config import Settings, environment_view

    with environment_view(client.deployed.plan.function("WebhooksFunction").environment):
        return provider_secret("stability", Settings.from_env())


def signed(body: bytes, message_id: str, *, secret: bytes, ts: int | None = None):
    """Headers as WaveSpeed signs a callback (the offline provider calls back the same way)."""
    stamp = int(time.time()) if ts is None else ts
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": wavespeed_signature(secret, message_id, stamp, body),
        "content-type": "application/json",
    }


def post_webhook(client: ApiClient, body: bytes, headers: dict) -> tuple[int, dict]:
    status, _out_headers, out = client.api.handle(
        "POST", f"{P}/webhooks/stability", {"host": "x", **headers}, body
    )
    return status, json.loads(out)


def test_a_signed_webhook_resumes_the_job_in_five_transitions(callback_client: ApiClient) -> None:
    client = callback_client
    _, job = client.call("POST", f"{P}/transform/image-to-3d", user="alice", body={"image": portrait()})
    running = waiting_for_callback(client, job["id"])
    # the provider finishes its work (the offline queue completes on its 4th look) and calls back
    from imagestudio.providers import registry

    provider = registry.provider("stability")  # image-to-3d runs at Stability (simulated offline)
    for _ in range(3):
        provider.poll(running["provider_job_id"])
    body = json.dumps({"id": running["provider_job_id"], "status": "completed"}).encode()
    secret = offline_secret(client)
    status, answer = post_webhook(client, body, signed(body, "msg-1", secret=secret))
    assert status == 200 and answer["status"] == "succeeded", answer
    done = wait_for(client, job["id"])
    assert done["status"] == "succeeded" and len(done["outputs"]) == 1
    steps = history(client, job["id"])
    assert steps == ["Submit", "Done?", "WaitForCallback", "Done?", "Succeeded"]
    # the same delivery again is acknowledged and ignored
    status, again = post_webhook(client, body, signed(body, "msg-1", secret=secret))
    assert status == 200 and again["duplicate"] is True


def test_in_callback_mode_the_provider_is_given_our_webhook_url(
    callback_client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imagestudio.providers import registry

    seen: list[object] = []
    offline = type(registry.provider("stability"))
    submit = offline.image_to_3d
    monkeypatch.setattr(
        offline, "image_to_3d", lambda self, request: seen.append(request) or submit(self, request)
    )
    _, job = callback_client.call(
        "POST", f"{P}/transform/image-to-3d", user="alice", body={"image": portrait()}
    )
    waiting_for_callback(callback_client, job["id"])
    (request,) = seen
    base = callback_client.deployed.plan.outputs["ApiUrl"]
    assert request.callback_url == f"{base}/api/image-studio/webhooks/stability"


def test_forged_stale_and_unsigned_webhooks_are_401(callback_client: ApiClient) -> None:
    client = callback_client
    _, job = client.call("POST", f"{P}/transform/image-to-3d", user="alice", body={"image": portrait()})
    running = waiting_for_callback(client, job["id"])
    body = json.dumps({"id": running["provider_job_id"]}).encode()
    secret = offline_secret(client)
    forged = signed(body, "msg-2", secret=b"not the secret")
    # the constant the offline stack used to fall back to is no secret any more
    assert (
        post_webhook(
            client, body, signed(body, "msg-5", secret=b"image-studio-offline-provider-webhook:stability")
        )[0]
        == 401
    )
    assert post_webhook(client, body, forged)[0] == 401
    stale = signed(body, "msg-3", secret=secret, ts=int(time.time()) - 3600)
    status, answer = post_webhook(client, body, stale)
    assert status == 401 and "timestamp" in answer["error"]["message"]
    tampered = signed(body, "msg-4", secret=secret)
    assert post_webhook(client, body + b" ", tampered)[0] == 401
    assert post_webhook(client, body, {"content-type": "application/json"})[0] == 422
    assert client.call("GET", f"{P}/jobs/{job['id']}", user="alice")[1]["status"] == "running"


def test_a_lost_webhook_falls_back_to_polling(callback_client: ApiClient) -> None:
    client = callback_client
    _, job = client.call("POST", f"{P}/transform/image-to-3d", user="alice", body={"image": portrait()})
    done = wait_for(client, job["id"], timeout=40)
    assert done["status"] == "succeeded", done
    steps = history(client, job["id"])
    assert steps[:3] == ["Submit", "Done?", "WaitForCallback"] and "Poll" in steps
