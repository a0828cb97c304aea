"""The worker stands alone: no module of orchestrator_worker imports the app,
and the two modules the app imports from the worker (the wire protocol and
the SSH connector) load none of the worker's engines."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER_PACKAGE = REPO_ROOT / "orchestrator_worker"
APP_PACKAGE = "cronium_app"


def app_imports(source: str) -> list[str]:
    """The app modules a piece of Python source imports: import statements
    anywhere (also inside functions) and importlib/__import__ calls with a
    literal name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and _is_import_call(node.func) and node.args and isinstance(node.args[0], ast.Constant):
            names = [str(node.args[0].value)]
        else:
            continue
        found.extend(name for name in names if name == APP_PACKAGE or name.startswith(APP_PACKAGE + "."))
    return found


def _is_import_call(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id in ("__import__", "import_module")) or (
        isinstance(func, ast.Attribute) and func.attr == "import_module"
    )


@pytest.mark.parametrize(
    "source",
    [
        "import cronium_app",
        "from cronium_app.settings import DEFAULT_ORCHESTRATOR_TOKEN",
        "def f():\n    import cronium_app.servers.check as check",
        "import importlib\nimportlib.import_module('cronium_app.db')",
    ],
)
def test_the_check_sees_every_way_of_importing_the_app(source: str):
    assert app_imports(source)


def test_the_check_ignores_names_that_only_look_alike():
    assert app_imports("import cronium_apparatus\nfrom orchestrator_worker import protocol\ncronium_app = 1") == []


def test_no_worker_module_imports_the_app():
    modules = sorted(WORKER_PACKAGE.rglob("*.py"))
    assert len(modules) > 10  # the walk found the package

    offenders = {
        str(path.relative_to(REPO_ROOT)): imported
        for path in modules
        if (imported := app_imports(path.read_text(encoding="utf-8")))
    }

    assert offenders == {}


def _modules_loaded_by(imports: str) -> set[str]:
    code = f"import json, sys\n{imports}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=True)
    return {name.split(".")[0] for name in json.loads(result.stdout)}


WORKER_ENGINES = {"docker", "httpx", "pydantic", "pydantic_settings", APP_PACKAGE}


def test_the_protocol_module_loads_only_the_standard_library():
    loaded = _modules_loaded_by("import orchestrator_worker.protocol")

    assert loaded & (WORKER_ENGINES | {"asyncssh"}) == set()


def test_the_ssh_connector_loads_asyncssh_and_nothing_else_of_the_worker():
    loaded = _modules_loaded_by("import orchestrator_worker.ssh.connect")

    assert "asyncssh" in loaded
    assert loaded & WORKER_ENGINES == set()
