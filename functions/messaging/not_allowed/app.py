"""PUT/PATCH on messages (and PUT/PATCH/DELETE on the collection): Ona has no update, so 405."""

from postbox.http.faces import ona_resolver
from postbox.http.resolver import api_entry, json_response
from postbox.settings import TableSettings, require

require(TableSettings)

app = ona_resolver()


def _not_allowed(message_id: str | None = None):
    allowed = "GET, DELETE, HEAD, OPTIONS" if message_id else "GET, POST, HEAD, OPTIONS"
    return json_response(405, {"detail": f'Method "{app.current_event.http_method}" not allowed.'},
                         headers={"Allow": allowed})


for method in ("put", "patch"):
    getattr(app, method)("/api/v1/messaging/<message_id>", include_in_schema=False)(_not_allowed)
for method in ("put", "patch", "delete"):
    getattr(app, method)("/api/v1/messaging", include_in_schema=False)(_not_allowed)

lambda_handler = api_entry(app)
