"""Uploads on moto: POST uploads -> S3 object -> the template's S3 trigger -> asset or rejection."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image

from tests.conftest import ApiClient

P = "/api/image-studio"


def photo_with_gps() -> bytes:
    """A 400x300 landscape photo stored sideways (EXIF orientation 6) with GPS tags, as phones write it."""
    im = Image.new("RGB", (300, 400))
    for y in range(400):
        for x in range(0, 300, 10):
            im.paste((x % 256, y % 256, 120), (x, y, x + 10, y + 1))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.0),
    }
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def start(
    client: ApiClient, user: str, content_type: str = "image/jpeg", filename: str = "beach.jpg"
) -> dict:
    status, ticket = client.call(
        "POST", f"{P}/uploads", user=user, body={"content_type": content_type, "filename": filename}
    )
    assert status == 200, ticket
    return ticket


def put(client: ApiClient, ticket: dict, data: bytes) -> None:
    """What the browser's POST to the presigned form ends in: the object at the form's key."""
    s3 = client.deployed.session.client("s3")
    bucket = client.deployed.plan.physical["MediaBucket"]
    s3.put_object(Bucket=bucket, Key=ticket["form"]["fields"]["key"], Body=data)


def test_a_photo_becomes_a_ready_asset_upright_without_gps_with_a_thumbnail(client: ApiClient) -> None:
    ticket = start(client, "alice")
    upload_id = ticket["upload"]["id"]
    assert ticket["upload"]["status"] == "pending"
    assert ticket["form"]["fields"]["key"] == f"uploads/alice/{upload_id}/original"
    assert "key" not in ticket["upload"] and "owner" not in ticket["upload"]

    put(client, ticket, photo_with_gps())

    status, body = client.call("GET", f"{P}/uploads/{upload_id}", user="alice")
    assert status == 200
    assert body["upload"]["status"] == "ready"
    asset = body["asset"]
    assert (asset["width"], asset["height"]) == (400, 300)  # rotated upright
    assert asset["source"] == "upload" and asset["filename"] == "beach.jpg"
    assert "gps" in asset["metadata"]["removed_metadata"]

    s3 = client.deployed.session.client("s3")
    bucket = client.deployed.plan.physical["MediaBucket"]
    stored = s3.get_object(Bucket=bucket, Key=f"assets/alice/{upload_id}/original.jpg")["Body"].read()
    image = Image.open(io.BytesIO(stored))
    assert image.size == (400, 300)
    assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert b"PhoneCo" not in stored
    thumb = Image.open(
        io.BytesIO(s3.get_object(Bucket=bucket, Key=f"assets/alice/{upload_id}/thumb.webp")["Body"].read())
    )
    assert thumb.format == "WEBP" and max(thumb.size) <= 512
    # the raw upload is gone; the asset route gives download URLs
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"uploads/alice/{upload_id}/").get("KeyCount") == 0
    status, got = client.call("GET", f"{P}/assets/{upload_id}", user="alice")
    assert status == 200 and got["download_url"].startswith("http") and got["thumbnail_url"]


def test_a_text_file_renamed_png_is_rejected_with_a_reason_and_deleted(client: ApiClient) -> None:
    ticket = start(client, "alice", "image/png", "notes.png")
    put(client, ticket, b"this is not an image, just some text\n" * 20)
    status, body = client.call("GET", f"{P}/uploads/{ticket['upload']['id']}", user="alice")
    assert status == 200
    assert body["upload"]["status"] == "rejected"
    assert "not an image" in body["upload"]["reason"].lower()
    assert body["asset"] is None
    s3 = client.deployed.session.client("s3")
    bucket = client.deployed.plan.physical["MediaBucket"]
    assert s3.list_objects_v2(Bucket=bucket, Prefix="uploads/").get("KeyCount") == 0


def test_a_repeated_s3_event_makes_one_asset(client: ApiClient) -> None:
    ticket = start(client, "alice")
    put(client, ticket, photo_with_gps())
    upload_id = ticket["upload"]["id"]
    event = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": client.deployed.plan.physical["MediaBucket"]},
                    "object": {"key": f"uploads/alice/{upload_id}/original", "size": 10},
                },
            }
        ]
    }
    result = client.deployed.invoke("OnUploadFunction", event)
    assert result.payload == ["ignored: upload already ready"]


def test_unsupported_content_type_is_refused_before_any_upload(client: ApiClient) -> None:
    status, body = client.call("POST", f"{P}/uploads", user="alice", body={"content_type": "application/pdf"})
    assert status == 422
    assert "image/png" in body["error"]["message"]


def test_another_users_upload_and_asset_answer_404(client: ApiClient) -> None:
    ticket = start(client, "alice")
    put(client, ticket, photo_with_gps())
    upload_id = ticket["upload"]["id"]
    for method, path in (
        ("GET", f"{P}/uploads/{upload_id}"),
        ("GET", f"{P}/assets/{upload_id}"),
        ("DELETE", f"{P}/assets/{upload_id}"),
    ):
        assert client.call(method, path, user="bob")[0] == 404, (method, path)
    assert client.call("GET", f"{P}/assets/{upload_id}", user="alice")[0] == 200  # still there


@pytest.mark.parametrize("key", ["uploads/alice/../bob/x/original", "uploads/bob/forged/original"])
def test_objects_nobody_asked_for_are_deleted(client: ApiClient, key: str) -> None:
    s3 = client.deployed.session.client("s3")
    bucket = client.deployed.plan.physical["MediaBucket"]
    s3.put_object(Bucket=bucket, Key=key, Body=photo_with_gps())
    assert s3.list_objects_v2(Bucket=bucket, Prefix="uploads/").get("KeyCount") == 0
    assert client.call("GET", f"{P}/assets/forged", user="bob")[0] == 404


def test_deleting_an_asset_removes_its_files(client: ApiClient) -> None:
    ticket = start(client, "alice")
    put(client, ticket, photo_with_gps())
    asset_id = ticket["upload"]["id"]
    status, body = client.call("DELETE", f"{P}/assets/{asset_id}", user="alice")
    assert (
        status == 200 and body["id"] == asset_id and body["deleted"] is True and body["objects_deleted"] == 2
    )
    s3 = client.deployed.session.client("s3")
    bucket = client.deployed.plan.physical["MediaBucket"]
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"assets/alice/{asset_id}/").get("KeyCount") == 0
    assert client.call("GET", f"{P}/assets/{asset_id}", user="alice")[0] == 404
