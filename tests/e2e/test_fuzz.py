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


# -- hostile bodies, each asserted (docs/architecture.md#limits): never a 5xx, over real HTTP ------------------------
HOSTILE_JSON_ROUTES = [("POST", "/api/v1/messaging"), ("PUT", "/aalam/base/message"),
                       ("POST", "/api/messageConversations"), ("POST", "/api/v1/inbox/read"),
                       ("POST", "/api/messageConversations/read"), ("PATCH", "/api/v1/me/settings"),
                       ("POST", "/api/v1/directory"), ("POST", "/api/v1/attachments")]


def _hostile_bodies() -> dict[str, tuple[str, bytes]]:
    return {
        "nested 1,000 deep": ("application/json", ('{"a": ' * 1000 + "1" + "}" * 1000).encode()),
        "nested 100,000 deep": ("application/json", b"[" * 100_000 + b"]" * 100_000),
        "nested 33 deep": ("application/json", ('{"a": ' * 33 + "1" + "}" * 33).encode()),
        "not UTF-8": ("application/json", b'{"message": "caf\xe9 \xff\xfe", "subject": "\xc3\x28"}'),
        "not UTF-8, as text": ("text/plain", b"caf\xe9 \xff"),
        "over 1 MB": ("application/json", b'{"message": "' + b"x" * (1024 * 1024 + 10) + b'"}'),
        "multipart without a boundary": ("multipart/form-data", b"--x\r\n"),
        "multipart, malformed": ("multipart/form-data; boundary=x", b"--x\r\nnot a part\r\n--x--"),
    }


@pytest.mark.parametrize("caller", ["user:alice", "user:admin", "app:acme/billing"])
def test_hostile_bodies_are_never_a_server_error(fuzz_stack, caller):
    import requests

    from postbox_local import tokens

    kind, name = caller.split(":", 1)
    token = tokens.user_token(name) if kind == "user" else tokens.app_token(name)
    failures = []
    for method, path in HOSTILE_JSON_ROUTES:
        for label, (content_type, body) in _hostile_bodies().items():
            response = requests.request(method, fuzz_stack.url + path, data=body, timeout=60,
                                        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
            if response.status_code >= 500:
                failures.append((method, path, label, response.status_code, response.text[:200]))
    assert failures == []


@pytest.mark.parametrize("path", ["/api/fileResources?domain=MESSAGE_ATTACHMENT",
                                  "/api/messageConversations/attachments"])
def test_oversize_and_malformed_uploads_are_refused_not_failed(fuzz_stack, path):
    import requests

    from postbox_local import tokens

    headers = {"Authorization": f"Bearer {tokens.user_token('alice')}"}
    big = requests.post(fuzz_stack.url + path, headers=headers, timeout=60,
                        files={"file": ("big.txt", b"x" * (6 * 1024 * 1024), "text/plain")})
    assert big.status_code == 409 and "can't be bigger than 4194304" in big.json()["message"]
    for content_type, body in (("multipart/form-data; boundary=x", b"\xff" * 1000), ("application/json", b"{}"),
                               ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; "
                                                                   b"name=\"file\"; filename=\"a.txt\"\r\n\r\n")):
        response = requests.post(fuzz_stack.url + path, data=body, timeout=60,
                                 headers={**headers, "Content-Type": content_type})
        assert 400 <= response.status_code < 500, (content_type, response.status_code, response.text[:200])
