"""GET /api/v1/stats/messaging: message counts per period and verb for a target (Ona)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query

from postbox.http.faces import ona_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.messages import ListQuery, message_stats
from postbox.settings import AttachmentSettings, BucketSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, BucketSettings, CursorSettings, LimitsSettings, AttachmentSettings)

app = ona_resolver()


@app.get("/api/v1/stats/messaging", summary="Message counts per period", tags=["Ona messaging"],
         responses={400: {"description": "Missing or invalid parameters"}, 403: {"description": "Not allowed"}})
def stats(
    target_type: Annotated[str | None, Query()] = None,
    target_id: Annotated[str | None, Query()] = None,
    group_by: Annotated[str | None, Query(description="day, month or year")] = None,
    verb: Annotated[str | None, Query()] = None,
    user: Annotated[str | None, Query()] = None,
) -> list[dict[str, Any]]:
    raw = app.current_event.query_string_parameters or {}
    query = ListQuery(target_type=target_type, target_id=target_id, verb=verb, user=user,
                      timestamp_lookups={k: v for k, v in raw.items() if k.startswith("timestamp")})
    return message_stats(current_caller(app), query, group_by)


lambda_handler = api_entry(app)
