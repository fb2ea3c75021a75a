"""Builders for API tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World

PERFECT = {
    "greeting": "yes",
    "active_listening": 5,
    "closing": "yes",
    "verification": "yes",
    "procedure": 5,
    "disposition": "yes",
    "handling_time": "yes",
    "stays_calm": 5,
    "no_arguing": "yes",
    "de_escalation": 5,
    "tone": 5,
    "plain_language": "yes",
    "courtesy": "yes",
    "correct_information": "yes",
    "ownership": 5,
    "next_steps": "yes",
}


def evaluation(world: World, **changes: Any) -> dict[str, Any]:
    """Return a valid supplier evaluation of the world's contract, with `changes` applied."""
    answers = dict(PERFECT) | changes.pop("answers", {})
    record = {
        "contract_id": world.ids["contract"],
        "call_ref": "call-001",
        "source": "supplier",
        "agent_ref": "agent-7",
        "team": "inbound-a",
        "call_at": "2026-10-14T10:30:00+02:00",
        "form": "standard@1",
        "answers": answers,
        "evaluator_ref": "qa-1",
        "comment": None,
    }
    return record | changes


@pytest.fixture
def make_evaluation(world: World) -> Any:
    def build(**changes: Any) -> dict[str, Any]:
        return evaluation(world, **changes)

    return build
