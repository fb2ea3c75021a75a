"""The batch endpoint's compiled loader says exactly what marshmallow says, faster."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
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


def test_a_good_record_loads_typed_normalized_and_with_its_defaults() -> None:
    record = {key: value for key, value in GOOD.items() if key != "team"}

    loaded = EVALUATIONS.load(record | {"call_ref": " ＡＤＶ-1 "})

    assert loaded == {
        "contract_id": 3,
        "call_ref": "ADV-1",  # trimmed and NFKC-normalized
        "source": "supplier",
        "agent_ref": "agent-1",
        "team": None,  # left out: null
        "call_at": datetime(2026, 10, 14, 10, 30, tzinfo=timezone(timedelta(hours=2))),
        "form": "standard@1",
        "answers": {"greeting": "yes", "tone": 4},
        "evaluator_ref": None,
        "comment": "fine",
    }


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"contract_id": 3.0}, {"contract_id": ["Not a valid integer."]}),
        ({"contract_id": True}, {"contract_id": ["Not a valid integer."]}),
        ({"call_at": "2026-10-14T10:30:00"}, {"call_at": ["Not a valid aware datetime."]}),
        ({"call_at": "2200-01-01T00:00:00+00:00"},
         {"call_at": ["must fall in the years 2000 to 2199"]}),
        ({"source": "nobody"}, {"source": ["Must be one of: client, third_party, supplier."]}),
        ({"form": "STANDARD@1"}, {"form": ["String does not match expected pattern."]}),
        ({"answers": [1]}, {"answers": ["Not a valid mapping type."]}),
        ({"extra": 1}, {"extra": ["Unknown field."]}),
        ({"call_ref": None, "comment": 7},
         {"call_ref": ["Field may not be null."], "comment": ["Not a valid string."]}),
    ],
)  # fmt: skip
def test_a_bad_record_is_refused_naming_each_bad_field(
    changes: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    with pytest.raises(ValidationError) as refused:
        EVALUATIONS.load(GOOD | changes)

    assert refused.value.messages == errors


def test_a_batch_loads_its_good_records_and_refuses_each_bad_one_by_index() -> None:
    missing = {key: value for key, value in GOOD.items() if key != "call_ref"}

    loaded, errors = EVALUATIONS.load_each([GOOD, missing, GOOD | {"call_ref": "call-2"}])

    assert {index: record["call_ref"] for index, record in loaded.items()} == {
        0: "call-1",
        2: "call-2",
    }
    assert errors == {1: {"call_ref": ["Missing data for required field."]}}


def test_nullable_fields_take_null_in_the_compiled_schema() -> None:
    properties = json_schema(EvaluationIn())["properties"]
    assert properties["team"]["type"] == ["string", "null"]
    assert properties["call_ref"]["type"] == "string"
