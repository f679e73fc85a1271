"""GET /health: public liveness probe."""

from postbox.http.faces import native_resolver
from postbox.http.resolver import api_entry
from postbox.settings import TableSettings, require

require(TableSettings)

app = native_resolver()


@app.get("/health", summary="Liveness", tags=["Health"], security=[])
def health() -> dict[str, str]:
    return {"status": "ok"}


lambda_handler = api_entry(app)
