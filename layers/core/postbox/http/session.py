"""The browser session cookie (docs/dhis2.md#browser-sessions): set from a verified bearer token, cleared on
sign-out."""

from postbox.auth import SESSION_COOKIE


def set_cookie(token: str, max_age: int) -> str:
    """HttpOnly (no script reads it), Secure (HTTPS only; browsers treat http://localhost as secure),
    SameSite=Lax (sent on a top-level GET navigation from a link, never on another site's POST or fetch)."""
    return f"{SESSION_COOKIE}={token}; Path=/api; Max-Age={max(0, max_age)}; HttpOnly; Secure; SameSite=Lax"


def clear_cookie() -> str:
    return f"{SESSION_COOKIE}=; Path=/api; Max-Age=0; HttpOnly; Secure; SameSite=Lax"


def bearer_token(headers: dict[str, str] | None) -> str | None:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    header = lowered.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return header[7:].strip() or None
