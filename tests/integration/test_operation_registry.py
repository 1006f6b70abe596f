"""The operation contract: one registry read by the API, batches and quotes; one rule for unknown
fields; a quote and a charge from the same price function."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from imagestudio.batches.rows import request_models
from imagestudio.operations import registry
from tests.conftest import ApiClient
from tests.integration import studio_helpers as studio

P = studio.P

# the route each registered operation is served at (the API's own paths)
ROUTES = {
    "create": "create",
    "edit": "edit/process",
    "upscale": "upscale",
    "control": "control",
    "social": "social/optimize",
    "image-to-video": "transform/image-to-video",
    "talking-avatar": "transform/talking-avatar",
    "image-to-3d": "transform/image-to-3d",
    "compress": "compress",
    "convert": "convert-format",
    "face-swap": "face-swap/process",
}


def test_the_registry_is_the_one_list_of_operations() -> None:
    specs = registry.all_specs()
    assert set(ROUTES) <= set(specs)
    assert set(request_models()) == {n for n, s in specs.items() if s.batch}
    assert {n for n, s in specs.items() if s.long} == {"image-to-video", "talking-avatar", "image-to-3d"}
    with pytest.raises(Exception, match="image-to-video"):
        registry.get("image-to-vidoe")  # an unknown name lists the valid ones


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_every_request_model_refuses_an_unknown_field_by_name(name: str) -> None:
    model = registry.get(name).request
    with pytest.raises(ValidationError) as err:
        model.model_validate({"prompt_strenght": 0.5})
    message = str(err.value)
    assert "unknown field 'prompt_strenght'" in message and "Valid fields:" in message
    assert all(f in message for f in list(model.model_fields)[:3])


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("create", {"prompt": "a red shoe", "num_variatons": 4}),
        ("social/optimize", {"platforms": ["instagram"], "image_bas64": "x"}),
        ("transform/image-to-video", {"image": "x", "durration": 10}),
        ("transform/estimate-cost", {"operation": "image-to-video", "resoluton": "720p"}),
    ],
)
def test_routes_that_used_to_drop_unknown_fields_now_refuse_them(
    client: ApiClient, route: str, body: dict
) -> None:
    before = studio.balance(client, "alice")
    status, answer = client.call("POST", f"{P}/{route}", user="alice", body=body)
    assert status == 422, answer
    unknown = next(k for k in body if k not in ("prompt", "platforms", "image", "operation"))
    assert f"'{unknown}'" in answer["error"]["message"] and "Valid fields" in answer["error"]["message"]
    assert studio.balance(client, "alice") == before  # nothing reserved or charged


def test_a_quote_and_the_charge_come_from_the_same_price(client: ApiClient) -> None:
    """The batch preview prices a create row with the registry's price; the run charges exactly it."""
    spec = registry.get("create")
    request = spec.request.model_validate({"prompt": "a lamp", "num_variations": 2, "quality": "draft"})
    quote = spec.price(request, registry.InputFacts())
    status, made = client.call(
        "POST", f"{P}/create", user="alice", body=request.model_dump(exclude_none=True)
    )
    assert status == 200, made
    assert made["credits_estimated"] == quote.credits == made["credits_charged"]
