"""GET /api/v1/lookup: recipients by name for the web inbox's picker (users, groups, writable targets)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from postbox.http.faces import native_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.lookup import MAX_RESULTS, lookup
from postbox.models.lookup import LookupOut
from postbox.settings import TableSettings, require

require(TableSettings)

app = native_resolver()


@app.get("/api/v1/lookup", summary="Find recipients by name", tags=["Lookup"],
         responses={400: {"description": "A missing or too long query, or a limit out of range"},
                    403: {"description": "An application, or not an active directory user"}})
def get_lookup(
    query: Annotated[str, Query(min_length=1, max_length=100, description="Part of a name or id")],
    limit: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 10,
) -> LookupOut:
    return lookup(current_caller(app), query, limit)


lambda_handler = api_entry(app)
