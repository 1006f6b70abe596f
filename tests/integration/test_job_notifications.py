"""When a job ends: an event on the application's bus and a signed POST to the request's webhook_url."""

from __future__ import annotations

import json
import time

import pytest

from imagestudio.notify.signing import verify
from imagestudio.notify.webhooks import DeliveryResult
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


def test_the_webhook_url_gets_a_signed_post_the_user_can_verify(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[dict] = []

    def fake_deliver(
        url: str, payload: dict, *, secret: bytes, message_id: str, **_: object
    ) -> DeliveryResult:
        body = json.dumps(payload).encode()
        from imagestudio.notify.signing import sign

        stamp = int(time.time())
        sent.append(
            {
                "url": url,
                "body": body,
                "id": message_id,
                "ts": stamp,
                "sig": sign(secret, message_id, stamp, body),
            }
        )
        return DeliveryResult(status="delivered", attempts=1, last_status=200, error=None)

    monkeypatch.setattr("imagestudio.notify.jobs.deliver", fake_deliver)
    monkeypatch.setattr("imagestudio.providers.http.check_output_url", lambda url: None)
    _, job = client.call(
        "POST",
        f"{P}/transform/image-to-3d",
        user="alice",
        body={"image": portrait(), "webhook_url": "https://hooks.example.com/studio"},
    )
    assert wait_for(client, job["id"])["status"] == "succeeded"
    (delivery,) = [d for d in sent if d["id"].startswith(job["id"])]
    assert delivery["url"] == "https://hooks.example.com/studio"
    assert json.loads(delivery["body"])["data"]["status"] == "succeeded"
    _, secret = client.call("GET", f"{P}/webhooks/secret", user="alice")
    verify(
        bytes.fromhex(secret["secret"]),
        delivery["id"],
        delivery["ts"],
        delivery["body"],
        delivery["sig"],
        now=int(time.time()),
    )
    _, bobs = client.call("GET", f"{P}/webhooks/secret", user="bob")
    assert bobs["secret"] != secret["secret"]


def test_a_webhook_url_that_is_not_https_is_refused_before_any_charge(client: ApiClient) -> None:
    status, body = client.call(
        "POST",
        f"{P}/transform/image-to-3d",
        user="alice",
        body={"image": portrait(), "webhook_url": "http://127.0.0.1/hook"},
    )
    assert status == 422 and "webhook_url" in body["error"]["message"]
