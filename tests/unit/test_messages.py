"""A service's English message is said in Italian on a page; the API keeps it English."""

import json
from datetime import UTC, datetime

import pytest

from contracts import disputes as dispute_rules
from contracts.errors import RuleError
from contracts.terms import Disputes
from contracts.text import Text, said
from service.language.i18n import Speech

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_a_message_made_with_values_is_english_text_that_remembers_its_template() -> None:
    message = said("already disputed by dispute %(id)s", id=7)
    assert message == "already disputed by dispute 7"
    assert isinstance(message, Text) and message.template == "already disputed by dispute %(id)s"
    assert json.dumps({"errors": [message]}) == '{"errors": ["already disputed by dispute 7"]}'
    assert Speech("it").message(message) == "già contestata con la contestazione 7"
    assert Speech("en").message(message) == "already disputed by dispute 7"


def test_a_rule_of_the_contracts_is_said_in_italian_with_its_values() -> None:
    item = dispute_rules.Item("tone", 5, "calm")
    with pytest.raises(RuleError) as refused:
        dispute_rules.open_dispute([item, item], NOW, Disputes(10, 5, None))
    (message,) = refused.value.errors["items.1.question"]
    assert message == "contested twice"
    assert Speech("it").message(message) == "contestata due volte"


@pytest.mark.parametrize(
    ("english", "italian"),
    [
        ("Length must be between 12 and 200.", "La lunghezza deve essere tra 12 e 200 caratteri."),
        ("Must be one of: it, en.", "Deve essere uno tra: it, en."),
        ("Not a valid email address.", "Non è un indirizzo email valido."),
        ("no such user", "utente inesistente"),
        ("words nobody wrote for the catalog", "words nobody wrote for the catalog"),
        ("", ""),
    ],
)
def test_schema_and_service_messages_are_said_in_italian_when_the_catalog_has_them(
    english: str, italian: str
) -> None:
    assert Speech("it").message(english) == italian


def test_a_language_fiducia_does_not_speak_is_english() -> None:
    assert Speech("fr").language == "en"
    assert Speech("fr").message("no such user") == "no such user"


def test_a_tree_of_field_errors_is_said_in_italian_leaf_by_leaf() -> None:
    from service import create_app

    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "k" * 40})
    with app.test_request_context("/account", headers={"Accept-Language": "it"}):
        from service.language.i18n import translated_tree

        tree = {"answers": {"tone": ["Unknown field."]}, "count": 3, "_schema": ["no such user"]}
        assert translated_tree(tree) == {
            "answers": {"tone": ["Campo sconosciuto."]},
            "count": 3,
            "_schema": ["utente inesistente"],
        }


def test_a_display_time_zone_the_system_does_not_know_stops_the_start() -> None:
    from service.config import checked_timezone

    assert checked_timezone("Europe/Rome") == "Europe/Rome"
    with pytest.raises(RuntimeError, match="FIDUCIA_TIMEZONE"):
        checked_timezone("Mars/Olympus_Mons")
    with pytest.raises(RuntimeError, match="FIDUCIA_TIMEZONE"):
        checked_timezone("../etc/passwd")
