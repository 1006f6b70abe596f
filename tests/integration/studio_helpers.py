"""Helpers shared by the studio tests (Edit, Control, Upscale): images, money, stored assets."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

from PIL import Image, ImageDraw

from tests.conftest import ApiClient, Deployed
from tests.integration.test_uploads import photo_with_gps, put, start

P = "/api/image-studio"


def png(w: int, h: int, draw: Callable[[ImageDraw.ImageDraw], object] | None = None) -> bytes:
    """A white w x h PNG; `draw` paints on it."""
    im = Image.new("RGB", (w, h), "white")
    if draw is not None:
        draw(ImageDraw.Draw(im))
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def product(w: int = 256, h: int = 192) -> bytes:
    """A red disc centred on a white backdrop."""
    return png(w, h, lambda d: d.ellipse((w // 4, h // 6, 3 * w // 4, 5 * h // 6), fill=(200, 30, 40)))


def inline(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def balance(client: ApiClient, user: str) -> tuple[int, int]:
    status, body = client.call("GET", f"{P}/credits", user=user)
    assert status == 200, body
    return body["available"], body["reserved"]


def ledger(client: ApiClient, user: str) -> list[dict]:
    status, body = client.call("GET", f"{P}/credits/ledger", user=user)
    assert status == 200, body
    return body["entries"]


def estimate(client: ApiClient, user: str, **request: object) -> int:
    status, body = client.call("POST", f"{P}/estimate-cost", user=user, body=request)
    assert status == 200, body
    return int(body["credits"])


def stored(deployed: Deployed, client: ApiClient, user: str, asset_id: str) -> tuple[dict, Image.Image]:
    """The asset record (GET assets/{id}) and its file opened from S3."""
    status, asset = client.call("GET", f"{P}/assets/{asset_id}", user=user)
    assert status == 200, asset
    bucket = deployed.plan.physical["MediaBucket"]
    listed = deployed.session.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"assets/{user}/{asset_id}/")
    key = next(o["Key"] for o in listed["Contents"] if "/original." in o["Key"])
    body = deployed.session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    image = Image.open(io.BytesIO(body))
    image.load()
    return asset, image


def uploaded_asset(client: ApiClient, user: str) -> str:
    """A ready asset of `user`'s (a 400x300 photo, through the upload flow)."""
    ticket = start(client, user)
    put(client, ticket, photo_with_gps())
    return str(ticket["upload"]["id"])


def assert_nothing_charged(
    client: ApiClient, user: str, before: tuple[int, int], entries: list[dict]
) -> None:
    assert balance(client, user) == before
    assert ledger(client, user) == entries
