"""The evaluations and statements services are said in the pages' languages, as the others are:
each refusal's message and field messages are in the Italian catalog."""

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from contracts.periods import Period
from service.edge.actors import Actor
from service.edge.errors import FiduciaError
from service.evaluations.reads import get_evaluation
from service.evaluations.revisions import amend_evaluation, require_author
from service.language.i18n import Speech
from service.statements.service import refresh_draft
from tests.api.conftest import evaluation
from tests.conftest import World, json_of

ITALIAN = Speech("it")


def refusal(action: Callable[[], Any]) -> FiduciaError:
    with pytest.raises(FiduciaError) as caught:
        action()
    return caught.value


def in_italian(messages: Any) -> Any:
    """Say a message, or every message of a tree of field errors, in Italian."""
    if isinstance(messages, dict):
        return {key: in_italian(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [in_italian(value) for value in messages]
    return ITALIAN.message(messages)


def actor(world: World, who: str, role: str) -> Actor:
    organization = world.ids.get(who) if role != "admin" else None
    return Actor(user_id=world.ids[f"user:{who}"], role=role, organization_id=organization)


@pytest.fixture
def audit(client: FlaskClient, world: World) -> int:
    """Store a client audit of a call of the running month (tone 3 of 5), still amendable."""
    record = evaluation(world, source="client", answers={"tone": 3})
    record["call_at"] = "2026-11-14T10:30:00+01:00"
    response = client.post("/api/v1/evaluations", json=record, headers=world.headers("client"))
    assert response.status_code == 201, response.get_json()
    return int(json_of(response)["id"])


def test_an_amendment_that_changes_nothing_is_refused_in_italian(
    world: World, session: Session, audit: int
) -> None:
    client = actor(world, "client", "client")
    stored = get_evaluation(session=session, actor=client, evaluation_id=audit)

    error = refusal(
        lambda: amend_evaluation(
            session=session,
            actor=client,
            evaluation_id=audit,
            answers=stored.answers,
            reason="the same",
        )
    )

    assert error.message == "an amendment changes the answers"
    assert in_italian(error.message) == "una rettifica deve cambiare le risposte"
    assert in_italian(error.errors) == {"answers": ["uguali alla revisione 1"]}


def test_only_the_author_side_changes_an_evaluation_said_in_italian(
    world: World, session: Session, audit: int
) -> None:
    supplier = actor(world, "supplier", "supplier")
    stored = get_evaluation(session=session, actor=supplier, evaluation_id=audit)

    error = refusal(lambda: require_author(supplier, stored, "amends"))

    assert error.message == "only the client amends a client-source evaluation"
    assert in_italian(error.message) == (
        "solo il ruolo client rettifica una valutazione con origine client"
    )


def test_a_statement_of_a_month_not_ended_is_refused_in_italian(
    app: Flask, world: World, session: Session
) -> None:
    finance = Actor(
        user_id=world.ids["user:finance"], role="finance", organization_id=world.ids["client"]
    )

    error = refusal(
        lambda: refresh_draft(
            session=session,
            actor=finance,
            contract_id=world.ids["contract"],
            period=Period(2026, 11),
        )
    )

    assert error.message == "a statement is computed once its period has ended"
    assert in_italian(error.message) == "un rendiconto si calcola solo a periodo concluso"
    assert in_italian(error.errors) == {
        "period": ["2026-11 termina il 2026-11-30T23:00:00+00:00 (Europe/Rome)"]
    }
