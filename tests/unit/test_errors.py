from service.edge.errors import nest_errors


def test_dotted_paths_nest_as_marshmallow_nests_them() -> None:
    assert nest_errors({"sections.0.weight": ["must be positive"]}) == {
        "sections": {"0": {"weight": ["must be positive"]}}
    }


def test_a_field_with_problems_of_its_own_and_of_its_parts_keeps_both() -> None:
    expected = {"items": {"_schema": ["decide every question"], "1": {"question": ["unknown"]}}}
    own_first = {"items": ["decide every question"], "items.1.question": ["unknown"]}
    parts_first = {"items.1.question": ["unknown"], "items": ["decide every question"]}
    assert nest_errors(own_first) == expected
    assert nest_errors(parts_first) == expected
