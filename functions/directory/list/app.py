"""GET /api/v1/directory/{kind}: directory entries of one kind in the file format (superusers only)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from postbox.http.faces import native_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.directory_admin import admin_list
from postbox.settings import CursorSettings, TableSettings, require

require(TableSettings, CursorSettings)

app = native_resolver()


@app.get("/api/v1/directory/<kind>", summary="List directory entries", tags=["Directory"],
         responses={403: {"description": "Not a superuser"}, 404: {"description": "Unknown kind"}})
def list_(
    kind: Annotated[str, Path(description="users, groups, org_units, targets or apps")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    return admin_list(current_caller(app), kind, limit=limit, cursor=cursor)


lambda_handler = api_entry(app)
