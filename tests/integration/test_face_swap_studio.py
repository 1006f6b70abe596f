"""Face Swap Studio through the HTTP API on moto, offline: the face really moved, faces checked before any
charge (422), the provider-job path (202, then the state machine finishes it), money, provenance."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image
from skimage import data

from imagestudio.imaging.faces import detect_faces
from tests.conftest import ApiClient, Deployed
from tests.integration import studio_helpers as studio
from tests.unit.test_faceswap import correlation, group, inner, lfw_face

pytestmark = pytest.mark.usefixtures("pro_users")


def jpeg(im: Image.Image) -> str:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=95)
    return studio.inline(out.getvalue()).replace("image/png", "image/jpeg")


def astronaut() -> Image.Image:
    return Image.fromarray(data.astronaut())


def swap(client: ApiClient, user: str = "alice", **body: object) -> tuple[int, dict]:
    return client.call("POST", f"{studio.P}/face-swap/process", user=user, body=body)


def wait_for(client: ApiClient, url: str, user: str = "alice") -> dict:
    job: dict = {}
    for _ in range(150):
        _, job = client.call("GET", url, user=user)
        if job["status"] not in ("queued", "running"):
            break
        time.sleep(0.1)
    return job


def test_the_face_really_moves_and_the_result_records_who_asked(
    deployed: Deployed, client: ApiClient
) -> None:
    before = studio.balance(client, "alice")
    base, face = astronaut(), lfw_face(1)
    status, body = swap(client, image=jpeg(base), face_image=jpeg(face))
    assert status == 200, body
    asset, image = studio.stored(deployed, client, "alice", body["outputs"][0]["asset_id"])
    image = image.convert("RGB")
    assert image.size == base.size
    (target,) = [b for b in detect_faces(base)][:1]
    region = inner(target)
    source_face = face.crop(inner(detect_faces(face)[0]))
    after, was = image.crop(region), base.crop(region)
    # the middle of the face now looks like the other person, and no longer like the astronaut
    assert correlation(after, source_face) > correlation(was, source_face) + 0.2
    assert correlation(after, was) < 0.8
    # charged once, the catalog price of the default model
    assert body["model"] == "image-face-swap" and body["credits_charged"] == 1
    assert studio.balance(client, "alice") == (before[0] - 1, 0)
    moves = [(e["kind"], e["amount"]) for e in studio.ledger(client, "alice") if e["ref"] == body["job_id"]]
    assert sorted(moves) == [("capture", 1), ("reserve", 1)], moves  # reserved once, captured once
    # provenance: who asked and when, the model, the operation
    meta = asset["metadata"]
    assert meta["requested_by"] == "alice" and meta["requested_at"] and meta["synthetic"] == "face swap"
    assert asset["operation"] == "face-swap" and asset["model"] == "image-face-swap"
    assert body["details"]["faces"]["base_faces"] == 1 and body["details"]["faces"]["checked"] is True
    image.save("/tmp/face_swap_result.png")


def test_the_chosen_face_of_a_group_photo(deployed: Deployed, client: ApiClient) -> None:
    photo = group()
    status, body = swap(client, image=jpeg(photo), face_image=jpeg(astronaut()), target_index=1)
    assert status == 200, body
    assert body["details"]["target_index"] == 1 and body["details"]["faces"]["base_faces"] == 3


def test_no_face_in_the_face_image_is_422_before_any_charge(client: ApiClient) -> None:
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    status, body = swap(client, image=jpeg(astronaut()), face_image=jpeg(Image.fromarray(data.coffee())))
    assert status == 422, body
    assert "No face was found in the face image" in body["error"]["message"]
    studio.assert_nothing_charged(client, "alice", before, entries)


def test_a_target_index_beyond_the_faces_found_is_422_saying_how_many(client: ApiClient) -> None:
    before, entries = studio.balance(client, "alice"), studio.ledger(client, "alice")
    status, body = swap(client, image=jpeg(astronaut()), face_image=jpeg(lfw_face(0)), target_index=2)
    assert status == 422, body
    assert body["error"]["details"]["faces_found"] == 1 and "from 0 to 0" in body["error"]["message"]
    status, body = swap(
        client, image=jpeg(group()), face_image=jpeg(lfw_face(0)), target_index=1, model="image-head-swap"
    )
    assert status == 422 and "between 0 and 0" in body["error"]["message"], body
    studio.assert_nothing_charged(client, "alice", before, entries)


def test_an_unknown_model_lists_the_face_swap_models(client: ApiClient) -> None:
    status, body = swap(client, image=jpeg(astronaut()), face_image=jpeg(lfw_face(0)), model="face-swapper")
    assert status == 422 and "image-face-swap-pro" in body["error"]["message"], body


def test_an_async_provider_runs_it_as_a_provider_job(client: ApiClient, faults) -> None:
    faults("face_swap:async")
    before = studio.balance(client, "alice")
    status, body = swap(
        client, image=jpeg(astronaut()), face_image=jpeg(lfw_face(1)), model="image-face-swap-pro"
    )
    assert status == 202, body
    assert body["status"] == "running" and body["credits_estimated"] == 3
    assert studio.balance(client, "alice") == (before[0] - 3, 3)  # reserved while it runs
    job = wait_for(client, body["links"]["status_url"])
    assert job["status"] == "succeeded", job
    assert job["credits_captured"] == 3 and len(job["outputs"]) == 1
    assert studio.balance(client, "alice") == (before[0] - 3, 0)


def test_a_failed_provider_job_refunds_everything(client: ApiClient, faults) -> None:
    faults("face_swap:async,face_swap:fail_job")
    before = studio.balance(client, "alice")
    status, body = swap(client, image=jpeg(astronaut()), face_image=jpeg(lfw_face(1)))
    assert status == 202, body
    job = wait_for(client, body["links"]["status_url"])
    assert job["status"] == "failed" and job["credits_captured"] == 0, job
    assert studio.balance(client, "alice") == before


def test_models_and_a_recommendation_that_reads_the_resolutions(client: ApiClient) -> None:
    status, listed = client.call("GET", f"{studio.P}/face-swap/models?tier=budget", user="alice")
    assert status == 200
    ids = {m["id"] for m in listed["models"]}
    assert "image-face-swap" in ids and "akool-face-swap" not in ids  # premium
    cheapest = next(m for m in listed["models"] if m["id"] == "image-face-swap")
    assert cheapest["cost"] == 0.01 and cheapest["credits"] == 1
    status, best = client.call(
        "POST",
        f"{studio.P}/face-swap/recommend",
        user="alice",
        body={
            "base_image_resolution": {"width": 1024, "height": 768},
            "face_image_resolution": {"width": 256, "height": 256},
            "preferences": {"prioritize_cost": True},
        },
    )
    assert status == 200 and best["recommended_model"] == "image-face-swap", best
    status, none = client.call(
        "POST",
        f"{studio.P}/face-swap/recommend",
        user="alice",
        body={"base_image_resolution": {"width": 4000, "height": 3000}},
    )
    assert status == 422 and "4000x3000" in none["error"]["message"], none


def test_the_original_client_gets_the_swap_inline(client: ApiClient) -> None:
    """FaceSwapStudio's call: base_image_base64 and face_image_base64, answered with a data URL."""
    status, body = swap(client, base_image_base64=jpeg(astronaut()), face_image_base64=jpeg(lfw_face(1)))
    assert status == 200, body
    assert body["success"] is True and body["image_base64"].startswith("data:image/png;base64,")
    assert (body["width"], body["height"]) == (512, 512) and body["model"] == "image-face-swap"
    assert body["metadata"]["requested_by"] == "alice" and body["credits_charged"] == 1
