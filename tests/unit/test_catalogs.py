"""The message catalogs hold every string the code and templates say, translated, compiled."""

import re
from collections.abc import Iterable
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "service" / "language" / "translations" / "it" / "LC_MESSAGES"
# The same reading as `make translations` (babel.cfg, and the Makefile's extra keywords).
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
OPTIONS = {"**/templates/**.html": {"trimmed": "true"}}
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "said": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def extracted() -> set[str]:
    """Return the id of every message the code and the templates say (a plural: its singular)."""
    ids = set()
    for folder in ("contracts", "service"):
        found = extract_from_dir(ROOT / folder, METHODS, OPTIONS, KEYWORDS)
        for _file, _line, message, _comments, _context in found:
            ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def italian() -> dict[str, object]:
    with (CATALOG / "messages.po").open("rb") as file:
        catalog = read_po(file)
    return {message.id if isinstance(message.id, str) else message.id[0]: message
            for message in catalog if message.id}  # fmt: skip


def test_every_message_of_the_code_and_templates_is_in_the_italian_catalog() -> None:
    missing = extracted() - set(italian())
    assert not missing, f"run `make translations` and translate: {sorted(missing)}"


def test_the_catalog_holds_no_message_the_code_no_longer_says() -> None:
    assert set(italian()) - extracted() == set(), "run `make translations` to drop them"


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    for message in italian().values():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), message.id
        assert not message.fuzzy, message.id


def test_every_translation_keeps_the_placeholders_of_its_message() -> None:
    for message in italian().values():
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = {name for text in ids for name in PLACEHOLDER.findall(text)} - {""}
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) - {""} == wanted, message.id


def test_the_compiled_catalog_is_the_catalog_as_written() -> None:
    with (CATALOG / "messages.po").open("rb") as file:
        written = read_po(file)
    compiled = BytesIO()
    write_mo(compiled, written)
    compiled.seek(0)
    with (CATALOG / "messages.mo").open("rb") as file:
        committed = read_mo(file)
    assert pairs(committed) == pairs(read_mo(compiled)), (
        "messages.mo is older than messages.po: run `make translations`"
    )


def pairs(catalog: Iterable[Message]) -> dict[object, object]:
    def frozen(text: object) -> object:
        return tuple(text) if isinstance(text, list | tuple) else text

    return {frozen(message.id): frozen(message.string) for message in catalog if message.id}
