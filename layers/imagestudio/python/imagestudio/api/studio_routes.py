"""The POST route of a registered operation, made from its spec: the body is the spec's request model,
the work is the spec's run, the answer is `studio_answer` (200 with outputs, 202 for a long job,
Idempotency-Key replays). A new studio declares `route=Route(...)` on its spec and its function's
app.py serves `studio_router(SPEC)`: no route module to write.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from imagestudio import API_PREFIX
from imagestudio.api.original_answers import (
    ORIGINAL_BUILDERS,
    OriginalFileAnswer,
    OriginalStudioAnswer,
    original_single,
)
from imagestudio.api.studio import SHAPES, StudioBody, studio_answer, studio_responses
from imagestudio.operations import registry
from imagestudio.operations.registry import OperationSpec


def studio_router(spec: OperationSpec) -> Router:
    if spec.route is None:
        raise ValueError(f"operation {spec.name!r} declares no route")
    route = spec.route
    router = Router()

    def handle(request: Any) -> Response[StudioBody]:
        # the original's shape (chosen as for every studio, api/original_answers.py): one image inline
        original = ORIGINAL_BUILDERS.get(spec.name, original_single)
        return studio_answer(router, scope=spec.name, request=request, run=spec.run, original=original)

    # The resolver validates the body against the annotation: the spec's own request model.
    handle.__annotations__ = {"request": spec.request, "return": Response[StudioBody]}
    handle.__name__ = handle.__qualname__ = f"post_{spec.name.replace('-', '_')}"
    router.post(
        f"{API_PREFIX}/{route.path}",
        summary=route.summary,
        description=route.description + SHAPES,
        tags=[route.tag],
        responses=studio_responses(
            OriginalFileAnswer if spec.name in ORIGINAL_BUILDERS else OriginalStudioAnswer
        ),
    )(handle)
    return router


def studio_routers(spec: OperationSpec) -> tuple[Router, ...]:
    """What a studio's function serves: its POST route and its read-only routes, if it has any."""
    return (studio_router(spec), *((spec.reads,) if spec.reads is not None else ()))


def registered_routers() -> tuple[Router, ...]:
    """The studio routes of every operation that declares one (for the one OpenAPI document)."""
    return tuple(r for s in registry.all_specs().values() if s.route is not None for r in studio_routers(s))
