"""The house rules that keep the code readable: dependencies between parts point one way, and
the root of service/ holds only the app's factory, its configuration and its command line."""

import re
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[2] / "service"
IMPORT = re.compile(r"^\s*(?:from|import)\s+service\.(\w+)", re.MULTILINE)
ROOT_MODULES = {"__init__", "config", "cli"}


def parts_of(service: Path) -> set[str]:
    """Return the parts of a service tree: its packages (but migrations) and its modules."""
    return {
        path.stem if path.is_file() else path.name
        for path in service.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists() and path.name != "migrations")
    }


def imports_between_parts(service: Path = SERVICE) -> dict[str, set[str]]:
    """Map each part of a service tree to the other parts it imports."""
    parts = parts_of(service)
    uses: dict[str, set[str]] = {part: set() for part in parts}
    for part in parts:
        folder = service / part
        files = folder.rglob("*.py") if folder.is_dir() else [service / f"{part}.py"]
        for file in files:
            uses[part] |= {name for name in IMPORT.findall(file.read_text()) if name in parts}
        uses[part].discard(part)
    return uses


def a_cycle(uses: dict[str, set[str]]) -> list[str] | None:
    """Return one cycle of imports (A -> B -> ... -> A) if there is any, found depth first."""
    done: set[str] = set()

    def visit(part: str, path: list[str]) -> list[str] | None:
        if part in path:
            return path[path.index(part) :] + [part]
        if part in done:
            return None
        for used in sorted(uses[part]):
            found = visit(used, [*path, part])
            if found:
                return found
        done.add(part)
        return None

    for part in sorted(uses):
        found = visit(part, [])
        if found:
            return found
    return None


def test_no_parts_of_the_service_import_each_other_around_a_cycle() -> None:
    assert a_cycle(imports_between_parts()) is None


def test_the_cycle_finder_finds_a_cycle_of_three_planted_in_a_tree(tmp_path: Path) -> None:
    for part, imported in [("alpha", "beta"), ("beta", "gamma"), ("gamma", "alpha")]:
        (tmp_path / part).mkdir()
        (tmp_path / part / "__init__.py").write_text("")
        (tmp_path / part / "service.py").write_text(f"from service.{imported}.x import y\n")
    (tmp_path / "delta.py").write_text("import service.alpha\n")
    assert a_cycle(imports_between_parts(tmp_path)) == ["alpha", "beta", "gamma", "alpha"]


def test_the_root_of_the_service_holds_the_factory_the_configuration_and_the_command_line() -> None:
    modules = {path.stem for path in SERVICE.glob("*.py")}
    assert modules == ROOT_MODULES
