"""Collections and campaigns, share links, usage analytics and deleting assets others depend on."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from imagestudio.ids import new_id
from imagestudio.models.records import Asset, Share, utcnow
from tests.conftest import ApiClient

P = "/api/image-studio"


def stored(domain: Any, owner: str, **fields: Any) -> Asset:
    asset_id = new_id()
    key = f"assets/{owner}/{asset_id}/original.png"
    domain.blobs.put(key, b"\x89PNG fake", "image/png")
    domain.blobs.put(f"assets/{owner}/{asset_id}/thumb.webp", b"RIFF", "image/webp")
    return domain.assets.create(
        Asset(
            id=asset_id,
            owner=owner,
            key=key,
            thumbnail_key=f"assets/{owner}/{asset_id}/thumb.webp",
            mime="image/png",
            bytes=100,
            width=10,
            height=10,
            **fields,
        )
    )


def collection(client: ApiClient, user: str = "alice", **body: Any) -> dict[str, Any]:
    status, made = client.call("POST", f"{P}/collections", user=user, body={"name": "Spring", **body})
    assert status == 201, made
    return made


def test_collections_hold_assets_and_count_them(client: ApiClient, domain: Any) -> None:
    a, b, c = (stored(domain, "alice", title=f"pic {i}") for i in range(3))
    spring = collection(client)
    summer = collection(client, name="Summer", description="beach")
    status, added = client.call(
        "POST", f"{P}/collections/{spring['id']}/assets", user="alice", body={"asset_ids": [a.id, b.id]}
    )
    assert status == 200, added
    assert [x["result"] for x in added["assets"]] == ["added", "added"]
    assert added["collection"]["asset_count"] == 2

    # an asset is in one collection: adding it elsewhere moves it, and both counts follow
    status, moved = client.call(
        "POST", f"{P}/collections/{summer['id']}/assets", user="alice", body={"asset_ids": [b.id, c.id]}
    )
    assert [x["result"] for x in moved["assets"]] == ["moved", "added"]
    assert client.call("GET", f"{P}/collections/{spring['id']}", user="alice")[1]["asset_count"] == 1
    status, detail = client.call("GET", f"{P}/collections/{summer['id']}", user="alice")
    assert detail["asset_count"] == 2
    assert {x["id"] for x in detail["assets"]} == {b.id, c.id}
    status, page = client.call("GET", f"{P}/assets?collection_id={summer['id']}", user="alice")
    assert {x["id"] for x in page["assets"]} == {b.id, c.id}

    # an unknown id adds nothing
    status, err = client.call(
        "POST", f"{P}/collections/{spring['id']}/assets", user="alice", body={"asset_ids": [c.id, "nope"]}
    )
    assert status == 404 and "nope" in err["error"]["message"]
    assert client.call("GET", f"{P}/assets/{c.id}", user="alice")[1]["collection_id"] == summer["id"]

    # cover, rename, remove
    status, patched = client.call(
        "PATCH",
        f"{P}/collections/{summer['id']}",
        user="alice",
        body={"name": "Summer 26", "cover_asset_id": c.id},
    )
    assert status == 200 and patched["name"] == "Summer 26" and patched["cover_thumbnail_url"]
    assert patched["asset_count"] == 2  # a patch never touches the count
    status, _ = client.call("DELETE", f"{P}/collections/{summer['id']}/assets/{c.id}", user="alice")
    assert status == 200
    after = client.call("GET", f"{P}/collections/{summer['id']}", user="alice")[1]
    assert after["asset_count"] == 1 and after["cover_asset_id"] is None
    assert client.call("DELETE", f"{P}/collections/{summer['id']}/assets/{c.id}", user="alice")[0] == 404

    # deleting a collection keeps its assets
    status, gone = client.call("DELETE", f"{P}/collections/{summer['id']}", user="alice")
    assert status == 200 and gone["assets_released"] == 1
    assert client.call("GET", f"{P}/assets/{b.id}", user="alice")[1]["collection_id"] is None
    assert client.call("GET", f"{P}/collections/{summer['id']}", user="alice")[0] == 404
    names = [x["name"] for x in client.call("GET", f"{P}/collections", user="alice")[1]["collections"]]
    assert names == ["Spring"]


def test_campaigns_need_dates_and_known_platforms(client: ApiClient) -> None:
    status, err = client.call(
        "POST", f"{P}/collections", user="alice", body={"name": "Launch", "kind": "campaign"}
    )
    assert status == 422 and "starts_on" in err["error"]["message"]
    body = {"name": "Launch", "kind": "campaign", "starts_on": "2026-12-01", "ends_on": "2026-12-24"}
    status, err = client.call(
        "POST", f"{P}/collections", user="alice", body={**body, "platforms": ["myspace"]}
    )
    assert status == 422 and "instagram" in err["error"]["message"]
    status, err = client.call(
        "POST", f"{P}/collections", user="alice", body={**body, "ends_on": "2026-11-01", "platforms": ["x"]}
    )
    assert status == 422 and "after" in err["error"]["message"]
    launch = collection(client, **body, platforms=["instagram", "x"])
    assert launch["kind"] == "campaign" and launch["platforms"] == ["instagram", "twitter"]
    collection(client, name="Moodboard")
    status, err = client.call(
        "POST", f"{P}/collections", user="alice", body={"name": "B", "starts_on": "2026-01-01"}
    )
    assert status == 422 and "campaign" in err["error"]["message"]

    def names(query: str) -> list[str]:
        return [
            c["name"] for c in client.call("GET", f"{P}/collections?{query}", user="alice")[1]["collections"]
        ]

    assert names("kind=campaign") == ["Launch"]
    assert names("active_on=2026-12-10") == ["Launch"]
    assert names("active_on=2027-01-10") == []


def test_collections_are_private(client: ApiClient, domain: Any) -> None:
    mine = collection(client)
    theirs = stored(domain, "bob")
    for method, path, body in [
        ("GET", f"{P}/collections/{mine['id']}", None),
        ("PATCH", f"{P}/collections/{mine['id']}", {"name": "x"}),
        ("DELETE", f"{P}/collections/{mine['id']}", None),
        ("POST", f"{P}/collections/{mine['id']}/assets", {"asset_ids": [theirs.id]}),
    ]:
        assert client.call(method, path, user="bob", body=body)[0] == 404
    # nor can alice put bob's asset in her collection, or use it as a cover
    assert (
        client.call(
            "POST", f"{P}/collections/{mine['id']}/assets", user="alice", body={"asset_ids": [theirs.id]}
        )[0]
        == 404
    )
    assert (
        client.call(
            "PATCH", f"{P}/collections/{mine['id']}", user="alice", body={"cover_asset_id": theirs.id}
        )[0]
        == 404
    )
    assert client.call("GET", f"{P}/collections", user="bob")[1]["collections"] == []


def test_share_links_show_only_what_was_shared_until_revoked(client: ApiClient, domain: Any) -> None:
    shown, hidden = stored(domain, "alice", title="shown"), stored(domain, "alice", title="hidden")
    board = collection(client, name="Board")
    client.call("POST", f"{P}/collections/{board['id']}/assets", user="alice", body={"asset_ids": [shown.id]})
    status, share = client.call(
        "POST", f"{P}/shares", user="alice", body={"collection_id": board["id"], "expires_in": 3600}
    )
    assert status == 201, share
    assert len(share["token"]) >= 40 and share["url"].endswith(share["path"])
    assert share["url"].startswith("http://localhost/")

    status, public = client.call("GET", share["path"])  # no login
    assert status == 200, public
    assert [a["id"] for a in public["assets"]] == [shown.id]
    assert public["collection"]["name"] == "Board" and public["title"] == "Board"
    assert "owner" not in public["assets"][0] and "key" not in public["assets"][0]
    assert 0 < public["urls_expire_in"] <= 900
    client.call("GET", share["path"])
    listed = client.call("GET", f"{P}/shares", user="alice")[1]["shares"]
    assert listed[0]["views"] == 2 and listed[0]["active"] is True
    assert client.call("GET", f"{P}/assets/{shown.id}", user="alice")[1]["share_count"] == 1
    assert client.call("GET", f"{P}/assets/{hidden.id}", user="alice")[1]["share_count"] == 0

    # only the owner revokes; after that the link is gone
    assert client.call("DELETE", f"{P}/shares/{share['token']}", user="bob")[0] == 404
    status, revoked = client.call("DELETE", f"{P}/shares/{share['token']}", user="alice")
    assert status == 200 and revoked["active"] is False and revoked["revoked_at"]
    status, err = client.call("GET", share["path"])
    assert status == 404 and "revoked" in err["error"]["message"]
    assert client.call("GET", f"{P}/public/shares/{'x' * 43}")[0] == 404


def test_a_single_asset_link_serves_its_file_and_expires(client: ApiClient, domain: Any) -> None:
    asset = stored(domain, "alice", title="hero")
    status, share = client.call("POST", f"{P}/shares", user="alice", body={"asset_id": asset.id})
    assert status == 201
    public = client.call("GET", share["path"])[1]
    assert public["target_type"] == "asset" and public["assets"][0]["title"] == "hero"
    # the files come through our own path: no presigned S3 URL naming the bucket, the account or the owner
    bucket = client.deployed.plan.physical["MediaBucket"]
    shown = json.dumps(public)
    for secret in ("alice", bucket, client.deployed.plan.account_id, "Signature", "X-Amz"):
        assert secret not in shown, secret
    url = public["assets"][0]["url"]
    assert url == f"http://localhost{share['path']}/files/{asset.id}"
    status, headers, body = client.api.handle("GET", urlsplit(url).path, {"host": "localhost"}, b"")
    assert (status, headers["content-type"], body) == (200, "image/png", b"\x89PNG fake")
    assert headers["accept-ranges"] == "bytes" and "alice" not in headers["content-disposition"]
    thumb = urlsplit(public["assets"][0]["thumbnail_url"])
    status, headers, body = client.api.handle("GET", f"{thumb.path}?{thumb.query}", {"host": "x"}, b"")
    assert (status, headers["content-type"], body) == (200, "image/webp", b"RIFF")
    ranged = {"host": "x", "range": "bytes=1-3"}
    status, headers, body = client.api.handle("GET", urlsplit(url).path, ranged, b"")
    assert (status, body, headers["content-range"]) == (206, b"PNG", "bytes 1-3/9")
    # the token shows only what was shared: another asset of alice's, or a wrong token, is the same 404
    other = stored(domain, "alice", title="private")
    assert client.call("GET", f"{share['path']}/files/{other.id}")[0] == 404
    assert client.call("GET", f"{P}/public/shares/{'x' * 43}/files/{asset.id}")[0] == 404
    assert client.call("GET", f"{share['path']}/files/{asset.id}", user="bob")[0] == 200  # no login needed
    assert client.call("POST", f"{P}/shares", user="bob", body={"asset_id": asset.id})[0] == 404
    assert (
        client.call("POST", f"{P}/shares", user="alice", body={"asset_id": asset.id, "expires_in": 5})[0]
        == 422
    )
    status, _err = client.call("POST", f"{P}/shares", user="alice", body={})
    assert status == 422

    old = domain.shares.create(
        Share(
            token=new_id() + "expiredexpired",
            owner="alice",
            target_type="asset",
            target_id=asset.id,
            expires_at=utcnow() - timedelta(seconds=1),
        )
    )
    assert client.call("GET", f"{P}/public/shares/{old.token}")[0] == 404


@pytest.mark.usefixtures("domain")
def test_usage_is_counted_and_summarised(client: ApiClient, domain: Any) -> None:
    a = stored(domain, "alice", title="a", operation="create", cost_credits=8, favorite=True)
    b = stored(domain, "alice", title="b", operation="edit", cost_credits=5)
    stored(domain, "alice", title="c", type="video", operation="image-to-video", cost_credits=40)
    stored(domain, "bob", title="bob's", cost_credits=999)
    for _ in range(3):
        assert client.call("POST", f"{P}/assets/{b.id}/usage?action=download", user="alice")[0] == 200
    status, used = client.call("POST", f"{P}/assets/{a.id}/usage?action=share", user="alice")
    assert status == 200 and used["share_count"] == 1 and used["last_accessed"]
    assert client.call("POST", f"{P}/assets/{a.id}/usage?action=print", user="alice")[0] == 422
    assert client.call("POST", f"{P}/assets/{a.id}/usage?action=download", user="bob")[0] == 404

    status, _headers_body = client.call("GET", f"{P}/assets/{a.id}/download", user="alice")
    assert status == 302
    status, stats = client.call("GET", f"{P}/assets/statistics", user="alice")
    assert status == 200, stats
    assert stats["total_assets"] == 3
    assert stats["by_type"] == {"image": 2, "video": 1}
    assert stats["by_source"] == {"create": 1, "edit": 1, "image-to-video": 1}
    assert sum(stats["by_month"].values()) == 3
    assert stats["total_cost_credits"] == 53 and stats["total_cost_usd"] == "0.53"
    assert stats["favorites"] == 1
    assert stats["downloads"] == 4 and stats["shares"] == 1
    assert [m["asset_id"] for m in stats["most_used"]] == [b.id, a.id]
    assert stats["most_used"][0]["downloads"] == 3


def test_deleting_an_asset_others_depend_on(client: ApiClient, domain: Any) -> None:
    parent = stored(domain, "alice", title="original")
    child = stored(domain, "alice", title="edit", parent_id=parent.id, operation="edit")
    board = collection(client, name="Board")
    client.call(
        "POST", f"{P}/collections/{board['id']}/assets", user="alice", body={"asset_ids": [parent.id]}
    )
    client.call("PATCH", f"{P}/collections/{board['id']}", user="alice", body={"cover_asset_id": parent.id})
    share = client.call("POST", f"{P}/shares", user="alice", body={"asset_id": parent.id})[1]

    status, err = client.call("DELETE", f"{P}/assets/{parent.id}", user="alice")
    assert status == 409, err
    assert err["error"]["details"]["versions"] == [child.id] and err["error"]["details"]["live_shares"] == 1
    assert err["error"]["details"]["cover_of"] == [board["id"]] and "force=true" in err["error"]["message"]
    assert client.call("GET", f"{P}/assets/{parent.id}", user="alice")[0] == 200  # nothing was deleted

    assert client.call("DELETE", f"{P}/assets/{parent.id}?force=true", user="bob")[0] == 404
    status, done = client.call("DELETE", f"{P}/assets/{parent.id}?force=true", user="alice")
    assert status == 200, done
    assert done["versions_detached"] == [child.id] and done["shares_revoked"] == 1
    assert done["left_collection"] == board["id"] and done["objects_deleted"] == 2
    assert client.call("GET", f"{P}/assets/{parent.id}", user="alice")[0] == 404
    assert domain.blobs.size(parent.key) is None
    kept = client.call("GET", f"{P}/assets/{child.id}", user="alice")[1]
    assert kept["parent_id"] is None and kept["metadata"]["deleted_parent_id"] == parent.id
    after = client.call("GET", f"{P}/collections/{board['id']}", user="alice")[1]
    assert after["asset_count"] == 0 and after["cover_asset_id"] is None
    assert client.call("GET", share["path"])[0] == 404

    lone = stored(domain, "alice")
    assert client.call("DELETE", f"{P}/assets/{lone.id}", user="alice")[0] == 200


def test_an_edit_never_loses_a_usage_count(client: ApiClient, domain: Any) -> None:
    asset = stored(domain, "alice", title="before", collection_id=None)
    read = domain.assets.get("alice", asset.id)
    domain.assets.record_usage("alice", asset.id, "download")  # lands between the read and the write
    written = domain.assets.update(read.model_copy(update={"title": "after", "parent_id": None}))
    assert written.title == "after" and written.download_count == 1 and written.last_accessed
    status, page = client.call("GET", f"{P}/assets?search=after", user="alice")
    assert status == 200 and [a["id"] for a in page["assets"]] == [asset.id]
