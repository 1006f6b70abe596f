"""Social Optimizer over the in-process HTTP API: exact sizes, safe zones, limits, library, hot folder."""

from __future__ import annotations

import base64
import io
import zipfile

from PIL import Image

from tests.conftest import ApiClient, Deployed

P = "/api/image-studio"


def photo(width: int = 1600, height: int = 1067) -> bytes:
    im = Image.new("RGB", (width, height), (70, 110, 160))
    im.paste((225, 180, 150), (int(width * 0.15), int(height * 0.3), int(width * 0.3), int(height * 0.7)))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    return out.getvalue()


def read(deployed: Deployed, owner: str, asset_id: str, name: str) -> bytes:
    s3 = deployed.session.client("s3")
    bucket = deployed.plan.physical["MediaBucket"]
    keys = s3.list_objects_v2(Bucket=bucket, Prefix=f"assets/{owner}/{asset_id}/")["Contents"]
    key = next(k["Key"] for k in keys if k["Key"].rsplit("/", 1)[-1].startswith(name))
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_every_format_at_its_exact_size_with_safe_zones_and_a_bundle(
    client: ApiClient, deployed: Deployed
) -> None:
    body = {
        "image": base64.b64encode(photo()).decode(),
        "platforms": ["instagram", "linkedin", "blog"],
        "all_formats": True,
        "show_safe_zones": True,
        "bundle": True,
    }
    status, answer = client.call("POST", f"{P}/social/optimize", user="alice", body=body)
    assert status == 200, answer
    assert answer["credits_charged"] == 0
    outputs = answer["outputs"]
    assert {o["platform"] for o in outputs} == {"instagram", "linkedin", "blog"}
    assert len(outputs) >= 4 + 4 + 2
    for out in outputs:
        data = read(deployed, "alice", out["asset_id"], "original")
        image = Image.open(io.BytesIO(data))
        assert image.size == (out["width"], out["height"]), out
        zone = out["safe_zone"]
        assert 0 < zone["width"] < out["width"] and 0 < zone["height"] < out["height"]
        assert out["safe_zone_preview_url"]
    names = zipfile.ZipFile(io.BytesIO(read_bundle(client, answer["bundle_url"]))).namelist()
    assert len(names) == len(outputs)


def read_bundle(client: ApiClient, url: str) -> bytes:
    key = url.split("?", 1)[0].split(client.deployed.plan.physical["MediaBucket"] + "/", 1)[1]
    s3 = client.deployed.session.client("s3")
    return s3.get_object(Bucket=client.deployed.plan.physical["MediaBucket"], Key=key)["Body"].read()


def test_unknown_platform_or_format_names_the_valid_ones(client: ApiClient) -> None:
    image = base64.b64encode(photo(400, 300)).decode()
    status, body = client.call(
        "POST", f"{P}/social/optimize", user="alice", body={"image": image, "platforms": ["myspace"]}
    )
    assert status == 422 and "instagram" in str(body)
    status, body = client.call(
        "POST",
        f"{P}/social/optimize",
        user="alice",
        body={"image": image, "platforms": ["twitter"], "format_names": {"twitter": "Banner"}},
    )
    assert status == 422 and "Header" in body["error"]["message"]


def test_outputs_from_a_library_asset_record_it_as_their_parent(
    client: ApiClient, deployed: Deployed
) -> None:
    from tests.integration.test_uploads import put, start

    ticket = start(client, "alice")
    put(client, ticket, photo())
    source = ticket["upload"]["id"]
    status, answer = client.call(
        "POST", f"{P}/social/optimize", user="alice", body={"asset_id": source, "platforms": ["pinterest"]}
    )
    assert status == 200, answer
    _, lineage = client.call("GET", f"{P}/assets/{source}/versions", user="alice")
    assert {d["asset"]["id"] for d in lineage["descendants"]} == {o["asset_id"] for o in answer["outputs"]}
    assert client.call(
        "POST", f"{P}/social/optimize", user="bob", body={"asset_id": source, "platforms": ["x"]}
    )[0] in (404, 422)


def test_an_upload_with_a_recipe_exports_itself(client: ApiClient, deployed: Deployed) -> None:
    status, ticket = client.call(
        "POST",
        f"{P}/uploads",
        user="alice",
        body={
            "content_type": "image/jpeg",
            "filename": "launch.jpg",
            "social_export": {"platforms": ["instagram", "tiktok"], "crop_mode": "smart"},
        },
    )
    assert status == 200, ticket
    s3 = deployed.session.client("s3")
    s3.put_object(
        Bucket=deployed.plan.physical["MediaBucket"], Key=ticket["form"]["fields"]["key"], Body=photo()
    )
    _, upload = client.call("GET", f"{P}/uploads/{ticket['upload']['id']}", user="alice")
    assert upload["upload"]["status"] == "ready"
    exported = upload["upload"]["exported"]
    assert len(exported) == 2 and upload["upload"]["export_error"] is None
    sizes = set()
    for asset_id in exported:
        _, asset = client.call("GET", f"{P}/assets/{asset_id}", user="alice")
        assert asset["parent_id"] == ticket["upload"]["id"] and asset["source"] == "social"
        sizes.add((asset["width"], asset["height"]))
    assert sizes == {(1080, 1080), (1080, 1920)}


def _followed(client: ApiClient, data: bytes, **extra: object) -> dict:
    body = {"image": base64.b64encode(data).decode(), "platforms": ["instagram"], **extra}
    status, answer = client.call("POST", f"{P}/social/optimize", user="alice", body=body)
    assert status == 200, answer
    return answer


def test_the_answer_shows_what_the_crops_followed_and_how_to_correct_it(client: ApiClient) -> None:
    from skimage import data

    portrait = io.BytesIO()
    Image.fromarray(data.astronaut()).save(portrait, "PNG")
    answer = _followed(client, portrait.getvalue())
    subject = answer["subject"]
    assert subject["followed"] == "faces" and subject["faces"] == 1
    assert (subject["source_width"], subject["source_height"]) == (512, 512)
    core, box = subject["core"], subject["box"]
    # the core is her face (about x 165-290, y 40-168), the box the whole person around it
    assert (
        core["x"] < 190
        and core["x"] + core["width"] > 265
        and core["y"] < 70
        and core["y"] + core["height"] > 150
    )
    assert box["x"] <= core["x"] and box["x"] + box["width"] >= core["x"] + core["width"]
    assert box["height"] > 2 * core["height"]
    assert "Smart crop followed 1 face." in answer["notes"]
    assert subject["note"] == "Smart crop followed 1 face."  # the page says it once, under the photo

    # a product shot: the warm block at 15-30% across, 30-70% down, on a flat blue
    answer = _followed(client, photo())
    subject = answer["subject"]
    assert subject["followed"] == "subject" and subject["faces"] == 0
    box = subject["box"]
    assert 0.1 * 1600 < box["x"] < 0.2 * 1600 and 0.25 * 1600 < box["x"] + box["width"] < 0.35 * 1600
    assert any("focal point" in note for note in answer["notes"])

    flat = io.BytesIO()
    Image.new("RGB", (900, 600), (128, 128, 128)).save(flat, "PNG")
    answer = _followed(client, flat.getvalue())
    assert answer["subject"]["followed"] == "no subject" and answer["subject"]["box"] is None
    assert any("no clear subject" in note and "focal point" in note for note in answer["notes"])

    answer = _followed(client, photo(), focal_point={"x": 0.2, "y": 0.5})
    assert answer["subject"]["followed"] == "focal point" and answer["subject"]["box"] is None
    assert _followed(client, photo(), crop_mode="center")["subject"]["followed"] == "centre"
