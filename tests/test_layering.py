"""Imports point one way: api -> (risk | marketing) -> nlp -> ingest. Never upward, and
risk and marketing never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Each package may import only the packages listed for it (and itself).
ALLOWED: dict[str, set[str]] = {
    "ingest": set(),
    "nlp": {"ingest"},
    "risk": {"nlp", "ingest"},
    "marketing": {"nlp", "ingest"},
    "api": {"risk", "marketing", "nlp", "ingest"},
}
PACKAGES = set(ALLOWED)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def offenders(package: str, root: Path = ROOT) -> dict[str, list[str]]:
    """Files of ``package`` under ``root`` that import a project package it may not."""
    forbidden = PACKAGES - ALLOWED[package] - {package}
    return {
        str(p.relative_to(root)): sorted(_imports(p) & forbidden)
        for p in (root / package).rglob("*.py")
        if _imports(p) & forbidden
    }


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_no_forbidden_imports(package: str) -> None:
    assert offenders(package) == {}, f"{package} imports a package it may not: {offenders(package)}"


def test_the_layers_are_the_documented_ones() -> None:
    """api -> (risk | marketing) -> nlp -> ingest: risk and marketing side by side."""
    assert "marketing" not in ALLOWED["risk"] and "risk" not in ALLOWED["marketing"]
    assert ALLOWED["risk"] == ALLOWED["marketing"] == {"nlp", "ingest"}
    assert all(p in ALLOWED["api"] for p in PACKAGES - {"api"})
    assert not (ALLOWED["nlp"] - {"ingest"}) and not ALLOWED["ingest"]


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("from api.cli import main\nimport risk.models\n")
    assert _imports(bad) >= {"api", "risk"}


@pytest.mark.parametrize(
    ("package", "line", "other"),
    [
        ("risk", "from marketing.funnel import funnel\n", "marketing"),
        ("marketing", "import risk.feeds\n", "risk"),
        ("nlp", "from marketing import dark_funnel\n", "marketing"),
        ("ingest", "from risk.inputs import to_timestamp\n", "risk"),
    ],
)
def test_the_check_catches_a_sideways_or_upward_import(
    tmp_path: Path, package: str, line: str, other: str
) -> None:
    (tmp_path / package).mkdir()
    (tmp_path / package / "ok.py").write_text("import pandas\n")
    (tmp_path / package / "bad.py").write_text(line)
    assert offenders(package, tmp_path) == {f"{package}/bad.py": [other]}
