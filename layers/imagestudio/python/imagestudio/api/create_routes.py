"""POST create (Create Studio) and PUT/GET personas/{id} (brand personas `use_persona` applies)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import Field

from imagestudio import API_PREFIX
from imagestudio.api.context import caller, ports
from imagestudio.api.original_answers import OriginalCreateAnswer, original_create
from imagestudio.api.studio import SHAPES, StudioBody, studio_answer, studio_responses
from imagestudio.errors import NotFound
from imagestudio.models.records import Persona, utcnow
from imagestudio.models.requests import RequestModel
from imagestudio.operations.create import CreateRequest, create

router = Router()
personas_router = Router()


@router.post(
    f"{API_PREFIX}/create",
    summary="Create images from a prompt, template, quality tier or model",
    description="Outputs are exactly the requested (or template) size. Variations run concurrently with "
    "seed + i; a failed variation is reported and not charged. Accepts an Idempotency-Key." + SHAPES,
    tags=["Create"],
    responses=studio_responses(OriginalCreateAnswer),
)
def create_images(request: CreateRequest) -> Response[StudioBody]:
    return studio_answer(
        router,
        scope="create",
        request=request,
        run=create,
        original=original_create,
    )


class PersonaBody(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    tone: str | None = Field(None, max_length=100, description="e.g. playful, premium, calm")
    palette: list[str] = Field(default_factory=list, max_length=12, description="colour words or hex codes")
    style_words: list[str] = Field(default_factory=list, max_length=20)
    negative_words: list[str] = Field(default_factory=list, max_length=20)


class PersonaView(PersonaBody):
    id: str


PersonaId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]


@personas_router.put(
    f"{API_PREFIX}/personas/<persona_id>", summary="Create or replace a brand persona", tags=["Create"]
)
def put_persona(persona_id: PersonaId, body: PersonaBody) -> PersonaView:
    p = ports()
    owner = caller(personas_router).user_id
    try:
        created_at = p.personas.get(owner, persona_id).created_at
    except NotFound:
        created_at = utcnow()
    persona = Persona(
        id=persona_id, owner=owner, created_at=created_at, updated_at=utcnow(), **body.model_dump()
    )
    p.personas.put(persona)
    return PersonaView(id=persona.id, **body.model_dump())


@personas_router.get(f"{API_PREFIX}/personas/<persona_id>", summary="A brand persona", tags=["Create"])
def get_persona(persona_id: PersonaId) -> PersonaView:
    persona = ports().personas.get(caller(personas_router).user_id, persona_id)
    return PersonaView(**persona.model_dump(exclude={"owner", "created_at", "updated_at"}))
