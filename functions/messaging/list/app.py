"""GET /api/v1/messaging: a target's messages, newest first (Ona: filters, page numbers or cursors, group_by)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from postbox.http.faces import ona_resolver
from postbox.http.links import link_header
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.messages import ListQuery, list_messages
from postbox.models.ona import GroupRow, MessageOut
from postbox.settings import AttachmentSettings, BucketSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, BucketSettings, CursorSettings, LimitsSettings, AttachmentSettings)

app = ona_resolver()

TIMESTAMP_HELP = ("Also timestamp__gt|gte|lt|lte and timestamp__{year,month,day,hour,minute}[__gt|__gte|__lt|__lte], "
                  "in UTC.")


@app.get("/api/v1/messaging", summary="List a target's messages", tags=["Ona messaging"],
         responses={400: {"description": "Missing or invalid parameters"}, 403: {"description": "Not allowed"},
                    404: {"description": "Invalid page"}})
def list_(
    target_type: Annotated[str | None, Query(description="xform, project, user, kmskey or entitylist")] = None,
    target_id: Annotated[str | None, Query()] = None,
    verb: Annotated[str | None, Query()] = None,
    user: Annotated[str | None, Query(description="Sender username")] = None,
    timestamp: Annotated[str | None, Query(description=TIMESTAMP_HELP)] = None,
    page: Annotated[str | None, Query(description="1-based page number, or 'last'")] = None,
    page_size: Annotated[str | None, Query(description="Default 1000, at most 10000")] = None,
    cursor: Annotated[str | None, Query(description="Cursor mode: empty for the first page")] = None,
    group_by: Annotated[list[str] | None, Query(description="user, verb and one of hour/day/week/month/year")] = None,
) -> Response[list[MessageOut] | list[GroupRow]]:
    raw = app.current_event.query_string_parameters or {}
    query = ListQuery(
        target_type=target_type, target_id=target_id, verb=verb, user=user,
        timestamp_lookups={k: v for k, v in raw.items() if k.startswith("timestamp")},
        page=page, page_size=page_size, cursor=cursor, group_by=tuple(group_by or ()),
    )
    result = list_messages(current_caller(app), query)
    link = link_header(app.current_event, result.links)
    # The route validates the rows against its return type (MessageOut or GroupRow) as it serializes them.
    return Response(200, "application/json", result.rows,  # type: ignore[arg-type]
                    headers={"Link": link} if link else None)


lambda_handler = api_entry(app)
