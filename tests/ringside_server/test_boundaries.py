"""The package boundaries (DECISIONS.md "13"): the kernel imports no role, no launcher and no
aiohttp server code (its HTTP client is fine); the edge imports nothing of the core."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("core", "edge_http", "workers", "rag", "ringside_cli")
SERVER_CODE = ("aiohttp.web", "aiohttp.web_request", "aiohttp.web_response")


def imports_of(package: str) -> dict[str, set[str]]:
    """file → every module it imports (absolute names, `from x import y` as x and x.y)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(ROOT))] = names
    return found


def _under(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


@pytest.mark.parametrize(("package", "forbidden"), [("ringside_server", ROLES + SERVER_CODE), ("edge_http", ("core",))])
def test_a_package_imports_nothing_beyond_its_boundary(package: str, forbidden: tuple[str, ...]) -> None:
    crossings = {
        path: sorted(name for name in names if _under(name, forbidden))
        for path, names in imports_of(package).items()
        if any(_under(name, forbidden) for name in names)
    }
    assert crossings == {}
