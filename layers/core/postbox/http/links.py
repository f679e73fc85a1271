"""RFC 5988 Link headers with absolute URLs, exactly as Ona (DRF) writes them."""

from urllib.parse import urlencode

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from postbox.logic.paging import PageLinks


def request_url_base(event: APIGatewayProxyEvent) -> str:
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip()
    host = headers.get("host", "localhost")
    path = (event.raw_event.get("requestContext") or {}).get("path") or event.path
    return f"{scheme}://{host}{path}"


def link_header(event: APIGatewayProxyEvent, links: PageLinks) -> str | None:
    """`<URL>; rel="x"` entries joined by ", "; query parameters re-encoded in sorted key order."""
    if not links.relations:
        return None
    base = request_url_base(event)
    current = {k: list(v) for k, v in (event.multi_value_query_string_parameters or {}).items()}
    entries = []
    for relation, overrides in links.relations:
        params = dict(current)
        for name, value in overrides.items():
            if value is None:
                params.pop(name, None)
            else:
                params[name] = [value]
        query = urlencode(sorted(params.items()), doseq=True)
        entries.append(f'<{base}?{query}>; rel="{relation}"' if query else f'<{base}>; rel="{relation}"')
    return ", ".join(entries)
