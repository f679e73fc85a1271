"""Static checks of template.yaml with a baseline (docs/testing.md): cfn-lint (every rule, informational ones too)
on the SAM template, and checkov on the template as CloudFormation sees it (SAM translated). Each accepted finding
is listed in tests/unit/static_baseline.txt with a one-line reason; any other finding fails."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from postbox_local import iam_roles

ROOT = Path(__file__).resolve().parents[2]
BASELINE = Path(__file__).with_name("static_baseline.txt")
CFN_LINT = ROOT / ".tools" / "bin" / "cfn-lint"
CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"


def baseline() -> dict[tuple[str, str, str], str]:
    """(tool, rule, resource) -> reason, from lines `tool rule resource  # reason`."""
    accepted = {}
    for line in BASELINE.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        finding, _, reason = line.partition("#")
        tool, rule, resource = finding.split()
        assert reason.strip(), f"no reason given for {finding.strip()}"
        accepted[(tool, rule, resource)] = reason.strip()
    return accepted


def cfn_lint_findings() -> set[tuple[str, str, str]]:
    done = subprocess.run([str(CFN_LINT), "--format", "json", "--include-checks", "I", "--", "template.yaml"],
                          cwd=ROOT, capture_output=True, text=True, check=False,
                          env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"})
    found = set()
    for match in json.loads(done.stdout or "[]"):
        path = match.get("Location", {}).get("Path") or []
        resource = path[1] if len(path) > 1 and path[0] == "Resources" else "-"
        found.add(("cfn-lint", match["Rule"]["Id"], str(resource)))
    return found


def checkov_findings(tmp_path: Path) -> set[tuple[str, str, str]]:
    translated = tmp_path / "translated.json"
    translated.write_text(json.dumps(iam_roles.translate((ROOT / "template.yaml").read_text())))
    done = subprocess.run([str(CHECKOV), "--quiet", "--compact", "--skip-download", "--framework", "cloudformation",
                           "-o", "json", "-f", str(translated)], capture_output=True, text=True, check=False,
                          env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"})
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    found = set()
    for one in reports:
        for check in one.get("results", {}).get("failed_checks", []):
            found.add(("checkov", check["check_id"], check["resource"].split(".", 1)[-1]))
    return found


@pytest.fixture(scope="module")
def findings(tmp_path_factory) -> set[tuple[str, str, str]]:
    if not CFN_LINT.exists() or not CHECKOV.exists() or not iam_roles.translator_python().exists():
        pytest.skip("cfn-lint and checkov live in .tools (make test installs them)")
    return cfn_lint_findings() | checkov_findings(tmp_path_factory.mktemp("static"))


def accepted(finding: tuple[str, str, str], listed: dict[tuple[str, str, str], str]) -> bool:
    tool, rule, resource = finding
    return (tool, rule, resource) in listed or (tool, rule, "*") in listed


def test_no_finding_outside_the_baseline(findings):
    listed = baseline()
    new = sorted(f for f in findings if not accepted(f, listed))
    assert new == [], "new findings (fix them, or add them to tests/unit/static_baseline.txt with a reason):\n" + \
        "\n".join(" ".join(f) for f in new)


def test_the_baseline_lists_only_findings_that_still_occur(findings):
    stale = sorted(f for f in baseline() if not any(f[:2] == g[:2] and f[2] in ("*", g[2]) for g in findings))
    assert stale == [], "no longer found, remove from the baseline:\n" + "\n".join(" ".join(f) for f in stale)
