"""Which answer a studio request gets: ours by default, the original Image Studio's when it chooses it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from imagestudio.api.original_answers import ORIGINAL_MEDIA_TYPE, answer_shape
from imagestudio.operations.create import CreateRequest
from imagestudio.operations.edit import EditStudioRequest

ORIGINAL = ("alwrity-frontend",)


def event(
    body: dict[str, Any], *, accept: str | None = None, client: str | None = None
) -> APIGatewayProxyEventV2:
    claims: dict[str, Any] = {"sub": "alice"}
    if client:
        claims["azp"] = client
    return APIGatewayProxyEventV2(
        {
            "headers": {"accept": accept} if accept else {},
            "body": json.dumps(body),
            "requestContext": {"authorizer": {"jwt": {"claims": claims}}},
        }
    )


@pytest.mark.parametrize(
    ("body", "accept", "client", "shape"),
    [
        ({"prompt": "a pear"}, None, None, "url"),  # ours is the default
        ({"prompt": "a pear"}, None, "someone-else", "url"),  # only listed clients
        ({"prompt": "a pear"}, None, "alwrity-frontend", "original"),  # the original front end's token
        ({"prompt": "a pear"}, f"application/json, {ORIGINAL_MEDIA_TYPE}", None, "original"),
        ({"prompt": "a pear", "response_format": "url"}, ORIGINAL_MEDIA_TYPE, "alwrity-frontend", "url"),
        ({"prompt": "a pear", "response_format": "b64_json"}, None, None, "b64_json"),
    ],
)
def test_create_shape(body: dict[str, Any], accept: str | None, client: str | None, shape: str) -> None:
    assert answer_shape(event(body, accept=accept, client=client), CreateRequest(**body), ORIGINAL) == shape


def test_the_original_field_names_choose_the_original_shape() -> None:
    ours = {"image": "aGk=", "operation": "remove_background"}
    theirs = {"image_base64": "aGk=", "operation": "remove_background", "options": {}}
    assert answer_shape(event(ours), EditStudioRequest(**ours), ()) == "url"
    assert answer_shape(event(theirs), EditStudioRequest(**theirs), ()) == "original"
    asked = {**theirs, "response_format": "url"}
    assert answer_shape(event(asked), EditStudioRequest(**asked), ()) == "url"
