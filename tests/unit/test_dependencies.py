"""One dependency source (docs/deploy.md, docs/testing.md): pyproject.toml's runtime dependencies are what the deployed
code imports, and the Lambda layer's requirements (plus each function's own) are exactly those, pinned alike."""

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED = [ROOT / "layers" / "core", ROOT / "functions"]
LAYER_REQUIREMENTS = ROOT / "layers" / "core" / "requirements.txt"
# Lambda's Python runtime comes with these: the layer does not carry them.
RUNTIME_PROVIDED = {"boto3", "botocore"}


def runtime_dependencies() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {canonicalize_name(r.name): r for r in map(Requirement, project["dependencies"])}


def requirements_file(path: Path) -> dict[str, Requirement]:
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return {canonicalize_name(r.name): r for r in map(Requirement, filter(None, lines))}


def function_requirements() -> dict[Path, dict[str, Requirement]]:
    return {path: requirements_file(path) for path in sorted((ROOT / "functions").glob("*/*/requirements.txt"))}


def imported_distributions() -> dict[str, set[str]]:
    """Distribution -> the deployed files importing it (top-level modules outside the standard library)."""
    owners = metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for folder in DEPLOYED:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top == "postbox":
                        continue
                    for dist in owners.get(top, [top]):
                        found.setdefault(canonicalize_name(dist), set()).add(str(path.relative_to(ROOT)))
    return found


def closure(requirements: list[Requirement]) -> set[str]:
    """The distributions these requirements install (with their extras), as installed here."""
    seen: set[str] = set()
    todo = [(canonicalize_name(r.name), set(r.extras)) for r in requirements]
    while todo:
        name, extras = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras or {""}):
                todo.append((canonicalize_name(requirement.name), set(requirement.extras)))
    return seen


def test_every_package_the_deployed_code_imports_is_a_runtime_dependency():
    declared = closure(list(runtime_dependencies().values()))
    missing = {dist: sorted(files) for dist, files in imported_distributions().items() if dist not in declared}
    assert not missing, f"imported by deployed code but not in pyproject.toml's dependencies: {missing}"


def test_the_layer_and_the_functions_carry_exactly_the_runtime_dependencies():
    runtime = runtime_dependencies()
    layer = requirements_file(LAYER_REQUIREMENTS)
    carried = {"layers/core/requirements.txt": layer}
    carried.update({str(path.relative_to(ROOT)): reqs for path, reqs in function_requirements().items()})
    for where, requirements in carried.items():
        for name, requirement in requirements.items():
            assert name in runtime, f"{where}: {requirement} is not in pyproject.toml's dependencies"
            assert str(requirement) == str(runtime[name]), f"{where}: {requirement} != pyproject's {runtime[name]}"
    functions_carry = {name for path, reqs in function_requirements().items() for name in reqs}
    assert not set(layer) & functions_carry, "a dependency is both in the layer and in a function"
    expected_layer = set(runtime) - RUNTIME_PROVIDED - functions_carry
    assert set(layer) == expected_layer, f"the layer should carry {sorted(expected_layer)}"


def test_what_the_layer_carries_is_pinned():
    for name, requirement in requirements_file(LAYER_REQUIREMENTS).items():
        assert str(requirement.specifier).startswith("=="), f"{name}: pin an exact version for the layer"


def test_the_lock_pins_every_dependency_within_its_specifier():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *(text for extra in project["optional-dependencies"].values()
                                            for text in extra)]
    lock = requirements_file(ROOT / "requirements.lock")
    for requirement in map(Requirement, declared):
        name = canonicalize_name(requirement.name)
        if name == "postbox":
            continue  # an extra that includes another
        assert name in lock, f"requirements.lock has no {name}: run `make lock`"
        [pinned] = [spec.version for spec in lock[name].specifier]
        assert requirement.specifier.contains(pinned), f"requirements.lock pins {name}=={pinned}: run `make lock`"
