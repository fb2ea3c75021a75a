"""The batch endpoint's compiled loader says exactly what marshmallow says, faster."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from service.evaluations.fastload import json_schema
from service.evaluations.schemas import EVALUATIONS, EvaluationIn

GOOD = {
    "contract_id": 3,
    "call_ref": "call-1",
    "source": "supplier",
    "agent_ref": "agent-1",
    "team": "north",
    "call_at": "2026-10-14T10:30:00+02:00",
    "form": "standard@1",
    "answers": {"greeting": "yes", "tone": 4},
    "evaluator_ref": None,
    "comment": "fine",
}

# Values each field may be given: good ones, and ones marshmallow refuses for each reason.
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2, max_value=2**63),
    st.floats(allow_nan=False),
    st.sampled_from(
        [
            "",
            "x" * 201,
            " call-1 ",
            "ＡＤＶ-1",
            "\u3000",
            "standard@0",
            "standard@1\n",
            "STANDARD@1",
            "2026-10-14T10:30:00",
            "2026-10-14T10:30:00Z",
            "1999-12-31T23:00:00+00:00",
            "2200-01-01T00:00:00+00:00",
            "2026-02-30T10:00:00+01:00",
            "client",
            "third_party",
            "nobody",
            "3",
        ]
    ),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.one_of(st.text(max_size=3), st.integers()), max_size=2),
)


def outcome(load: Any, record: Any) -> tuple[str, Any]:
    try:
        return "loaded", load(record)
    except ValidationError as error:
        return "refused", error.messages


@settings(max_examples=400, deadline=None)
@example(changes={"contract_id": 3.0}, dropped=set())
@example(changes={"contract_id": True}, dropped=set())
@example(changes={"team": None, "comment": ""}, dropped={"evaluator_ref"})
@example(changes={"call_ref": " ＡＤＶ-1 "}, dropped=set())
@example(changes={"call_ref": "\u3000"}, dropped=set())
@given(
    changes=st.dictionaries(st.sampled_from([*GOOD, "extra"]), ODD_VALUES, max_size=3),
    dropped=st.sets(st.sampled_from(list(GOOD)), max_size=2),
)
def test_the_compiled_loader_loads_and_refuses_as_marshmallow_does(
    changes: dict[str, Any], dropped: set[str]
) -> None:
    record = {key: value for key, value in (GOOD | changes).items() if key not in dropped}
    assert outcome(EVALUATIONS.load, record) == outcome(EvaluationIn().load, record)


def test_a_good_record_takes_the_compiled_path_without_marshmallow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(record: Any) -> Any:
        raise AssertionError("marshmallow loaded a record the compiled check passed")

    monkeypatch.setattr(EVALUATIONS.schema, "load", refuse)
    loaded = EVALUATIONS.load({key: value for key, value in GOOD.items() if key != "team"})
    assert loaded["team"] is None and loaded["call_at"].utcoffset().total_seconds() == 7200


def test_nullable_fields_take_null_in_the_compiled_schema() -> None:
    properties = json_schema(EvaluationIn())["properties"]
    assert properties["team"]["type"] == ["string", "null"]
    assert properties["call_ref"]["type"] == "string"
