"""The DHIS2 Messaging app's requests through its own data layer, and browser sessions in Chromium, against the
local stack (docs/dhis2.md#the-dhis2-messaging-app, docs/dhis2.md#browser-sessions): node's test runner runs
tests/e2e/dhis2app/, whose npm packages (@dhis2/app-service-data, playwright-core) `make test` installs from its
package-lock.json."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from postbox_local.template import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

HERE = ROOT / "tests" / "e2e" / "dhis2app"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
TIMEOUT_SECONDS = 240


def _run(local_stack, test_file: str) -> str:
    missing = [what for what, ok in (("node", shutil.which("node")), (str(CHROMIUM), CHROMIUM.exists()),
                                     ("tests/e2e/dhis2app/node_modules",
                                      (HERE / "node_modules" / "@dhis2" / "app-service-data").is_dir())) if not ok]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run `make test` (it installs them)")
    env = {**os.environ, "POSTBOX_URL": local_stack.url, "CHROMIUM": str(CHROMIUM)}
    try:
        result = subprocess.run(["node", "--test", "--test-reporter=spec", test_file], cwd=HERE, env=env,
                                capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{test_file} did not finish in {TIMEOUT_SECONDS}s:\n{error.stdout}")
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"{test_file} failed:\n{report[-12000:]}"
    assert re.search(r"^ℹ fail 0$", report, re.M) and not re.search(r"^ℹ pass 0$", report, re.M), report[-4000:]
    return report


def test_the_apps_request_sequence_through_data_engine(local_stack):
    """Start-up, user search, me, configuration, conversations, tickets, versioned uploads and a trailing-slash
    create, on /api/40 and /api, through @dhis2/app-service-data's DataEngine."""
    report = _run(local_stack, "app-sequence.test.mjs")
    assert re.search(r"^ℹ pass 4$", report, re.M), report[-4000:]


def test_browser_downloads_with_the_session_cookie(local_stack):
    """In Chromium: a participant downloads with only the cookie, a stranger gets no file, a cross-site form post
    changes nothing."""
    report = _run(local_stack, "browser-session.test.mjs")
    assert re.search(r"^ℹ pass 3$", report, re.M), report[-4000:]
