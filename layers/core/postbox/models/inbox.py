"""The native inbox (/api/v1/inbox): entries, counts and state changes."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from postbox.ids import ID_PATTERN

InboxKind = Literal["message", "conversation", "alert"]
EntryId = Annotated[str, StringConstraints(pattern=f"^{ID_PATTERN}$")]
MAX_IDS = 100


class InboxItemOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str
    kind: InboxKind
    source_id: str
    from_: str = Field(alias="from")
    from_name: str | None = Field(default=None, description="The sender's display name, when it differs from `from` "
                                                            "(a message's sender id)")
    subject: str | None = Field(default=None, description="A conversation's subject")
    text: str
    truncated: bool = False
    created_at: str
    read: bool
    read_at: str | None = None
    archived: bool


class InboxPageOut(BaseModel):
    items: list[InboxItemOut]
    next_cursor: str | None


class InboxCountsOut(BaseModel):
    unread: int
    total: int


class EntryIdsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[EntryId], Field(min_length=1, max_length=MAX_IDS)]


class MarkedReadOut(BaseModel):
    markedRead: list[str]


class MarkedUnreadOut(BaseModel):
    markedUnread: list[str]


class ArchivedOut(BaseModel):
    archived: list[str]


class UnarchivedOut(BaseModel):
    unarchived: list[str]
