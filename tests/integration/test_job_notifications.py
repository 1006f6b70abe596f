"""When a job ends: an event on the application's bus and a signed POST to the request's webhook_url."""

from __future__ import annotations

import json

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.conftest import ApiClient, Deployed
from tests.integration.test_transform_jobs import portrait, wait_for

P = "/api/image-studio"


@pytest.fixture(autouse=True)
def pro_alice(domain) -> None:
    domain.ledger.account("alice")
    domain.ledger.set_plan("alice", "pro")


def test_a_finished_job_is_published_on_the_bus(client: ApiClient, deployed: Deployed) -> None:
    bus = deployed.plan.outputs["AppEventBusName"]
    sqs = deployed.session.client("sqs")
    queue = sqs.create_queue(QueueName="listener")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = deployed.session.client("events")
    events.put_rule(Name="jobs", EventBusName=bus, EventPattern=json.dumps({"source": ["image-studio"]}))
    events.put_targets(Rule="jobs", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    _, job = client.call("POST", f"{P}/transform/image-to-3d", user="alice", body={"image": portrait()})
    assert wait_for(client, job["id"])["status"] == "succeeded"
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    )
    details = [json.loads(m["Body"])["detail"] for m in messages]
    ended = [d for d in details if d["job_id"] == job["id"]]
    assert ended and ended[0]["status"] == "succeeded" and ended[0]["owner"] == "alice"


def test_the_webhook_url_gets_a_post_that_a_standard_webhooks_library_verifies(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real delivery (signing, headers, body), caught by a fake receiver, checked by the
    `standardwebhooks` package's own verifier with the secret GET webhooks/secret gives."""
    received: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    hooks = httpx.Client(transport=httpx.MockTransport(receiver))
    monkeypatch.setattr("imagestudio.notify.webhooks.client", lambda name: hooks)
    # hooks.example.com does not resolve offline: the address checks pass it (tested on their own)
    monkeypatch.setattr("imagestudio.providers.http.check_output_url", lambda url: None)
    monkeypatch.setattr("imagestudio.notify.webhooks.check_output_url", lambda url: None)
    _, job = client.call(
        "POST",
        f"{P}/transform/image-to-3d",
        user="alice",
        body={"image": portrait(), "webhook_url": "https://hooks.example.com/studio"},
    )
    assert wait_for(client, job["id"])["status"] == "succeeded"
    (delivery,) = [r for r in received if r.headers["webhook-id"].startswith(job["id"])]
    assert str(delivery.url) == "https://hooks.example.com/studio"
    assert delivery.headers["webhook-signature"].startswith("v1,")
    status, secret = client.call("GET", f"{P}/webhooks/secret", user="alice")
    assert status == 200 and secret["secret"].startswith("whsec_")
    payload = Webhook(secret["secret"]).verify(delivery.content, dict(delivery.headers))
    assert payload["data"]["status"] == "succeeded" and payload["data"]["job_id"] == job["id"]
    _, bobs = client.call("GET", f"{P}/webhooks/secret", user="bob")
    assert bobs["secret"] != secret["secret"]
    with pytest.raises(WebhookVerificationError):
        Webhook(bobs["secret"]).verify(delivery.content, dict(delivery.headers))


def test_a_webhook_url_that_is_not_https_is_refused_before_any_charge(client: ApiClient) -> None:
    status, body = client.call(
        "POST",
        f"{P}/transform/image-to-3d",
        user="alice",
        body={"image": portrait(), "webhook_url": "http://127.0.0.1/hook"},
    )
    assert status == 422 and "webhook_url" in body["error"]["message"]
