"""The answer every studio operation gives (`studio_answer`), whatever route it serves.

Ours by default; the original Image Studio's shape, images inline, when the request chooses it
(api/original_answers.py `answer_shape`).

A finished operation answers 200 with its outputs; one that runs as a long job at the provider
(relight, creative upscale) answers 202 with the job's links and a Location header: follow
status_url. An Idempotency-Key replays the first answer (with fresh download URLs) without doing
the work or charging again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from imagestudio.api.context import caller, ports
from imagestudio.api.idempotency import HEADER, run_idempotent
from imagestudio.api.operation_views import (
    Inliner,
    OperationResponse,
    ResponseFormat,
    operation_response,
)
from imagestudio.api.original_answers import (
    OriginalCreateAnswer,
    OriginalFileAnswer,
    OriginalPending,
    OriginalStudioAnswer,
    answer_shape,
    original_pending,
)
from imagestudio.models.records import OPEN_STATUSES
from imagestudio.operations.core import Outcome
from imagestudio.ports import Ports

Req = TypeVar("Req", bound=BaseModel)


def _refresh(answer: OperationResponse, p: Ports, owner: str, response_format: ResponseFormat) -> None:
    """A replayed answer: new download URLs (the first ones expire), inlined again when asked."""
    inliner = Inliner(p.blobs, answer.notes)
    for output in answer.outputs:
        asset = p.assets.get(owner, output.asset_id)
        output.url = p.blobs.download_url(asset.key)
        output.thumbnail_url = p.blobs.download_url(asset.thumbnail_key) if asset.thumbnail_key else None
        output.b64_json = inliner.b64(asset) if response_format == "b64_json" else None


#: builds the original's answer from ours: (our answer, ports, owner) -> the original's body
OriginalBuilder = Callable[[OperationResponse, Ports, str], BaseModel]
StudioBody = (
    OperationResponse | OriginalCreateAnswer | OriginalStudioAnswer | OriginalPending | OriginalFileAnswer
)


def studio_responses(original: type[BaseModel]) -> dict[int, OpenAPIResponse]:
    """Both shapes in the OpenAPI document: ours (recommended), and the original's."""
    return {
        200: {
            "description": "Done. Ours (recommended, the default): the job, what it cost and each output "
            "with a download URL. With response_format=original (see the route's description): "
            f"{original.__name__}, the original Image Studio's shape with the images inline.",
            "content": {"application/json": {"model": OperationResponse | original}},
        },
        202: {
            "description": "Accepted: the operation runs as a long job at the provider (credits reserved). "
            "Follow links.status_url (also the Location header) for its outputs. In the original's shape: "
            "the same with success false and a detail saying where the result will be (the original client "
            "cannot poll).",
            "content": {"application/json": {"model": OperationResponse | OriginalPending}},
        },
        413: {
            "description": "An inline answer (b64_json or original) that could not fit in Lambda's 6 MB: "
            "refused before any credit is reserved; `detail` says what to change.",
        },
    }


#: how a studio route says the answer is chosen (appended to its description)
SHAPES = (
    " Answer: ours by default (download URLs; recommended). response_format=b64_json adds each file "
    "inline; response_format=original (or Accept: application/vnd.imagestudio.original+json, a token "
    "of a client listed in OriginalClientIds, or a body using the original client's field names such as "
    "image_base64) answers the original Image Studio's shape with the images inline. An inline answer "
    "that could not fit in Lambda's 6 MB is refused with 413 before any credit is reserved."
)


def studio_answer(
    route: Router,
    *,
    scope: str,
    request: Req,
    run: Callable[[Ports, str, Req], Outcome],
    original: OriginalBuilder,
) -> Response[StudioBody]:
    """Run a studio operation once per Idempotency-Key and answer 200, or 202 for a long job, in the
    shape the request chose (`answer_shape`): ours, or the original's with the images inline."""
    who = caller(route)
    key = route.current_event.headers.get(HEADER)
    shape = answer_shape(route.current_event, request, ports().settings.original_clients)
    if shape != getattr(request, "response_format", shape):
        request = request.model_copy(update={"response_format": shape})  # the operation checks the fit
    ran: list[bool] = []

    def once() -> dict[str, object]:
        ran.append(True)
        p = ports()
        # With a key the answer is kept for replays: URLs only, inlined after (records stay small).
        fmt: ResponseFormat = "b64_json" if shape == "b64_json" and not key else "url"
        return operation_response(run(p, who.user_id, request), p.blobs, response_format=fmt).model_dump(
            mode="json"
        )

    stored = run_idempotent(
        key,
        user=who.user_id,
        scope=scope,
        body=request.model_dump(mode="json"),
        run=once,
        context=route.lambda_context,
    )
    answer = OperationResponse.model_validate(stored)
    if key and (not ran or shape == "b64_json"):
        _refresh(answer, ports(), who.user_id, "b64_json" if shape == "b64_json" else "url")
    body: StudioBody = answer
    if answer.status in OPEN_STATUSES:
        return Response(
            status_code=202,
            content_type=content_types.APPLICATION_JSON,
            body=original_pending(answer) if shape == "original" else answer,
            headers={"Location": answer.links.status_url},
        )
    if shape == "original":
        body = cast(StudioBody, original(answer, ports(), who.user_id))
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)
