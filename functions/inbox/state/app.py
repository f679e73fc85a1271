"""POST /api/v1/inbox/{read,unread,read-all,archive,unarchive}: change the read or archive state of entries."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from postbox.http.faces import native_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.inbox import change_state, read_all
from postbox.models.inbox import ArchivedOut, EntryIdsIn, MarkedReadOut, MarkedUnreadOut, UnarchivedOut
from postbox.settings import CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings)

app = native_resolver()

Ids = Annotated[EntryIdsIn, Body(embed=False)]


@app.post("/api/v1/inbox/read", summary="Mark entries read", tags=["Inbox"])
def read(body: Ids) -> MarkedReadOut:
    return MarkedReadOut(markedRead=change_state(current_caller(app), body.ids, "read"))


@app.post("/api/v1/inbox/unread", summary="Mark entries unread", tags=["Inbox"])
def unread(body: Ids) -> MarkedUnreadOut:
    return MarkedUnreadOut(markedUnread=change_state(current_caller(app), body.ids, "unread"))


@app.post("/api/v1/inbox/read-all", summary="Mark every entry read", tags=["Inbox"])
def read_everything() -> MarkedReadOut:
    return MarkedReadOut(markedRead=read_all(current_caller(app)))


@app.post("/api/v1/inbox/archive", summary="Archive entries", tags=["Inbox"])
def archive(body: Ids) -> ArchivedOut:
    return ArchivedOut(archived=change_state(current_caller(app), body.ids, "archive"))


@app.post("/api/v1/inbox/unarchive", summary="Move entries back to the inbox", tags=["Inbox"])
def unarchive(body: Ids) -> UnarchivedOut:
    return UnarchivedOut(unarchived=change_state(current_caller(app), body.ids, "unarchive"))


lambda_handler = api_entry(app)
