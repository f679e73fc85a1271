"""The OpenAPI document of the whole API, generated from the handlers' Powertools routes (every function
of template.yaml), with the Cognito bearer scheme. `python -m postbox_local.openapi` writes docs/openapi.json."""

import json
import os
import sys
import warnings

from postbox_local import template

OUTPUT = template.ROOT / "docs" / "openapi.json"


def build() -> dict:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

    merge = OpenAPIMerge(
        title="Postbox API", version="1.0.0",
        description=("Ona messaging (/api/v1/messaging), Aalam alerts (/aalam/base/...), the native inbox "
                     "(/api/v1/inbox) and the directory admin API. Every route except /health needs a Cognito "
                     "access token with scope postbox/user or "
                     "postbox/app; without one API Gateway answers 401 {\"detail\": \"Authentication credentials "
                     "were not provided.\"}."),
        servers=[Server(url="http://127.0.0.1:3000", description="make run")],
        security_schemes={"cognito": HTTPBearer(bearerFormat="JWT")},
        security=[{"cognito": []}],
        on_conflict="error",
    )
    for code_dir in sorted({route.code_dir for route in template.routes()}):
        merge.add_file(code_dir / "app.py", resolver_name="app")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return json.loads(merge.get_openapi_json_schema())


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT.relative_to(template.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
