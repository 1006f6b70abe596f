"""save-to-library and asset versions, through the HTTP API (in-process)."""

from __future__ import annotations

import base64
import io

from PIL import Image

from tests.conftest import ApiClient

P = "/api/image-studio"


def inline_png(color: tuple[int, int, int] = (0, 128, 255)) -> str:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def test_an_inline_image_is_kept_with_its_prompt_and_no_cost_the_client_wrote(client: ApiClient) -> None:
    body = {
        "image": inline_png(),
        "prompt": "blue square",
        "provider": "wavespeed",
        "model": "qwen-image",
        "cost_credits": 10**30,  # a client cannot write what an asset cost: nothing was charged for it
        "tags": ["Launch", "launch", " hero "],
        "title": "Hero",
    }
    status, saved = client.call("POST", f"{P}/save-to-library", user="alice", body=body)
    assert status == 200, saved
    (asset,) = saved["assets"]
    # an image not made by a job of ours cost nothing here: the client cannot write a cost figure
    assert (asset["width"], asset["height"], asset["prompt"], asset["cost_credits"]) == (
        40,
        30,
        "blue square",
        0,
    )
    assert any("cost sent was ignored" in n for n in saved["notes"])
    status, stats = client.call("GET", f"{P}/assets/statistics", user="alice")
    assert status == 200 and stats["total_cost_credits"] == 0, stats
    # the user's tags (lower-cased, unique) plus automatic ones: colour, shape, size, format, prompt words
    auto = asset["metadata"]["auto_tags"]
    assert set(asset["tags"]) == {"hero", "launch"} | set(auto)
    assert {"blue", "landscape", "ratio-4x3", "small", "png", "square"} - {"square"} <= set(auto)
    assert client.call("GET", f"{P}/assets/{asset['id']}", user="alice")[0] == 200
    assert client.call("GET", f"{P}/assets/{asset['id']}", user="bob")[0] == 404


def test_save_needs_exactly_one_source(client: ApiClient) -> None:
    status, body = client.call("POST", f"{P}/save-to-library", user="alice", body={"title": "nothing"})
    assert status == 422 and "exactly one" in body["error"]["message"]


def test_job_outputs_are_kept_and_versions_list_lineage_both_ways(client: ApiClient, domain) -> None:
    domain.ledger.account("alice")
    _, created = client.call(
        "POST", f"{P}/create", user="alice", body={"prompt": "a red apple", "width": 96, "height": 96}
    )
    job_id, root = created["job_id"], created["outputs"][0]["asset_id"]
    status, saved = client.call(
        "POST",
        f"{P}/save-to-library",
        user="alice",
        body={"job_id": job_id, "title": "Apple", "tags": ["fruit"]},
    )
    assert status == 200 and saved["assets"][0]["id"] == root and saved["assets"][0]["title"] == "Apple"
    # the cost of a kept output is what its job charged
    job = client.call("GET", f"{P}/jobs/{job_id}", user="alice")[1]
    assert saved["assets"][0]["cost_credits"] == job["credits_captured"] > 0, job
    # a child and a grandchild, made as the studios record them (parent_id)
    parent = domain.assets.get("alice", root)
    child = domain.assets.create(parent.model_copy(update={"id": "CHILD", "parent_id": root}))
    domain.assets.create(parent.model_copy(update={"id": "GRANDCHILD", "parent_id": child.id}))
    status, lineage = client.call("GET", f"{P}/assets/{root}/versions", user="alice")
    assert status == 200
    assert [(d["depth"], d["asset"]["id"]) for d in lineage["descendants"]] == [
        (1, "CHILD"),
        (2, "GRANDCHILD"),
    ]
    _, up = client.call("GET", f"{P}/assets/GRANDCHILD/versions", user="alice")
    assert [a["id"] for a in up["ancestors"]] == ["CHILD", root]
    assert client.call("GET", f"{P}/assets/{root}/versions", user="bob")[0] == 404
