"""Helpers for tests that change one field of a document and read it again."""

import copy
from typing import Any

from hypothesis import strategies as st

DELETE = object()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def with_change(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Return a copy of a document with the field at a dotted path set (or DELETEd)."""
    changed = copy.deepcopy(document)
    *parents, last = path.split(".")
    target: Any = changed
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return changed


def rule_id(rule: tuple[str, Any, str, str]) -> str:
    """Name a (path, value, error path, message) rule case for pytest."""
    return f"no {rule[0]}" if rule[1] is DELETE else f"{rule[0]}={rule[1]!r}"


def field_paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """List the path of every field and list item of a document, the document included."""
    found = [prefix]
    if isinstance(document, dict):
        for name, child in document.items():
            found.extend(field_paths(child, (*prefix, name)))
    elif isinstance(document, list):
        for index, child in enumerate(document):
            found.extend(field_paths(child, (*prefix, index)))
    return found


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    """Return a copy of a document with the field at a path replaced."""
    if not path:
        return value
    changed = copy.deepcopy(document)
    target = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return changed
