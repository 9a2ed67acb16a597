"""The architecture, checked: import contracts (import-linter), flows that are flows, sizes.

Each import contract in ``pyproject.toml`` must hold on the tree and must break on a
deliberate violation (made in a copy of the packages): a contract that cannot fail
would guard nothing.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("flows", "tasks", "schemas")
CONTRACTS = {
    # contract id: (file to edit, the import added at its top)
    "layers": ("tasks/io/catalog.py", "import flows.ingest_dataset"),
    "flows-compose": ("flows/ingest_dataset.py", "import pandas"),
    "flows-no-adapters": ("flows/retrain_model.py", "from tasks.io import runtime"),
    "core-pure": ("tasks/core/keys.py", "import prefect"),
    "schemas-standalone": ("schemas/loader.py", "import tasks.core.keys"),
    "acyclic": ("tasks/core/train/features.py", "import tasks.core.gate.metrics"),
}
MAX_MODULE_LINES = 400


def lint_imports(root: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the packages under ``root`` (its own copy of pyproject.toml)."""
    cmd = [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"]
    cmd += ["--no-cache", "--no-logo", "--config", str(root / "pyproject.toml")]
    for contract in contracts:
        cmd += ["--contract", contract]
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)


def test_every_import_contract_holds() -> None:
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


@pytest.fixture(scope="module")
def copy_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three packages and pyproject.toml copied, so a test can break them."""
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize("contract", sorted(CONTRACTS))
def test_each_contract_fails_on_a_deliberate_violation(copy_root: Path, contract: str) -> None:
    relative, line = CONTRACTS[contract]
    path = copy_root / relative
    original = path.read_text(encoding="utf-8")
    path.write_text(f"{line}  # deliberate violation\n{original}", encoding="utf-8")
    try:
        result = lint_imports(copy_root, contract)
    finally:
        path.write_text(original, encoding="utf-8")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout and "0 kept, 1 broken" in result.stdout, result.stdout


def _source_modules(*packages: str) -> list[Path]:
    return sorted(
        p
        for package in packages
        for p in (ROOT / package).rglob("*.py")
        if "migrations" not in p.parts and "__pycache__" not in p.parts
    )


def _reads_environment(tree: ast.AST) -> list[str]:
    """``os.environ`` / ``os.getenv`` / ``getenv`` uses in a module's syntax tree."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Name) and node.id in ("environ", "getenv"):
            found.append(f"line {node.lineno}: {node.id}")
    return found


def test_the_pure_core_reads_no_environment_variable() -> None:
    offenders = {
        str(p.relative_to(ROOT)): hits
        for p in _source_modules("tasks/core", "tasks/samples")
        if (hits := _reads_environment(ast.parse(p.read_text(encoding="utf-8"))))
    }
    assert not offenders, offenders


def test_the_environment_check_sees_a_read() -> None:
    code = "import os\nvalue = os.environ.get('X')\nother = os.getenv('Y')\n"
    assert sorted(_reads_environment(ast.parse(code))) == [
        "line 2: os.environ",
        "line 3: os.getenv",
    ]


def _defines_a_flow(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Name) and target.id == "flow":
                    return True
    return False


def test_every_module_directly_in_flows_defines_a_flow() -> None:
    modules = [p for p in (ROOT / "flows").glob("*.py") if p.name != "__init__.py"]
    assert modules
    without = [p.name for p in modules if not _defines_a_flow(ast.parse(p.read_text("utf-8")))]
    assert not without, f"modules in flows/ without a @flow: {without}"


def test_no_source_module_exceeds_the_size_budget() -> None:
    sizes = {
        str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
        for p in _source_modules(*PACKAGES)
    }
    over = {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES}
    assert not over, f"modules over {MAX_MODULE_LINES} lines: {over}"
