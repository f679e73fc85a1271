"""Recipients by name (GET /api/v1/lookup): what the web inbox's recipient picker shows (docs/web.md)."""

from typing import Literal

from pydantic import BaseModel, Field

RecipientKind = Literal["user", "group", "project", "xform", "entitylist", "kmskey"]


class RecipientOut(BaseModel):
    kind: RecipientKind = Field(description="user, group, or the target's type")
    id: str
    name: str = Field(description="The display name (a user's full name, a group's or target's name)")


class LookupOut(BaseModel):
    results: list[RecipientOut]
