"""The catalog and estimate routers, resolved from HTTP API v2 events through build_resolver."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from imagestudio.api.catalog_routes import catalog_router, estimate_router
from imagestudio.api.resolver import build_resolver

P = "/api/image-studio"


class _Context:
    aws_request_id = "test-request"


@pytest.fixture(scope="module")
def app() -> APIGatewayHttpResolver:
    return build_resolver(catalog_router, estimate_router)


def call(
    app: APIGatewayHttpResolver, method: str, path: str, query: dict[str, str] | None = None, body: Any = None
) -> tuple[int, dict[str, Any]]:
    event = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"content-type": "application/json"},
        "queryStringParameters": query,
        "requestContext": {
            "http": {"method": method, "path": path, "sourceIp": "127.0.0.1"},
            "requestId": "r",
            "stage": "$default",
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
    response = app.resolve(event, _Context())
    return response["statusCode"], json.loads(response["body"])


def test_openapi_documents_every_route_with_tags_and_summaries(app: APIGatewayHttpResolver) -> None:
    spec = json.loads(app.get_openapi_json_schema())
    expected = {
        ("get", "/templates"),
        ("get", "/templates/search"),
        ("get", "/templates/recommend"),
        ("get", "/providers"),
        ("get", "/platform-specs/{platform}"),
        ("get", "/social/platforms/{platform}/formats"),
        ("get", "/edit/operations"),
        ("get", "/edit/models"),
        ("get", "/control/operations"),
        ("post", "/estimate-cost"),
        ("post", "/edit/recommend"),
    }
    found = {(m, p.removeprefix(P)) for p, ops in spec["paths"].items() for m in ops}
    assert found == expected
    for ops in spec["paths"].values():
        for op in ops.values():
            assert op["summary"] and op["tags"] and op["description"]
    search_params = {p["name"] for p in spec["paths"][f"{P}/templates/search"]["get"]["parameters"]}
    assert search_params == {"query", "limit"}
    body = spec["paths"][f"{P}/estimate-cost"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["discriminator"]["propertyName"] == "operation"
    # Where the original's shape and ours differ, the document describes both answers.
    for path, shapes in {
        "/providers": {"ProviderMap", "ProviderList"},
        "/edit/operations": {"EditOperationMap", "EditOperationList"},
        "/control/operations": {"ControlOperationMap", "ControlOperationList"},
    }.items():
        get = spec["paths"][f"{P}{path}"]["get"]
        schema = get["responses"]["200"]["content"]["application/json"]["schema"]
        assert {ref["$ref"].rsplit("/", 1)[1] for ref in schema["anyOf"]} == shapes, path
        assert {p["name"] for p in get["parameters"]} >= {"view"}
    # The 422 the document shows is the body we send: our error object and the detail string.
    error = spec["paths"][f"{P}/estimate-cost"]["post"]["responses"]["422"]["content"]["application/json"]
    name = error["schema"]["$ref"].rsplit("/", 1)[1]
    body_schema = spec["components"]["schemas"][name]
    assert body_schema["properties"]["detail"]["type"] == "string"
    assert set(body_schema["properties"]["error"]["required"]) == {"code", "message"}
    assert "ValidationError" not in spec["components"]["schemas"]


def test_templates_filtered_by_platform(app: APIGatewayHttpResolver) -> None:
    status, body = call(app, "GET", f"{P}/templates", {"platform": "youtube"})
    assert status == 200
    assert [(t["id"], t["width"], t["height"]) for t in body["templates"]] == [
        ("youtube_thumbnail", 1280, 720),
        ("youtube_channel_art", 2560, 1440),
    ]
    assert body["total"] == 2
    # The original's aspect_ratio object: the template selector shows ratio and width x height.
    assert body["templates"][0]["aspect_ratio"] == {
        "ratio": "16:9",
        "width": 1280,
        "height": 720,
        "label": "Landscape",
    }


def test_unknown_query_value_is_422_and_unknown_path_id_is_404(app: APIGatewayHttpResolver) -> None:
    status, body = call(app, "GET", f"{P}/templates", {"platform": "myspace"})
    assert status == 422 and "instagram" in body["error"]["message"]
    status, body = call(app, "GET", f"{P}/platform-specs/myspace")
    assert status == 404 and "youtube" in body["error"]["details"]["valid_choices"]
    status, body = call(app, "GET", f"{P}/social/platforms/myspace/formats")
    assert status == 404
    status, body = call(app, "GET", f"{P}/edit/models", {"operation": "blur"})
    assert status == 422 and "general_edit" in body["error"]["message"]


def test_search_and_recommend(app: APIGatewayHttpResolver) -> None:
    status, body = call(app, "GET", f"{P}/templates/search", {"query": "recipes", "limit": "1"})
    assert status == 200
    assert [r["template"]["id"] for r in body["results"]] == ["pinterest_pin"]
    assert body["results"][0]["score"] > 0 and body["results"][0]["reasons"]
    assert [t["id"] for t in body["templates"]] == ["pinterest_pin"]  # the original reads `templates`
    assert body["templates"][0]["aspect_ratio"]["label"] == "Portrait"
    status, body = call(
        app, "GET", f"{P}/templates/recommend", {"use_case": "product showcase", "platform": "ig"}
    )
    assert status == 200 and body["platform"] == "instagram"
    assert body["results"][0]["template"]["id"] == "instagram_feed_square"
    status, body = call(app, "GET", f"{P}/templates/search", {"query": "   "})
    assert status == 422
    status, body = call(app, "GET", f"{P}/templates/search", {"query": "product", "limit": "500"})
    assert status == 422


def test_platform_specs_and_formats(app: APIGatewayHttpResolver) -> None:
    status, body = call(app, "GET", f"{P}/platform-specs/x")
    assert status == 200 and body["platform"] == "twitter"
    assert body["specs"]["max_upload_mb"] == 5 and body["templates"] == [
        "twitter_post",
        "twitter_card",
        "twitter_header",
    ]
    status, body = call(app, "GET", f"{P}/social/platforms/email/formats")
    assert status == 200 and body["default_format"] == "Banner"
    assert [(f["name"], f["width"], f["height"]) for f in body["formats"]] == [
        ("Banner", 1920, 1080),
        ("Product Image", 1080, 1080),
    ]
    status, body = call(app, "GET", f"{P}/social/platforms/instagram/formats")
    story = next(f for f in body["formats"] if f["name"] == "Story")
    assert (story["ratio"], story["file_type"], story["max_size_mb"]) == ("9:16", "JPG", 30.0)


def test_providers_in_the_original_shape_keyed_by_id(app: APIGatewayHttpResolver) -> None:
    status, body = call(app, "GET", f"{P}/providers")
    assert status == 200
    providers = body["providers"]
    assert list(providers) == ["stability", "wavespeed", "huggingface", "gemini", "local"]
    stability = providers["stability"]
    assert stability["name"] == "Stability AI"  # the label the create studio shows
    assert stability["models"][0] == "stable-image-ultra" and "upscale" not in stability["models"]
    assert stability["cost_range"] == "US$0.03-0.08 per image"
    assert providers["huggingface"]["cost_range"] == "free"
    assert providers["wavespeed"]["max_resolution"] == [2048, 2048]


def test_providers_full_view_covers_all_five_with_models_and_prices(app: APIGatewayHttpResolver) -> None:
    status, body = call(app, "GET", f"{P}/providers", {"view": "full"})
    assert status == 200
    providers = {p["name"]: p for p in body["providers"]}
    assert list(providers) == ["stability", "wavespeed", "huggingface", "gemini", "local"]
    assert providers["wavespeed"]["max_side"] == 8192
    assert "image-to-video" in providers["wavespeed"]["capabilities"]
    assert providers["local"]["offline"] is True
    ultra = next(m for m in providers["stability"]["models"] if m["id"] == "stable-image-ultra")
    assert ultra["price"]["usd"] == "0.08" and ultra["price"]["summary"] == "US$0.08 per image"


def test_edit_operations_and_models(app: APIGatewayHttpResolver) -> None:
    status, body = call(app, "GET", f"{P}/edit/operations", {"view": "full"})
    assert status == 200 and body["total"] == 7
    relight = next(o for o in body["operations"] if o["id"] == "relight")
    assert relight["runs_async"] is True and relight["models"] == ["stability-relight"]
    status, body = call(app, "GET", f"{P}/edit/operations")
    assert status == 200 and next(iter(body["operations"])) == "remove_background"
    relight = body["operations"]["relight"]
    assert relight["async"] is True and relight["label"] == relight["name"]
    assert relight["fields"]["background"] and relight["fields"]["lighting"]
    inpaint = body["operations"]["inpaint"]["fields"]
    assert inpaint["prompt"] and inpaint["mask"] and not inpaint["expansion"]
    assert body["operations"]["outpaint"]["fields"]["expansion"]
    assert not body["operations"]["outpaint"]["fields"]["prompt"]  # optional: the UI does not require it
    status, body = call(app, "GET", f"{P}/edit/models", {"operation": "inpaint"})
    assert {m["id"]: m["usd"] for m in body["models"]} == {
        "z-image-turbo-inpaint": "0.02",
        "stability-inpaint": "0.05",
    }
    assert {m["id"]: m["cost"] for m in body["models"]} == {
        "z-image-turbo-inpaint": 0.02,
        "stability-inpaint": 0.05,
    }
    stability = next(m for m in body["models"] if m["id"] == "stability-inpaint")
    assert stability["max_resolution"] == [3072, 3072] and stability["use_cases"] == ["Inpaint & fix"]
    status, body = call(app, "GET", f"{P}/edit/models", {"tier": "premium", "operation": "general_edit"})
    assert {m["id"] for m in body["models"]} == {
        "nano-banana-pro-edit-ultra",
        "flux-kontext-max",
        "ideogram-character",
        "gpt-image-1",
    }
    nano = next(m for m in body["models"] if m["id"] == "nano-banana-pro-edit-ultra")
    assert (nano["cost_8k"], nano["max_resolution"], nano["supports_multi_image"]) == (
        0.18,
        [8192, 8192],
        True,
    )


def test_control_operations_keyed_by_id(app: APIGatewayHttpResolver) -> None:
    status, body = call(app, "GET", f"{P}/control/operations")
    assert status == 200 and list(body["operations"]) == ["sketch", "structure", "style", "style_transfer"]
    transfer = body["operations"]["style_transfer"]
    assert transfer["provider"] == "stability" and transfer["model"] == "stability-control-style-transfer"
    assert transfer["fields"]["style_image"] and transfer["fields"]["control_image"]
    assert not body["operations"]["sketch"]["fields"]["style_image"]
    assert body["operations"]["style"]["fields"]["aspect_ratio"]
    status, body = call(app, "GET", f"{P}/control/operations", {"view": "full"})
    assert [o["id"] for o in body["operations"]] == ["sketch", "structure", "style", "style_transfer"]


def test_estimate_cost(app: APIGatewayHttpResolver) -> None:
    status, body = call(
        app,
        "POST",
        f"{P}/estimate-cost",
        body={"operation": "image-to-video", "resolution": "720p", "duration": 10},
    )
    assert status == 200
    assert (body["model"], body["usd"], body["credits"], body["runs_async"]) == (
        "wan-2.5-image-to-video",
        "1.00",
        100,
        True,
    )
    # The create studio's body: the original's numbers beside ours.
    status, body = call(
        app,
        "POST",
        f"{P}/estimate-cost",
        body={
            "provider": "stability",
            "operation": "generate",
            "num_images": 3,
            "width": 1080,
            "height": 1080,
        },
    )
    assert status == 200 and (body["usd"], body["credits"]) == ("0.09", 9)
    assert (body["num_images"], body["cost_per_image"], body["total_cost"]) == (3, 0.03, 0.09)
    assert body["currency"] == "USD" and body["estimated"] is True
    status, body = call(app, "POST", f"{P}/estimate-cost", body={"operation": "teleport"})
    assert status == 422 and "talking-avatar" in body["error"]["message"]
    assert body["detail"] == body["error"]["message"]  # what the original front end shows
    status, body = call(
        app, "POST", f"{P}/estimate-cost", body={"operation": "generate", "model": "dall-e-3"}
    )
    assert status == 422 and "ideogram-v3-turbo" in body["error"]["details"]["valid_choices"]


def test_edit_recommend_with_the_original_body(app: APIGatewayHttpResolver) -> None:
    status, body = call(
        app,
        "POST",
        f"{P}/edit/recommend",
        body={
            "operation": "general_edit",
            "image_resolution": {"width": 1024, "height": 1024},
            "user_tier": "pro",
            "preferences": {"prioritize_quality": True},
        },
    )
    assert status == 200
    assert body["recommended_model"] == body["best"]["model_id"] == "nano-banana-pro-edit-ultra"
    assert len(body["alternatives"]) == 3
    for alternative in body["alternatives"]:  # the original's {model_id, name, cost, reason}
        assert alternative["cost"] == float(alternative["usd"]) and alternative["reason"]
    status, body = call(
        app, "POST", f"{P}/edit/recommend", body={"width": 1024, "height": 1024, "plan": "gold"}
    )
    assert status == 422 and "enterprise" in body["error"]["message"]


def test_a_body_that_is_not_json_is_422_saying_so(app: APIGatewayHttpResolver) -> None:
    event = {
        "version": "2.0",
        "routeKey": f"POST {P}/estimate-cost",
        "rawPath": f"{P}/estimate-cost",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": f"{P}/estimate-cost"}, "stage": "$default"},
        "body": "{not json",
        "isBase64Encoded": False,
    }
    response = app.resolve(event, _Context())
    assert response["statusCode"] == 422
    assert "not valid JSON" in json.loads(response["body"])["error"]["message"]
