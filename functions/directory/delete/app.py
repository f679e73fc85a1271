"""POST /api/v1/directory/delete: remove directory entries and what derives from them (superusers only)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from postbox.http.faces import native_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.directory_admin import admin_delete
from postbox.models.directory import DirectoryDeletion, DirectoryWriteSummary
from postbox.settings import CursorSettings, TableSettings, require

require(TableSettings, CursorSettings)

app = native_resolver()


@app.post("/api/v1/directory/delete", summary="Delete directory entries", tags=["Directory"],
          responses={400: {"description": "Invalid request"}, 403: {"description": "Not a superuser"}})
def delete(body: Annotated[DirectoryDeletion, Body(embed=False)]) -> DirectoryWriteSummary:
    return admin_delete(current_caller(app), body)


lambda_handler = api_entry(app)
