"""Fuzzing (docs/architecture.md#limits): schemathesis generates requests from docs/openapi.json — valid ones and, as
much,
invalid ones (wrong types, missing fields, odd media types) — and sends them over real HTTP to a local stack of
their own (so the directory writes and deletions it may make never reach the other e2e tests), as several
callers in turn: two users, a user without roles, a superuser and an application. Every answer must be
no 5xx, and every documented response must match its schema.

`make test` runs a bounded number of examples per operation (derandomized, so a run is repeatable);
`make fuzz` runs many more, with fresh randomness (POSTBOX_FUZZ_EXAMPLES, POSTBOX_FUZZ_RANDOM).
"""

import itertools
import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from postbox_local import launcher

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("fuzz")]

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
EXAMPLES = int(os.environ.get("POSTBOX_FUZZ_EXAMPLES", "6"))
RANDOM = os.environ.get("POSTBOX_FUZZ_RANDOM", "") not in ("", "0", "false")
CALLERS = ("user:alice", "user:bob", "user:dave", "user:admin", "app:acme/billing")


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory):
    try:
        stack = launcher.start(tmp_path_factory.mktemp("fuzz-stack") / "stack.log")
    except RuntimeError as error:
        pytest.fail(str(error))
    yield stack
    stack.stop()


def _tokens() -> itertools.cycle:
    from postbox_local import tokens

    def token(caller: str) -> str:
        kind, name = caller.split(":", 1)
        return tokens.user_token(name) if kind == "user" else tokens.app_token(name)

    return itertools.cycle([token(caller) for caller in CALLERS])


_callers = None
schema = schemathesis.openapi.from_path(OPENAPI)
PHASES = os.environ.get("POSTBOX_FUZZ_PHASES", "examples,fuzzing").split(",")
schema.config.phases.update(phases=PHASES)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_documented_response_matches(case, fuzz_stack):
    global _callers
    _callers = _callers or _tokens()
    # call_and_validate raises on a failed check; the status is asserted here as well, for the reader.
    response = case.call_and_validate(base_url=fuzz_stack.url,
                                      headers={"Authorization": f"Bearer {next(_callers)}"},
                                      checks=[not_a_server_error, response_schema_conformance])
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:500])
