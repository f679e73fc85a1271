"""The repository documents itself (docs/testing.md): nothing links or cites a path outside it, every cited
`docs/<file>.md#anchor` exists, every relative link of the Markdown resolves, every path the glossary of
docs/architecture.md names exists, and the README stays short with its two commands at the top."""

import re
import subprocess
import sys
import unicodedata
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core" / "postbox"
README_MAX_BYTES = 15_000
README_COMMANDS_WITHIN_LINES = 40

# Built from parts so that this file does not match itself.
OUTSIDE = {
    "a link to the brief's folder": re.compile(re.escape(".." + "/shared")),
    "a section of the brief": re.compile("DESIGN" + r"\s*§|DESIGN" + r"\.md"),
    "a reference file": re.compile(r"(?<![\w.-])" + "reference" + r"/[\w.-]+\.md"),
    "the brief's seed documents": re.compile(r"(?<![\w.-])" + "seeds" + "/"),
    "an absolute path of this machine": re.compile(r"(?<![\w.~-])" + "/" + "work" + "/"),
}
DOC_CITATION = re.compile(r"(?<![\w.-])docs/([\w.-]+\.md)(?:#([\w-]+))?")
MARKDOWN_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""<(?:a|img)\b[^>]*?\b(?:href|src)=["']([^"']+)["']""", re.IGNORECASE)
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"""<[a-z]+\b[^>]*\b(?:id|name)=["']([^"']+)["']""", re.IGNORECASE)
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# What the build makes and git ignores: documents may name these, they are not in a clone.
BUILT = ("web/dist", "web/node_modules", "bench/results", "build/", ".venv", ".tools", ".aws-sam")


@cache
def tracked_files() -> tuple[Path, ...]:
    """The files a clone holds: git's list, or (outside a git checkout) every file but the ignored build output."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        names = [name for name in listed.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        names = [str(path.relative_to(ROOT)) for path in ROOT.rglob("*") if path.is_file()
                 and not any(part in {".git", "__pycache__", "node_modules", ".pytest_cache", ".ruff_cache"}
                             for part in path.parts)
                 and not str(path.relative_to(ROOT)).startswith(BUILT)]
    return tuple(ROOT / name for name in sorted(names) if (ROOT / name).is_file())


