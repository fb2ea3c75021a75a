"""The house rules that keep the code readable: dependencies between domains point one way."""

import re
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[2] / "service"
IMPORT = re.compile(r"^\s*(?:from|import)\s+service\.(\w+)", re.MULTILINE)
# Still to be removed (issue 9): forms reads contracts to know which forms a supplier may see,
# and terms name a form. Listed here so that no other pair can appear unnoticed.
KNOWN_TWO_WAY: set[tuple[str, str]] = set()


def imports_between_parts() -> dict[str, set[str]]:
    """Map each part of service/ (a domain folder or a module) to the parts it imports."""
    parts = {
        path.stem if path.is_file() else path.name
        for path in SERVICE.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists() and path.name != "migrations")
    }
    uses: dict[str, set[str]] = {part: set() for part in parts}
    for part in parts:
        folder = SERVICE / part
        files = folder.rglob("*.py") if folder.is_dir() else [SERVICE / f"{part}.py"]
        for file in files:
            uses[part] |= {name for name in IMPORT.findall(file.read_text()) if name in parts}
        uses[part].discard(part)
    return uses


def test_no_two_parts_of_the_service_import_each_other() -> None:
    uses = imports_between_parts()
    two_way = {tuple(sorted((a, b))) for a in uses for b in uses[a] if a in uses[b]}
    assert two_way - KNOWN_TWO_WAY == set()
    assert KNOWN_TWO_WAY <= two_way, "a known two-way import is gone: remove it from the list"
