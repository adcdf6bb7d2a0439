"""The shape of the code: pure algorithm packages, thin entry points."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "fengqiao"
PURE_PACKAGES = ["geo", "analytics"]
FORBIDDEN_IN_PURE = (
    "sqlalchemy",
    "fastapi",
    "starlette",
    "jinja2",
    "fengqiao.db",
    "fengqiao.web",
    "fengqiao.app",
    "fengqiao.models",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _pure_modules() -> list[Path]:
    return [p for pkg in PURE_PACKAGES for p in sorted((SRC / pkg).rglob("*.py"))] + [
        SRC / "demo" / "county.py",
        SRC / "demo" / "names.py",
        SRC / "demo" / "incidents.py",
    ]


@pytest.mark.parametrize("path", _pure_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_pure_modules_import_no_database_or_web(path: Path) -> None:
    bad = sorted(
        name
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_PURE)
    )
    assert bad == [], f"{path.name} imports {bad}"


def _entry_points() -> list[Path]:
    return sorted(p for name in ("routes.py", "pages.py") for p in SRC.rglob(name))


@pytest.mark.parametrize("path", _entry_points(), ids=lambda p: str(p.relative_to(SRC)))
def test_routes_and_pages_run_no_queries(path: Path) -> None:
    """Queries belong in service.py; entry points parse, check and render."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"select", "update", "delete", "insert", "text"}
    ]
    assert calls == [], f"{path.name} builds SQL: {calls}"


def test_modules_stay_small() -> None:
    too_long = {
        str(p.relative_to(SRC)): n
        for p in SRC.rglob("*.py")
        # Migrations are generated, one per schema change, and never edited once landed.
        if "versions" not in p.parts
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert too_long == {}, f"split these modules: {too_long}"
