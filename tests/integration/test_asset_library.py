"""GET assets (filters, search, sorts, cursors), PATCH assets/{id}, POST assets/{id}/favorite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from imagestudio.ids import new_id
from imagestudio.models.records import Asset
from tests.conftest import ApiClient

P = "/api/image-studio"
BASE = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
TYPES = ["image", "image", "video", "audio", "model3d"]
OPS = ["create", "edit", "upscale", None]
TAGS = [["hero"], ["launch", "hero"], ["product"], [], ["launch"], ["Product", "night"]]
WORDS = ["Sunset beach", "City NIGHT", "red apple", None, "Mountain lake", "night market"]


def make(owner: str, i: int) -> Asset:
    created = BASE + timedelta(days=i, hours=i % 5, minutes=i)
    return Asset(
        id=new_id(now_ms=int(created.timestamp() * 1000)),
        owner=owner,
        type=TYPES[i % len(TYPES)],  # type: ignore[arg-type]
        key=f"assets/{owner}/{i}/original",
        mime="image/png",
        bytes=1000 + (i * 7919) % 5000,
        title=WORDS[i % len(WORDS)],
        description="shot on film" if i % 4 == 0 else None,
        prompt=f"a picture number {i}" + (" with a dragon" if i % 7 == 0 else ""),
        filename=f"file_{i}.png",
        operation=OPS[i % len(OPS)],
        source="uploaded" if i % 4 == 3 else "generated",
        cost_credits=(i * 13) % 11,
        tags=sorted({t.lower() for t in TAGS[i % len(TAGS)]}),
        favorite=i % 3 == 0,
        collection_id="trip" if i % 5 == 1 else None,
        created_at=created,
        updated_at=created + timedelta(hours=(i * 37) % 50),
    )


@pytest.fixture
def library(domain: Any) -> list[Asset]:
    alice = [domain.assets.create(make("alice", i)) for i in range(30)]
    for i in range(5):
        domain.assets.create(make("bob", 100 + i).model_copy(update={"title": "bob secret night"}))
    return alice


def list_all(client: ApiClient, user: str = "alice", limit: int = 7, **params: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        q = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        status, page = client.call("GET", f"{P}/assets?{urlencode(q)}", user=user)
        assert status == 200, page
        assert len(page["assets"]) <= limit
        seen += page["assets"]
        cursor = page["next_cursor"]
        if not cursor:
            return seen
    raise AssertionError("pagination did not end")


def newest(items: list[Asset]) -> list[str]:
    return [a.id for a in sorted(items, key=lambda a: (a.created_at, a.id), reverse=True)]


def haystack(a: Asset) -> str:
    return "\n".join(f for f in (a.title, a.description, a.prompt, a.filename, *a.tags) if f).casefold()


FILTERS: list[tuple[dict[str, Any], Any]] = [
    ({}, lambda a: True),
    ({"asset_type": "image"}, lambda a: a.type == "image"),
    ({"asset_type": "video"}, lambda a: a.type == "video"),
    ({"source_module": "edit"}, lambda a: "edit" in (a.operation, a.source)),
    ({"source_module": "uploaded"}, lambda a: "uploaded" in (a.operation, a.source)),
    ({"search": "NIGHT"}, lambda a: "night" in haystack(a)),
    ({"search": "dragon picture"}, lambda a: "dragon" in haystack(a) and "picture" in haystack(a)),
    ({"search": "film"}, lambda a: "film" in haystack(a)),
    ({"tags": "hero,product"}, lambda a: bool({"hero", "product"} & set(a.tags))),
    ({"tags": "Hero, LAUNCH", "tags_mode": "all"}, lambda a: {"hero", "launch"} <= set(a.tags)),
    ({"favorites_only": "true"}, lambda a: a.favorite),
    ({"collection_id": "trip"}, lambda a: a.collection_id == "trip"),
    (
        {"collection_id": "trip", "asset_type": "image"},
        lambda a: a.collection_id == "trip" and a.type == "image",
    ),
    (
        {"date_from": "2024-03-05", "date_to": "2024-03-20"},
        lambda a: datetime(2024, 3, 5, tzinfo=UTC) <= a.created_at < datetime(2024, 3, 21, tzinfo=UTC),
    ),
    (
        {"date_from": "2024-03-10T00:00:00Z", "asset_type": "image", "favorites_only": "true"},
        lambda a: a.created_at >= datetime(2024, 3, 10, tzinfo=UTC) and a.type == "image" and a.favorite,
    ),
    (
        {"date_to": "2024-03-08", "tags": "launch"},
        lambda a: a.created_at.date().day <= 8 and "launch" in a.tags,
    ),
]


def test_every_filter_pages_newest_first_without_gaps_or_repeats(
    client: ApiClient, library: list[Asset]
) -> None:
    for params, keep in FILTERS:
        expected = newest([a for a in library if keep(a)])
        got = [a["id"] for a in list_all(client, **params)]
        assert got == expected, params
    assert len(list_all(client)) == 30
    oldest = [a["id"] for a in list_all(client, order="asc", asset_type="image")]
    assert oldest == list(reversed(newest([a for a in library if a.type == "image"])))


SORTS = {
    "updated_at": lambda a: a.updated_at,
    "cost": lambda a: a.cost_credits,
    "file_size": lambda a: a.bytes,
    "title": lambda a: (a.title or "").casefold(),
}


@pytest.mark.parametrize("sort", sorted(SORTS))
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sorts_page_through_every_item_once_in_order(
    client: ApiClient, library: list[Asset], sort: str, order: str
) -> None:
    for params, keep in [FILTERS[0], FILTERS[5], FILTERS[8]]:
        items = [a for a in library if keep(a)]
        items.sort(key=lambda a: (SORTS[sort](a), a.id), reverse=order == "desc")
        got = [a["id"] for a in list_all(client, sort=sort, order=order, **params)]
        assert got == [a.id for a in items], (sort, order, params)


def test_bob_never_sees_alices_assets(client: ApiClient, library: list[Asset]) -> None:
    assert len(list_all(client, user="bob")) == 5
    for params in ({"search": "night"}, {"search": "sunset"}, {"sort": "title"}, {"asset_type": "image"}):
        assert all(a["title"] == "bob secret night" for a in list_all(client, user="bob", **params))
    target = library[0].id
    assert client.call("PATCH", f"{P}/assets/{target}", user="bob", body={"title": "x"})[0] == 404
    assert client.call("POST", f"{P}/assets/{target}/favorite", user="bob")[0] == 404
    # alice's cursor is refused for bob
    _, page = client.call("GET", f"{P}/assets?limit=3", user="alice")
    assert client.call("GET", f"{P}/assets?limit=3&cursor={page['next_cursor']}", user="bob")[0] == 422


def test_a_cursor_only_continues_its_own_query(client: ApiClient, library: list[Asset]) -> None:
    for first in ("limit=5", "limit=5&sort=title"):
        _, page = client.call("GET", f"{P}/assets?{first}", user="alice")
        cursor = page["next_cursor"]
        assert cursor
        for other in ("asset_type=image", "sort=cost", "order=asc", "search=night", "favorites_only=true"):
            status, body = client.call("GET", f"{P}/assets?limit=5&{other}&cursor={cursor}", user="alice")
            assert status == 422 and "different query" in body["error"]["message"], other
        assert client.call("GET", f"{P}/assets?{first}&cursor={cursor}", user="alice")[0] == 200
    assert client.call("GET", f"{P}/assets?cursor=%21%21garbage", user="alice")[0] == 422
    assert client.call("GET", f"{P}/assets?limit=0", user="alice")[0] == 422
    assert client.call("GET", f"{P}/assets?limit=501", user="alice")[0] == 422
    assert client.call("GET", f"{P}/assets?date_from=yesterday", user="alice")[0] == 422


def test_patch_and_favorite(client: ApiClient, library: list[Asset]) -> None:
    a = library[1]
    body = {"title": "Renamed", "description": "new words", "tags": ["Zeta", " alpha ", "ZETA", ""]}
    status, out = client.call("PATCH", f"{P}/assets/{a.id}", user="alice", body=body)
    assert status == 200, out
    assert (out["title"], out["description"], out["tags"]) == ("Renamed", "new words", ["alpha", "zeta"])
    status, out = client.call("PATCH", f"{P}/assets/{a.id}", user="alice", body={"title": "Only title"})
    assert out["tags"] == ["alpha", "zeta"] and out["description"] == "new words"
    assert [x["id"] for x in list_all(client, search="only title")] == [a.id]
    assert [x["id"] for x in list_all(client, tags="zeta")] == [a.id]
    too_many = {"tags": [f"t{i}" for i in range(51)]}
    assert client.call("PATCH", f"{P}/assets/{a.id}", user="alice", body=too_many)[0] == 422
    assert client.call("PATCH", f"{P}/assets/NOPE", user="alice", body={"title": "x"})[0] == 404

    was = a.favorite
    status, fav = client.call("POST", f"{P}/assets/{a.id}/favorite", user="alice")
    assert status == 200 and fav == {"id": a.id, "favorite": not was}
    _, fav = client.call("POST", f"{P}/assets/{a.id}/favorite", user="alice")
    assert fav["favorite"] is was
    _, fav = client.call("POST", f"{P}/assets/{a.id}/favorite", user="alice")
    favs = {x["id"] for x in list_all(client, favorites_only="true")}
    assert favs == {x.id for x in library if x.favorite} ^ {a.id}
    assert client.call("POST", f"{P}/assets/NOPE/favorite", user="alice")[0] == 404
