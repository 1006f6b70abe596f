"""The answer every studio operation gives (`studio_answer`), whatever route it serves.

A finished operation answers 200 with its outputs; one that runs as a long job at the provider
(relight, creative upscale) answers 202 with the job's links and a Location header: follow
status_url. An Idempotency-Key replays the first answer (with fresh download URLs) without doing
the work or charging again.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from imagestudio.api.context import caller, ports
from imagestudio.api.idempotency import HEADER, run_idempotent
from imagestudio.api.operation_views import (
    INLINE_CAP_BYTES,
    OperationResponse,
    ResponseFormat,
    operation_response,
)
from imagestudio.models.records import OPEN_STATUSES
from imagestudio.operations.core import Outcome
from imagestudio.ports import Ports

STUDIO_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "Done: the job, what it cost and each output with a download URL.",
        "content": {"application/json": {"model": OperationResponse}},
    },
    202: {
        "description": "Accepted: the operation runs as a long job at the provider (credits reserved). "
        "Follow links.status_url (also the Location header) for its outputs.",
        "content": {"application/json": {"model": OperationResponse}},
    },
}


def _refresh(answer: OperationResponse, p: Ports, owner: str, response_format: ResponseFormat) -> None:
    """A replayed answer: new download URLs (the first ones expire), inlined again when asked."""
    budget = INLINE_CAP_BYTES
    for output in answer.outputs:
        asset = p.assets.get(owner, output.asset_id)
        output.url = p.blobs.download_url(asset.key)
        output.thumbnail_url = p.blobs.download_url(asset.thumbnail_key) if asset.thumbnail_key else None
        output.b64_json = None
        if response_format == "b64_json":
            if asset.bytes <= budget:
                output.b64_json = base64.b64encode(p.blobs.get(asset.key)).decode()
                budget -= asset.bytes
            else:
                answer.notes.append(f"output {asset.id} is too large to inline; use its url.")


def studio_answer(
    route: Router,
    *,
    scope: str,
    request: BaseModel,
    response_format: ResponseFormat,
    run: Callable[[Ports, str], Outcome],
) -> Response[OperationResponse]:
    """Run a studio operation once per Idempotency-Key and answer 200, or 202 for a long job."""
    who = caller(route)
    key = route.current_event.headers.get(HEADER)
    ran: list[bool] = []

    def once() -> dict[str, object]:
        ran.append(True)
        p = ports()
        # With a key the answer is kept for replays: URLs only, inlined after (records stay small).
        fmt: ResponseFormat = "url" if key else response_format
        return operation_response(run(p, who.user_id), p.blobs, response_format=fmt).model_dump(mode="json")

    stored = run_idempotent(
        key,
        user=who.user_id,
        scope=scope,
        body=request.model_dump(mode="json"),
        run=once,
        context=route.lambda_context,
    )
    answer = OperationResponse.model_validate(stored)
    if key and (not ran or response_format == "b64_json"):
        _refresh(answer, ports(), who.user_id, response_format)
    if answer.status in OPEN_STATUSES:
        return Response(
            status_code=202,
            content_type=content_types.APPLICATION_JSON,
            body=answer,
            headers={"Location": answer.links.status_url},
        )
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=answer)
