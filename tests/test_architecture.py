"""The imports follow the layering the README's "Architecture" section draws, and that
section names every part of ``service/``.

Each part of the code may import only the parts listed for it below; the table is the
README's picture in data. A new import that runs the other way (a repository reaching
into a service, a controller into a repository, the domain into SQLAlchemy) fails here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICE = ROOT / "service"

ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "schemas": set(),
    "models": {"domain"},
    "adapters": {"domain"},
    "security": {"domain", "adapters"},
    "config": {"security"},
    "errors": set(),
    "db": {"config"},
    "repositories": {"domain", "models", "adapters", "db"},
    "services": {"domain", "repositories", "models", "schemas", "security", "adapters", "errors", "db"},
    "api": {"domain", "services", "schemas", "security", "adapters", "errors", "config"},
    "app": {"api", "models", "security", "adapters", "config", "db", "worker"},
    "worker": {"api", "services", "models", "security", "adapters", "config", "db"},
    "demo": {"domain", "services", "repositories", "models", "schemas", "security", "db"},
    "cli": {"domain", "app", "demo", "services", "repositories", "models", "schemas", "security", "adapters"}
    | {"errors", "config", "db", "worker"},
    "reference_data": set(),
}
"""Which parts each part may import (besides itself)."""

FOREIGN: dict[str, set[str]] = {
    "domain": {"sqlalchemy", "sqlmodel", "litestar", "asyncpg", "redis", "boto3"},
    "schemas": {"sqlalchemy", "sqlmodel", "litestar", "asyncpg"},
    "models": {"litestar", "msgspec"},
    "repositories": {"litestar", "msgspec"},
    "services": {"litestar"},
}
"""Libraries a part must not import: the domain is pure, the API's Structs know no framework."""


def _part(module: str) -> str | None:
    """``service.repositories.cases`` -> ``repositories``; ``service.app`` -> ``app``."""
    pieces = module.split(".")
    if pieces[0] == "schemas":
        return "schemas"
    if pieces[0] != "service" or len(pieces) < 2:
        return None
    return pieces[1]


def _modules() -> Iterator[tuple[str, Path]]:
    for folder in (SERVICE, ROOT / "schemas"):
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(p for p in parts if p != "__init__"), path


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_every_import_runs_the_way_the_layers_allow() -> None:
    wrong = []
    for module, path in _modules():
        if module == "service":
            continue
        own = _part(module)
        assert own is not None and own in ALLOWED, f"{module}: a part of service/ the layering does not name"
        for imported in _imports(path):
            target = _part(imported)
            if target is not None and target != own and target not in ALLOWED[own]:
                wrong.append(f"{module} imports {imported}")
            if imported.split(".")[0] in FOREIGN.get(own, set()):
                wrong.append(f"{module} imports {imported}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_the_layering_check_catches_an_import_that_runs_back_up() -> None:
    """The check above can fail: a repository importing a service is refused by the table."""
    assert "services" not in ALLOWED["repositories"]
    assert "repositories" not in ALLOWED["api"]
    assert _part("service.services.cases") == "services"


def test_the_readme_architecture_names_every_part_of_the_service() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Architecture\n(.*?)^## ", readme, re.S | re.M)
    assert section is not None, "README.md has no Architecture section"
    text = section.group(1)
    parts = {p.name for p in SERVICE.iterdir() if not p.name.startswith(("_", "."))}
    missing = [p for p in sorted(parts) if (f"{p}/" if (SERVICE / p).is_dir() else p) not in text]
    assert not missing, f"the README's architecture section does not name: {missing}"


def test_the_readme_table_of_imports_is_this_table() -> None:
    """The README's "may import" table states the same layering as ``ALLOWED``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    stated: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`") and cells[0].endswith("`"):
            imports = set(re.findall(r"`([a-z_]+)`", cells[1]))
            stated[cells[0].strip("`")] = imports
    assert stated == ALLOWED
