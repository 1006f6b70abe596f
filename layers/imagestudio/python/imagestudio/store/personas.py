"""Brand personas in the assets table: pk USER#{owner}, sk PERSONA#{id}."""

from __future__ import annotations

from imagestudio.errors import NotFound
from imagestudio.models.records import Persona, from_item, to_item
from imagestudio.store.dynamo import table, user_pk


class PersonaRepository:
    def __init__(self, table_name: str) -> None:
        self.table = table(table_name)

    def put(self, persona: Persona) -> Persona:
        self.table.put_item(
            Item={**to_item(persona), "pk": user_pk(persona.owner), "sk": f"PERSONA#{persona.id}"}
        )
        return persona

    def get(self, owner: str, persona_id: str) -> Persona:
        item = self.table.get_item(Key={"pk": user_pk(owner), "sk": f"PERSONA#{persona_id}"}).get("Item")
        if item is None:
            raise NotFound(
                f"No persona {persona_id}. Create it with PUT /api/image-studio/personas/{persona_id}."
            )
        return from_item(Persona, item)
