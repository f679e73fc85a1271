"""POST /api/v1/directory: upsert a directory document (superusers only)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from postbox.http.faces import native_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.directory_admin import admin_upsert
from postbox.models.directory import DirectoryDocument, DirectoryWriteSummary
from postbox.settings import CursorSettings, TableSettings, require

require(TableSettings, CursorSettings)

app = native_resolver()


@app.post("/api/v1/directory", summary="Upsert directory entries", tags=["Directory"],
          responses={400: {"description": "Invalid document"}, 403: {"description": "Not a superuser"}})
def upsert(body: Annotated[DirectoryDocument, Body(embed=False)]) -> DirectoryWriteSummary:
    return admin_upsert(current_caller(app), body)


lambda_handler = api_entry(app)
