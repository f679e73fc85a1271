"""Browser sessions (docs/dhis2.md#browser-sessions): a person signed in through the web trades their bearer
token, once verified, for an HttpOnly cookie holding the same token, for as long as the token lives."""

import time

from postbox.auth import Caller
from postbox.errors import Forbidden
from postbox.logic.permissions import require_active_user

APPS_HAVE_NO_SESSION = "Applications have no browser session."


def session_lifetime(caller: Caller, expires_at: int, now: int | None = None) -> int:
    """Seconds the cookie may live: until the token expires. Only an active directory user gets one (one read)."""
    if caller.is_app:
        raise Forbidden(APPS_HAVE_NO_SESSION)
    require_active_user(caller)
    return max(0, expires_at - int(now if now is not None else time.time()))
