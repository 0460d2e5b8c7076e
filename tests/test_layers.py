"""The layers of docs/architecture.md hold: no module imports from above its own layer."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE = {"domain", "config"}
DATA = BASE | {"models"}
SERVICES = DATA | {"notifications", "calendars", "documents"}
EDGE = SERVICES | {"operations"}
MAY_IMPORT = {
    "domain": {"domain"},
    "config": {"config"},
    "models": DATA,
    "documents": {"documents", "domain"},
    "notifications": DATA | {"notifications"},
    "calendars": DATA | {"calendars"},
    "operations": EDGE,
    "flows": EDGE | {"flows"},
    "portal": EDGE | {"portal"},
    "thidua": EDGE | {"flows", "portal", "thidua"},
}
PREFECT_ALLOWED = {"flows", "thidua"}
PREFECT_EXCEPTIONS = {("notifications/mailer.py", "password_from_block")}  # a Secret block


def _imports(path: Path):
    """(imported top-level name, enclosing function or None) for every import in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            inner = (
                child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else None
            )
            if isinstance(child, ast.Import):
                found.extend((alias.name.split(".")[0], function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0:
                found.append((child.module.split(".")[0], function))
            visit(child, inner or function)

    visit(tree, None)
    return found


def _modules():
    return sorted(
        (package, path)
        for package in MAY_IMPORT
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts or path.name == "env.py"
    )


def test_every_package_of_the_project_has_a_layer():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == set(MAY_IMPORT)


@pytest.mark.parametrize(
    ("package", "path"),
    _modules(),
    ids=lambda v: str(v.relative_to(ROOT)) if isinstance(v, Path) else v,
)
def test_a_module_imports_only_from_its_layer_and_below(package, path):
    ours = set(MAY_IMPORT)
    upward = sorted({name for name, _ in _imports(path) if name in ours} - MAY_IMPORT[package])
    assert upward == [], f"{path.relative_to(ROOT)} imports {upward} from above its layer"


def test_prefect_is_imported_only_where_a_prefect_server_is_used():
    offenders = [
        f"{path.relative_to(ROOT)} ({function or 'module level'})"
        for package, path in _modules()
        for name, function in _imports(path)
        if name == "prefect"
        and package not in PREFECT_ALLOWED
        and (str(path.relative_to(ROOT)), function) not in PREFECT_EXCEPTIONS
    ]
    assert offenders == []


def test_the_checker_sees_imports_inside_functions(tmp_path):
    """The test above would pass vacuously if nested imports were missed."""
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from flows.chase import x\n", encoding="utf-8")
    assert _imports(module) == [("os", None), ("flows", "f")]
