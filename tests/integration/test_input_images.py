"""Every operation's input image: inline, by asset id or by upload id; only the caller's own."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from imagestudio.errors import InvalidInput, NotFound
from imagestudio.operations.inputs import resolve_input_image
from tests.conftest import ApiClient
from tests.integration.test_uploads import photo_with_gps, put, start


def png(w: int = 32, h: int = 24) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


def test_inline_base64_and_data_url(domain) -> None:
    raw = base64.b64encode(png()).decode()
    for value in (raw, f"data:image/png;base64,{raw}"):
        got = resolve_input_image(domain, "alice", image=value)
        assert (got.image.width, got.image.height, got.source, got.asset) == (32, 24, "inline", None)


def test_by_upload_and_by_asset_of_the_caller_only(client: ApiClient, domain) -> None:
    ticket = start(client, "alice")
    put(client, ticket, photo_with_gps())
    upload_id = ticket["upload"]["id"]
    by_upload = resolve_input_image(domain, "alice", upload_id=upload_id)
    assert (by_upload.image.width, by_upload.image.height) == (400, 300)
    assert by_upload.asset is not None and by_upload.asset.id == upload_id
    by_asset = resolve_input_image(domain, "alice", asset_id=upload_id)
    assert by_asset.source == "asset"
    with pytest.raises(NotFound):
        resolve_input_image(domain, "bob", asset_id=upload_id)
    with pytest.raises(NotFound):
        resolve_input_image(domain, "bob", upload_id=upload_id)


def test_a_pending_upload_or_two_sources_or_none_are_explained(client: ApiClient, domain) -> None:
    ticket = start(client, "alice")
    with pytest.raises(InvalidInput, match="pending"):
        resolve_input_image(domain, "alice", upload_id=ticket["upload"]["id"])
    with pytest.raises(InvalidInput, match="exactly one way"):
        resolve_input_image(domain, "alice", image="aGVsbG8=", asset_id="x")
    with pytest.raises(InvalidInput, match="got none"):
        resolve_input_image(domain, "alice")