def text_of(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


@cache
def tracked_texts() -> tuple[tuple[Path, str], ...]:
    return tuple((path, text) for path in tracked_files() if (text := text_of(path)) is not None)


def markdown_files() -> list[Path]:
    return [path for path in tracked_files() if path.suffix == ".md"]


def outside_code(markdown: str) -> list[tuple[int, str]]:
    """(line number, line) of the Markdown outside fenced code blocks."""
    lines, fenced = [], False
    for number, line in enumerate(markdown.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text lowercased, punctuation dropped, each space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)          # a link's text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").lower()        # tags and code marks
    kept = "".join(ch for ch in text
                   if ch in " -_" or unicodedata.category(ch)[0] in "LN" or unicodedata.category(ch) in ("Mn", "Mc"))
    return kept.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Every anchor GitHub renders for a Markdown file: one per heading (repeats get -1, -2, ...), and HTML ids."""
    found: dict[str, int] = {}
    result = set()
    for _, line in outside_code(path.read_text()):
        heading = HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            count = found.get(base, 0)
            found[base] = count + 1
            result.add(base if count == 0 else f"{base}-{count}")
        result.update(HTML_ANCHOR.findall(line))
    return frozenset(result)


def links_of(path: Path) -> list[tuple[int, str]]:
    links = []
    for number, line in outside_code(path.read_text()):
        line = CODE_SPAN.sub("", line)
        links += [(number, target) for target in MARKDOWN_LINK.findall(line) + HTML_LINK.findall(line)]
    return links


def is_external(target: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)) or target.startswith("//")


def inside(path: Path) -> bool:
    return path.resolve() == ROOT or ROOT in path.resolve().parents


def link_problem(source: Path, target: str) -> str | None:
    """Why a relative link of `source` does not resolve inside the repository (None if it does)."""
    address, _, anchor = target.partition("#")
    address = address.split("?", 1)[0]
    if address.startswith("/"):
        return "an absolute path: links must be relative to the file"
    destination = (source.parent / address) if address else source
    if not inside(destination):
        return "leaves the repository"
    relative = destination.resolve().relative_to(ROOT).as_posix()
    if not destination.exists():
        return "no such file or folder"
    if address and destination.is_file() and destination.resolve() not in {p.resolve() for p in tracked_files()}:
        return f"{relative} is not part of the repository (not tracked)"
    if anchor:
        if destination.suffix != ".md" or destination.is_dir():
            return None if destination.suffix != ".md" else "an anchor into a folder"
        if anchor not in anchors(destination.resolve()):
            return f"{relative} has no heading with the anchor #{anchor}"
    return None


# -- nothing points outside the repository ------------------------------------------------------------------------


def test_no_tracked_file_cites_or_links_a_path_outside_the_repository():
    problems = []
    for path, text in tracked_texts():
        for number, line in enumerate(text.splitlines(), 1):
            problems += [f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()[:120]}"
                         for what, pattern in OUTSIDE.items() if pattern.search(line)]
    assert not problems, "\n".join(problems)


def test_no_markdown_link_leaves_the_repository():
    problems = [f"{path.relative_to(ROOT)}:{number}: {target}"
                for path in markdown_files() for number, target in links_of(path)
                if not is_external(target) and not target.startswith("#")
                and not inside(path.parent / target.partition("#")[0])]
    assert not problems, "\n".join(problems)


# -- every citation and link resolves --------------------------------------------------------------------------


def test_every_cited_docs_file_and_anchor_exists():
    """`docs/<file>.md` and `docs/<file>.md#anchor` in code, comments, docstrings, tests, docs and the README."""
    problems = []
    for path, text in tracked_texts():
        for number, line in enumerate(text.splitlines(), 1):
            for name, anchor in DOC_CITATION.findall(line):
                document = ROOT / "docs" / name
                if not document.is_file():
                    problems.append(f"{path.relative_to(ROOT)}:{number}: docs/{name} does not exist")
                elif anchor and anchor not in anchors(document):
                    problems.append(f"{path.relative_to(ROOT)}:{number}: docs/{name} has no heading #{anchor}")
    assert not problems, "\n".join(problems)


def test_every_relative_markdown_link_resolves():
    problems = []
    for path in markdown_files():
        for number, target in links_of(path):
            if is_external(target):
                continue
            problem = link_problem(path, target)
            if problem:
                problems.append(f"{path.relative_to(ROOT)}:{number}: ({target}) {problem}")
    assert not problems, "\n".join(problems)


def glossary_paths() -> list[str]:
    """The code paths named in docs/architecture.md's glossary (backticked; relative to the repository, or to
    layers/core/postbox/ for logic/, dal/, models/, ...)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Glossary", 1)[1]
    tokens = [span[1] for line in section.splitlines() for span in CODE_SPAN.findall(line)]
    return [token for token in tokens
            if not token.startswith(("/", ".")) and " " not in token and ("/" in token or token.endswith(".py"))
            and "..." not in token and not any(mark in token for mark in "{}<>")]


def resolves(token: str) -> bool:
    for base in (ROOT, LAYER):
        candidates = list(base.glob(token)) if "*" in token else [base / token]
        candidates += [] if token.endswith((".py", "/")) or "*" in token else [base / f"{token}.py"]
        if any(candidate.exists() for candidate in candidates):
            return True
    return False


def test_every_path_in_the_glossary_exists():
    paths = glossary_paths()
    assert len(paths) > 40, "the glossary names the code of every face"
    missing = [token for token in paths if not resolves(token)]
    assert not missing, f"docs/architecture.md's glossary names paths that do not exist: {missing}"


def test_every_function_is_in_the_glossary():
    """A new area of functions/ gets a row: each function folder is covered by a glossary path."""
    paths = glossary_paths()
    functions = sorted({app.parent.relative_to(ROOT).as_posix() for app in ROOT.glob("functions/**/app.py")})
    covered = [fn for fn in functions
               if any(fn == token.rstrip("/") or (token.endswith("/*") and fn.startswith(token[:-1]))
                      for token in paths)]
    uncovered = [fn for fn in functions if fn not in covered]
    assert not uncovered, f"functions missing from docs/architecture.md's glossary: {uncovered}"


# -- the README ----------------------------------------------------------------------------------------------------


def test_readme_is_short():
    size = len((ROOT / "README.md").read_bytes())
    assert size < README_MAX_BYTES, f"README.md is {size} bytes; keep it under {README_MAX_BYTES}: detail goes in docs/"


def test_readme_shows_the_two_commands_and_the_layout_at_its_top():
    top = (ROOT / "README.md").read_text().splitlines()[:README_COMMANDS_WITHIN_LINES]
    commands = [line for line in top if re.match(r"^make (run|test)\b", line)]
    assert [line.split()[1] for line in commands] == ["run", "test"], top
    assert any(line.strip() == "## Layout" for line in top), "the Layout follows the two commands"


