"""The core's layers keep to their boundaries (issue 13, item 6; STYLE.md rule 1): the store never
imports the services that use it, the domain imports no transport and no database library, and the
domain's modules import each other without a circle (not even one hidden under TYPE_CHECKING)."""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
TRANSPORTS = ("grpc", "aiohttp", "temporalio", "sqlalchemy", "sqlmodel", "alembic")


def _modules(package: str) -> dict[str, pathlib.Path]:
    folder = ROOT / package.replace(".", "/")
    return {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for path in folder.rglob("*.py")
    }


def _imports(path: pathlib.Path) -> set[str]:
    """Every module `path` imports, wherever the import statement is (functions, TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_store_imports_nothing_from_the_services_or_the_rpc_layer() -> None:
    offending = {
        module: sorted(name for name in _imports(path) if _under(name, "core.services") or _under(name, "core.rpc"))
        for module, path in _modules("core.store").items()
    }
    assert {module: names for module, names in offending.items() if names} == {}


def test_the_domain_imports_no_transport_and_no_database_library() -> None:
    offending = {
        module: sorted(name for name in _imports(path) if any(_under(name, top) for top in TRANSPORTS))
        for module, path in _modules("core.domain").items()
    }
    assert {module: names for module, names in offending.items() if names} == {}


def test_the_domain_modules_import_each_other_without_a_circle() -> None:
    modules = _modules("core.domain")
    graph = {
        module: {name for name in _imports(path) if name in modules} - {module} for module, path in modules.items()
    }
    # core.domain's __init__ is where `from core.domain import x` starts: it is the package, not a module edge.
    graph.pop("core.domain", None)
    for edges in graph.values():
        edges.discard("core.domain")
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == 1:
                circles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []
