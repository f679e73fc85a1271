"""The code's shape (docs/architecture.md): one job per module, no import cycles in the layer, and imports at the
top of a module unless a comment says why one waits (a handler's cold start, an optional dependency)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core"
MODULE_LINES_MAX = 400


def _modules(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def test_no_module_in_the_layer_or_the_local_stack_is_over_400_lines():
    sizes = {str(path.relative_to(ROOT)): len(path.read_text().splitlines()) for path in _modules("layers", "local")}
    assert {path: lines for path, lines in sizes.items() if lines > MODULE_LINES_MAX} == {}


def _layer_imports() -> dict[str, set[str]]:
    """Module -> the postbox modules it imports, at the top or inside functions."""
    names = {".".join(path.relative_to(LAYER).with_suffix("").parts).removesuffix(".__init__"): path
             for path in _modules("layers/core/postbox")}
    graph: dict[str, set[str]] = {}
    for name, path in names.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("postbox"):
                imported |= {f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in names else node.module
                             for alias in node.names}
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names if alias.name.startswith("postbox")}
        graph[name] = {module for module in imported if module in names and module != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return path[path.index(module):] + [module]
        if module in done:
            return None
        for imported in sorted(graph[module]):
            found = visit(imported, [*path, module])
            if found:
                return found
        done.add(module)
        return None

    for module in sorted(graph):
        found = visit(module, [])
        if found:
            return found
    return None


def test_the_layer_has_no_import_cycle():
    assert _cycle(_layer_imports()) is None


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]


def _late_imports(path: Path) -> list[str]:
    """Imports inside functions with no comment on them or on the line above their group of imports."""
    lines = path.read_text().splitlines()
    found: set[str] = set()
    for function in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        blocks = [getattr(node, name) for node in ast.walk(function) for name in ("body", "orelse", "finalbody")
                  if isinstance(getattr(node, name, None), list)]
        for block in blocks:
            group: list[ast.stmt] = []
            for node in [*block, None]:
                if isinstance(node, ast.Import | ast.ImportFrom):
                    group.append(node)
                    continue
                if group and not _explained(lines, group):
                    found |= {f"{path.relative_to(ROOT)}:{imp.lineno}: {lines[imp.lineno - 1].strip()}"
                              for imp in group}
                group = []
    return sorted(found)


def _explained(lines: list[str], group: list[ast.stmt]) -> bool:
    above = lines[group[0].lineno - 2].strip()
    return above.startswith("#") or any("#" in line for imp in group
                                        for line in lines[imp.lineno - 1:imp.end_lineno])


@pytest.mark.parametrize("folder", ["layers", "local", "functions"])
def test_imports_inside_functions_say_why(folder):
    assert [problem for path in _modules(folder) for problem in _late_imports(path)] == []


def test_no_module_in_the_layer_imports_boto3_when_it_is_imported():
    """Importing boto3 costs about as much as the rest of a handler's cold start: the layer imports it on first use
    (a module's top holds it only for type checking)."""
    eager = []
    for path in _modules("layers/core/postbox"):
        for node in ast.parse(path.read_text()).body:
            modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            eager += [f"{path.relative_to(ROOT)}: {module}" for module in modules
                      if module.split(".")[0] in ("boto3", "botocore")]
    assert eager == []
