"""Long transforms on the real provider-job ASL executed by moto, with the offline provider's queue."""

from __future__ import annotations

import base64
import io
import json
import time
from typing import Any

import pytest
from PIL import Image

from tests.conftest import ApiClient, Deployed

P = "/api/image-studio"


def portrait() -> str:
    out = io.BytesIO()
    im = Image.new("RGB", (320, 400), (40, 90, 160))
    im.paste((230, 190, 160), (100, 80, 220, 260))
    im.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def wav(seconds: float = 2.0, rate: int = 8000) -> str:
    import math
    import struct
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(i / 8) * (1 + math.sin(i / 2000))))
            for i in range(int(rate * seconds))
        )
        w.writeframes(frames)
    return "data:audio/wav;base64," + base64.b64encode(out.getvalue()).decode()


def wait_for(client: ApiClient, job_id: str, user: str = "alice", timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    arn = client.deployed.plan.outputs["ProviderJobStateMachineArn"]
    sfn = client.deployed.session.client("stepfunctions")
    execution = arn.replace(":stateMachine:", ":execution:") + f":{job_id}"
    while time.monotonic() < deadline:
        status = sfn.describe_execution(executionArn=execution)["status"]
        if status != "RUNNING":
            break
        time.sleep(0.05)
    return client.call("GET", f"{P}/jobs/{job_id}", user=user)[1]


def history(client: ApiClient, job_id: str) -> list[str]:
    arn = client.deployed.plan.outputs["ProviderJobStateMachineArn"]
    sfn = client.deployed.session.client("stepfunctions")
    execution = arn.replace(":stateMachine:", ":execution:") + f":{job_id}"
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def balance(client: ApiClient, user: str = "alice") -> tuple[int, int]:
    body = client.call("GET", f"{P}/credits", user=user)[1]
    return body["available"], body["reserved"]


@pytest.fixture(autouse=True)
def pro_alice(domain) -> None:
    domain.ledger.account("alice")
    domain.ledger.set_plan("alice", "pro")


def test_image_to_video_succeeds_after_several_polls(client: ApiClient, deployed: Deployed) -> None:
    before = balance(client)
    status, job = client.call(
        "POST",
        f"{P}/transform/image-to-video",
        user="alice",
        body={"image": portrait(), "prompt": "slow zoom in", "resolution": "480p", "duration": 5},
    )
    assert status == 202, job
    assert job["status"] == "queued" and job["credits_reserved"] == 25  # $0.05/s x 5 s
    assert balance(client)[1] == 25
    done = wait_for(client, job["id"])
    assert done["status"] == "succeeded", done
    assert done["credits_captured"] == 25 and balance(client) == (before[0] - 25, 0)
    steps = history(client, job["id"])
    assert steps[0] == "Submit" and steps[-1] == "Succeeded"
    assert steps.count("Poll") == 4  # the offline queue runs for 3 polls, done on the 4th
    assert len(steps) == 3 + 3 * 4
    output = done["outputs"][0]  # the job view lists outputs as the synchronous answers do
    assert output["type"] == "video" and output["url"].startswith("http") and output["thumbnail_url"]
    assert "keys" not in done["inputs"] and "finish" not in done["inputs"] and "owner" not in done
    _, asset = client.call("GET", f"{P}/assets/{output['asset_id']}", user="alice")
    assert asset["type"] == "video" and asset["mime"] == "image/webp"
    assert (asset["width"], asset["height"]) == (480, 854)  # 480p, upright for a portrait image
    assert asset["duration"] == pytest.approx(5.0, abs=0.01)
    video = (
        deployed.session.client("s3")
        .get_object(
            Bucket=deployed.plan.physical["MediaBucket"], Key=f"assets/alice/{asset['id']}/original.webp"
        )["Body"]
        .read()
    )
    assert Image.open(io.BytesIO(video)).n_frames > 1


def test_talking_avatar_and_glb(client: ApiClient, deployed: Deployed) -> None:
    status, avatar = client.call(
        "POST", f"{P}/transform/talking-avatar", user="alice", body={"image": portrait(), "audio": wav(2.0)}
    )
    assert status == 202, avatar
    assert avatar["credits_reserved"] == 30  # InfiniteTalk 720p $0.06/s, 5 s minimum
    status, model = client.call(
        "POST", f"{P}/transform/image-to-3d", user="alice", body={"image": portrait()}
    )
    assert status == 202, model
    assert wait_for(client, avatar["id"])["status"] == "succeeded"
    glb_job = wait_for(client, model["id"])
    assert glb_job["status"] == "succeeded", glb_job
    assert glb_job["outputs"][0]["mime"] == "model/gltf-binary"
    _, asset = client.call("GET", f"{P}/assets/{glb_job['outputs'][0]['asset_id']}", user="alice")
    assert asset["type"] == "model3d" and asset["mime"] == "model/gltf-binary"
    data = (
        deployed.session.client("s3")
        .get_object(
            Bucket=deployed.plan.physical["MediaBucket"], Key=f"assets/alice/{asset['id']}/original.glb"
        )["Body"]
        .read()
    )
    assert data[:4] == b"glTF" and int.from_bytes(data[8:12], "little") == len(data)


def test_provider_failure_releases_the_credits(client: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from imagestudio.providers import registry

    registry.reset()
    monkeypatch.setenv("LOCAL_PROVIDER_FAULTS", "video:fail_job")
    before = balance(client)
    _, job = client.call("POST", f"{P}/transform/image-to-video", user="alice", body={"image": portrait()})
    done = wait_for(client, job["id"])
    registry.reset()
    assert done["status"] == "failed" and done["error"]["code"]
    assert balance(client) == before
    assert history(client, job["id"])[-1] == "Ended"


def test_transient_errors_are_retried_by_the_state_machine(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imagestudio.providers import registry

    registry.reset()
    monkeypatch.setenv("LOCAL_PROVIDER_FAULTS", "poll:500*2")
    _, job = client.call("POST", f"{P}/transform/image-to-3d", user="alice", body={"image": portrait()})
    done = wait_for(client, job["id"], timeout=60)
    registry.reset()
    assert done["status"] == "succeeded", done


def test_deadline_passed_expires_and_refunds(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch, domain
) -> None:
    from imagestudio.providers import registry

    registry.reset()
    monkeypatch.setenv("LOCAL_PROVIDER_FAULTS", "video:never_finish")
    monkeypatch.setattr("imagestudio.operations.transform.MAX_POLLS", 3)
    before = balance(client)
    _, job = client.call("POST", f"{P}/transform/image-to-video", user="alice", body={"image": portrait()})
    done = wait_for(client, job["id"])
    registry.reset()
    assert done["status"] == "expired", done
    assert balance(client) == before


def test_cancel_mid_run_stops_the_execution_and_refunds(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imagestudio.providers import registry

    registry.reset()
    monkeypatch.setenv("LOCAL_PROVIDER_FAULTS", "video:never_finish")
    before = balance(client)
    _, job = client.call("POST", f"{P}/transform/image-to-video", user="alice", body={"image": portrait()})
    time.sleep(0.3)
    status, canceled = client.call("DELETE", f"{P}/jobs/{job['id']}", user="alice")
    assert status == 200 and canceled["status"] == "canceled", canceled
    arn = client.deployed.plan.outputs["ProviderJobStateMachineArn"]
    execution = arn.replace(":stateMachine:", ":execution:") + f":{job['id']}"
    sfn = client.deployed.session.client("stepfunctions")
    deadline = time.monotonic() + 10
    while (
        sfn.describe_execution(executionArn=execution)["status"] == "RUNNING" and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    registry.reset()
    assert sfn.describe_execution(executionArn=execution)["status"] in ("ABORTED", "FAILED")
    assert balance(client) == before
    assert client.call("GET", f"{P}/jobs/{job['id']}", user="alice")[1]["status"] == "canceled"


def test_bad_inputs_are_refused_before_any_charge(client: ApiClient) -> None:
    before = balance(client)
    cases = [
        ("image-to-video", {"image": portrait(), "duration": 7}),
        ("image-to-video", {"image": portrait(), "resolution": "4k"}),
        (
            "talking-avatar",
            {"image": portrait(), "audio": base64.b64encode(b"not audio at all" * 50).decode()},
        ),
        ("image-to-3d", {"image": "bm90IGFuIGltYWdl"}),
    ]
    for path, body in cases:
        status, answer = client.call("POST", f"{P}/transform/{path}", user="alice", body=body)
        assert status == 422, (path, answer)
    assert balance(client) == before


def test_estimate_and_isolation(client: ApiClient) -> None:
    status, quote = client.call(
        "POST",
        f"{P}/transform/estimate-cost",
        user="alice",
        body={"operation": "image-to-video", "resolution": "1080p", "duration": 10},
    )
    assert status == 200 and quote["credits"] == 150
    _, job = client.call("POST", f"{P}/transform/image-to-3d", user="alice", body={"image": portrait()})
    assert client.call("GET", f"{P}/jobs/{job['id']}", user="bob")[0] == 404
    assert client.call("DELETE", f"{P}/jobs/{job['id']}", user="bob")[0] == 404
    wait_for(client, job["id"])
    assert json.dumps(job)


def test_an_uploaded_speech_file_drives_a_talking_avatar(client: ApiClient, deployed: Deployed) -> None:
    status, ticket = client.call(
        "POST", f"{P}/uploads", user="alice", body={"content_type": "audio/wav", "filename": "hello.wav"}
    )
    assert status == 200, ticket
    raw = base64.b64decode(wav(3.0).split(",", 1)[1])
    s3 = deployed.session.client("s3")
    s3.put_object(Bucket=deployed.plan.physical["MediaBucket"], Key=ticket["form"]["fields"]["key"], Body=raw)
    _, upload = client.call("GET", f"{P}/uploads/{ticket['upload']['id']}", user="alice")
    assert upload["upload"]["status"] == "ready", upload
    assert upload["asset"]["type"] == "audio" and upload["asset"]["duration"] == pytest.approx(3.0)
    status, job = client.call(
        "POST",
        f"{P}/transform/talking-avatar",
        user="alice",
        body={"image": portrait(), "audio_upload_id": ticket["upload"]["id"], "resolution": "480p"},
    )
    assert status == 202, job
    assert wait_for(client, job["id"])["status"] == "succeeded"
    # another user's audio is not theirs to use
    status, _ = client.call(
        "POST",
        f"{P}/transform/talking-avatar",
        user="bob",
        body={"image": portrait(), "audio_asset_id": ticket["upload"]["id"]},
    )
    assert status == 404


def test_a_text_file_uploaded_as_wav_is_rejected(client: ApiClient, deployed: Deployed) -> None:
    _, ticket = client.call("POST", f"{P}/uploads", user="alice", body={"content_type": "audio/wav"})
    s3 = deployed.session.client("s3")
    s3.put_object(
        Bucket=deployed.plan.physical["MediaBucket"], Key=ticket["form"]["fields"]["key"], Body=b"hi" * 50
    )
    _, upload = client.call("GET", f"{P}/uploads/{ticket['upload']['id']}", user="alice")
    assert upload["upload"]["status"] == "rejected" and "not audio" in upload["upload"]["reason"].lower()
