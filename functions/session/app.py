"""POST and DELETE /api/v1/session: a person signed in through the web gets, or drops, the HttpOnly session cookie
that attachment downloads accept in place of the bearer header (docs/dhis2.md#browser-sessions). Both need the
bearer header, so no other site can make a browser call them."""

from aws_lambda_powertools.event_handler import Response

from postbox.http.faces import native_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.http.session import bearer_token, clear_cookie, set_cookie
from postbox.logic.sessions import session_lifetime
from postbox.settings import TableSettings, require

require(TableSettings)

app = native_resolver()
TAGS = ["Browser sessions"]


@app.post("/api/v1/session", summary="Start my browser session (the download cookie)", tags=TAGS,
          responses={204: {"description": "Set-Cookie: postbox_session (HttpOnly, Secure, SameSite=Lax)"},
                     403: {"description": "An application, or not an active directory user"}})
def start():
    authorizer = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    claims = authorizer.get("claims") or authorizer
    max_age = session_lifetime(current_caller(app), int(claims.get("exp", 0) or 0))
    token = bearer_token(app.current_event.headers)
    headers = {"Set-Cookie": set_cookie(token or "", max_age if token else 0), "Cache-Control": "no-store"}
    return Response(204, None, "", headers=headers)


@app.delete("/api/v1/session", summary="End my browser session", tags=TAGS,
            responses={204: {"description": "Set-Cookie: postbox_session cleared"}})
def end():
    current_caller(app)
    return Response(204, None, "", headers={"Set-Cookie": clear_cookie(), "Cache-Control": "no-store"})


lambda_handler = api_entry(app)