def test_readme_keeps_no_benchmark_tables():
    """Figures live in docs/benchmarks.md, written by `make bench`; the README at most links there."""
    readme = (ROOT / "README.md").read_text()
    assert "| measure |" not in readme and "cold import" not in readme.lower()
    assert "docs/benchmarks.md" in readme


# -- the checks themselves ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("heading", "anchor"), [
    ("Data model", "data-model"),
    ("Callbacks (`backend_url`)", "callbacks-backend_url"),
    ("7. The web inbox (CloudFront, Cognito hosted UI, IoT Core over WSS)",
     "7-the-web-inbox-cloudfront-cognito-hosted-ui-iot-core-over-wss"),
    ("Glossary: where each face lives", "glossary-where-each-face-lives"),
    ("Compatibility notes — Ona (`/api/v1/messaging`)", "compatibility-notes--ona-apiv1messaging"),
    ("`active: false`", "active-false"),
    ("See [the docs](" + "docs" + "/x.md)", "see-the-docs"),
])
def test_anchors_are_githubs_slugs(heading, anchor):
    assert slug(heading) == anchor


def test_repeated_headings_get_numbered_anchors(tmp_path):
    document = tmp_path / "x.md"
    document.write_text("# Notes\n\n```\n# not a heading\n```\n\n## Notes\n\n## Notes\n")
    assert anchors(document) == {"notes", "notes-1", "notes-2"}


@pytest.mark.parametrize("line", [
    "see " + ".." + "/shared/" + "DESIGN" + ".md",
    "# as " + "DESIGN" + " §10 says",
    "from " + "reference" + "/ona.md",
    "the Aalam document in " + "seeds" + "/",
    "open " + "/" + "work" + "/main/README.md",
])
def test_outside_patterns_catch_what_they_are_for(line):
    assert any(pattern.search(line) for pattern in OUTSIDE.values())


@pytest.mark.parametrize("line", [
    "docs/architecture.md#permissions", "https://docs.aws.amazon.com/lambda/latest/dg/welcome.html",
    "layers/core/postbox/dal/keys.py", "a ~/work/ folder of one's own", "framework/work/x",
])
def test_outside_patterns_leave_ordinary_text_alone(line):
    assert not any(pattern.search(line) for pattern in OUTSIDE.values())


def test_link_checks_catch_broken_and_escaping_links():
    readme = ROOT / "README.md"
    assert link_problem(readme, "docs/architecture.md#permissions") is None
    assert link_problem(readme, "docs" + "/architecture.md#no-such-heading") is not None
    assert link_problem(readme, "docs" + "/no-such-file.md") is not None
    assert link_problem(readme, ".." + "/shared/" + "DESIGN" + ".md") == "leaves the repository"
    assert link_problem(ROOT / "docs" / "ona.md", "../bench/") is None


def test_the_benchmark_page_has_the_block_make_bench_rewrites(tmp_path):
    sys.path.insert(0, str(ROOT))
    try:
        from bench import report
    finally:
        sys.path.remove(str(ROOT))
    report.check(ROOT / "docs" / "benchmarks.md")
    page = tmp_path / "benchmarks.md"
    page.write_text(f"# B\n\nprose\n\n{report.BEGIN}\nstale figures\n{report.END}\n\nafter\n")
    results = {"requests": [{"operation": "create", "requests": 2, "calls": {"PutItem": 1, "BatchGetItem": 1},
                             "budget": 2}],
               "imports": {"baseline_ms": 100.0, "handlers_ms": {"functions/health": 90.0}},
               "meta": {"python": "3.11.9", "when": "2026-12-06 10:00:00", "seconds": 1.0, "cpus": 2,
                        "load": [0.5, 1.5], "args": {"messages": 200}}}
    report.write_into(page, results)
    text = page.read_text()
    assert text.startswith("# B\n\nprose\n\n" + report.BEGIN) and text.endswith(report.END + "\n\nafter\n")
    assert "| DynamoDB requests: create | 2 (1 BatchGetItem, 1 PutItem) | 2 | 1.00x |" in text
    assert "stale figures" not in text and "`python -m bench --messages 200`" in text
    assert "on 2 CPUs (load average 0.5 when it started, 1.5 when it ended)" in text

    results["failed"] = {"throughput_tls": "TimeoutError: _ssl.c:989: The handshake operation timed out"}
    del results["imports"]
    report.write_into(page, results)
    assert "- `throughput_tls`: TimeoutError: _ssl.c:989: The handshake operation timed out" in page.read_text()
