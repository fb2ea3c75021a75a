"""Forms and evaluations from a QM product, over HTTP (issue 26, DESIGN 19).

The documents are written here in the products' own shapes: Amazon Connect's
`CreateEvaluationForm` body and the evaluation file it writes to S3; a Genesys Cloud
evaluation form and an evaluation as its quality API returns them. Every expected score is
worked out by hand in the comments beside it.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from contracts.examples import load_example
from tests.conftest import World, errors_at, json_of, row_counts

CONNECT_FORM: dict[str, Any] = {
    "InstanceId": "8f753c94-9cd2-4f16-85eb-945f7f0d559a",
    "Title": "Connect QA",
    "Description": "Inbound care",
    "ScoringStrategy": {"Mode": "SECTION_ONLY", "Status": "ENABLED"},
    "Items": [
        {
            "Section": {
                "RefId": "s_greet",
                "Title": "Greeting",
                "Weight": 40,
                "Items": [
                    {
                        "Question": {
                            "RefId": "q_intro",
                            "Title": "Did the agent introduce themselves?",
                            "QuestionType": "SINGLESELECT",
                            "NotApplicableEnabled": False,
                            "Weight": 50,
                            "QuestionTypeProperties": {
                                "SingleSelect": {
                                    "Options": [
                                        {"RefId": "o_yes", "Text": "Yes", "Score": 10},
                                        {"RefId": "o_partly", "Text": "Partly", "Score": 5},
                                        {"RefId": "o_no", "Text": "No", "Score": 0},
                                    ]
                                }
                            },
                        }
                    },
                    {
                        "Question": {
                            "RefId": "q_empathy",
                            "Title": "How empathetic was the agent, 1 to 10?",
                            "QuestionType": "NUMERIC",
                            "NotApplicableEnabled": True,
                            "Weight": 50,
                            "QuestionTypeProperties": {
                                "Numeric": {
                                    "MinValue": 1,
                                    "MaxValue": 10,
                                    "Options": [
                                        {"MinValue": 1, "MaxValue": 4, "Score": 0},
                                        {"MinValue": 5, "MaxValue": 7, "Score": 6},
                                        {"MinValue": 8, "MaxValue": 10, "Score": 10},
                                    ],
                                }
                            },
                        }
                    },
                ],
            }
        },
        {
            "Section": {
                "RefId": "s_comply",
                "Title": "Compliance",
                "Weight": 60,
                "Items": [
                    {
                        "Question": {
                            "RefId": "q_verify",
                            "Title": "Did the agent verify the caller's identity?",
                            "QuestionType": "SINGLESELECT",
                            "Weight": 100,
                            "QuestionTypeProperties": {
                                "SingleSelect": {
                                    "Options": [
                                        {"RefId": "o_v_yes", "Text": "Yes", "Score": 10},
                                        {
                                            "RefId": "o_v_no",
                                            "Text": "No",
                                            "Score": 0,
                                            "AutomaticFail": True,
                                        },
                                    ]
                                }
                            },
                        }
                    }
                ],
            }
        },
    ],
}

GENESYS_FORM: dict[str, Any] = {
    "id": "5d8a2b52-7b0e-4d6c-9d6e-1b2c3d4e5f60",
    "name": "Genesys QA",
    "type": "evaluation",
    "published": True,
    "questionGroups": [
        {
            "id": "g-open",
            "name": "Opening",
            "type": "questionGroup",
            "defaultAnswersToHighest": False,
            "defaultAnswersToNA": False,
            "naEnabled": False,
            "weight": 2,
            "manualWeight": True,
            "questions": [
                {
                    "id": "gq-greet",
                    "text": "Greeting",
                    "type": "multipleChoiceQuestion",
                    "naEnabled": False,
                    "commentsRequired": False,
                    "isKill": False,
                    "isCritical": False,
                    "answerOptions": [
                        {"id": "a-g-3", "text": "Excellent", "value": 3},
                        {"id": "a-g-1", "text": "Fair", "value": 1},
                        {"id": "a-g-0", "text": "Poor", "value": 0},
                    ],
                },
                {
                    "id": "gq-name",
                    "text": "Used the caller's name",
                    "type": "multipleChoiceQuestion",
                    "naEnabled": True,
                    "isKill": False,
                    "isCritical": False,
                    "answerOptions": [
                        {"id": "a-n-y", "text": "Yes", "value": 1},
                        {"id": "a-n-n", "text": "No", "value": 0},
                    ],
                },
            ],
        },
        {
            "id": "g-comp",
            "name": "Compliance",
            "type": "questionGroup",
            "naEnabled": True,
            "weight": 1,
            "manualWeight": True,
            "questions": [
                {
                    "id": "gq-disclose",
                    "text": "Read the recording disclosure",
                    "type": "multipleChoiceQuestion",
                    "naEnabled": False,
                    "isKill": False,
                    "isCritical": True,
                    "answerOptions": [
                        {"id": "a-d-y", "text": "Yes", "value": 5},
                        {"id": "a-d-n", "text": "No", "value": 0},
                    ],
                },
                {
                    "id": "gq-abuse",
                    "text": "No abusive language",
                    "type": "multipleChoiceQuestion",
                    "naEnabled": False,
                    "isKill": True,
                    "isCritical": False,
                    "answerOptions": [
                        {"id": "a-k-y", "text": "Yes", "value": 1},
                        {"id": "a-k-n", "text": "No", "value": 0},
                    ],
                },
            ],
        },
    ],
}


def connect_evaluation(
    contact: str, intro: str, empathy: int | None, verify: str, percentage: float
) -> dict[str, Any]:
    """Return one evaluation file as Amazon Connect writes it to S3 (schema 3.1)."""
    empathy_answer: dict[str, Any] = (
        {"value": "", "metadata": {"notApplicable": True}}
        if empathy is None
        else {"value": empathy, "metadata": {"notApplicable": False}}
    )
    return {
        "schemaVersion": "3.1",
        "evaluationId": f"ev-{contact}",
        "metadata": {
            "contactId": contact,
            "accountId": "874551140838",
            "instanceId": "8f753c94-9cd2-4f16-85eb-945f7f0d559a",
            "agentId": "286bcec0-e722-4166-865f-84db80252218",
            "evaluationDefinitionTitle": "Connect QA",
            "evaluator": "jane",
            "evaluationDefinitionId": "15d8fbf1-b4b2-4ace-869b-82714e2f6e3e",
            "evaluationDefinitionVersion": 1,
            "evaluationStartTimestamp": "2026-11-10T17:57:08.649Z",
            "evaluationSubmitTimestamp": "2026-11-10T17:59:29.052Z",
            "score": {"percentage": percentage},
        },
        "sections": [
            {"sectionRefId": "s_greet", "sectionTitle": "Greeting", "score": {"percentage": 0}},
            {"sectionRefId": "s_comply", "sectionTitle": "Compliance", "score": {"percentage": 0}},
        ],
        "questions": [
            {
                "questionRefId": "q_intro",
                "sectionRefId": "s_greet",
                "questionType": "SINGLESELECT",
                "questionText": "Did the agent introduce themselves?",
                "answer": {
                    "values": [
                        {"valueText": text, "valueRefId": ref, "selected": ref == intro}
                        for ref, text in [("o_yes", "Yes"), ("o_partly", "Partly"), ("o_no", "No")]
                    ],
                    "metadata": {"notApplicable": False},
                },
            },
            {
                "questionRefId": "q_empathy",
                "sectionRefId": "s_greet",
                "questionType": "NUMERIC",
                "questionText": "How empathetic was the agent, 1 to 10?",
                "answer": empathy_answer,
            },
            {
                "questionRefId": "q_verify",
                "sectionRefId": "s_comply",
                "questionType": "SINGLESELECT",
                "questionText": "Did the agent verify the caller's identity?",
                "answer": {
                    "values": [
                        {"valueText": "Yes", "valueRefId": "o_v_yes", "selected": verify == "yes"},
                        {"valueText": "No", "valueRefId": "o_v_no", "selected": verify == "no"},
                    ],
                    "metadata": {"notApplicable": False},
                },
            },
        ],
    }


def genesys_evaluation(
    conversation: str,
    answers: dict[str, str | None],
    total: float,
    group_na: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Return one evaluation as Genesys Cloud's quality API returns it (None: marked N/A)."""
    groups = {"g-open": ["gq-greet", "gq-name"], "g-comp": ["gq-disclose", "gq-abuse"]}
    return {
        "id": f"e-{conversation}",
        "conversation": {"id": conversation, "selfUri": f"/api/v2/conversations/{conversation}"},
        "evaluationForm": {"id": GENESYS_FORM["id"], "name": "Genesys QA"},
        "evaluator": {"id": "u-eval-1", "selfUri": "/api/v2/users/u-eval-1"},
        "agent": {"id": "u-agent-9", "selfUri": "/api/v2/users/u-agent-9"},
        "status": "FINISHED",
        "conversationDate": "2026-11-05T09:30:00.000Z",
        "answers": {
            "totalScore": total,
            "totalCriticalScore": 0,
            "totalNonCriticalScore": 0,
            "questionGroupScores": [
                {
                    "questionGroupId": group,
                    "markedNA": group in group_na,
                    "questionScores": [
                        {"questionId": question, "markedNA": True}
                        if group in group_na or answers.get(question) is None
                        else {"questionId": question, "answerId": answers[question], "score": 0}
                        for question in questions
                    ],
                }
                for group, questions in groups.items()
            ],
        },
    }


def import_form(
    client: FlaskClient, world: World, fmt: str, document: Any, who: str = "client", **query: Any
) -> Any:
    return client.post(
        "/api/v1/forms/import",
        query_string={"format": fmt, **query},
        json=document,
        headers=world.headers(who),
    )


def import_evaluations(
    client: FlaskClient, world: World, contract_id: int, fmt: str, document: Any, who: str
) -> Any:
    return client.post(
        f"/api/v1/contracts/{contract_id}/evaluations/import",
        query_string={"format": fmt},
        json=document,
        headers=world.headers(who),
    )


def contract_on(client: FlaskClient, world: World, form_ref: str) -> int:
    """Make a contract of the client with the supplier whose terms name an imported form."""
    terms = copy.deepcopy(load_example("terms-quality.yaml")) | {"form": form_ref}
    response = client.post(
        "/api/v1/contracts",
        json={
            "client_id": world.ids["client"],
            "supplier_id": world.ids["supplier"],
            "name": f"scored in {form_ref}",
            "effective_from": "2026-09-01",
            "terms": terms,
        },
        headers=world.headers("client"),
    )
    assert response.status_code == 201, response.get_json()
    return int(json_of(response)["id"])


def log_calls(client: FlaskClient, world: World, contract_id: int, refs: list[str]) -> None:
    calls = [
        {
            "call_ref": ref,
            "call_at": f"2026-11-0{3 + number}T10:00:00+01:00",
            "agent_ref": f"agent-{number}",
            "team": "inbound-a",
            "queue": "billing",
            "direction": "inbound",
            "duration_s": 240,
        }
        for number, ref in enumerate(refs)
    ]
    response = client.post(
        f"/api/v1/contracts/{contract_id}/calls",
        json={"calls": calls},
        headers=world.headers("supplier"),
    )
    assert response.status_code == 201, response.get_json()


# Forms --------------------------------------------------------------------------------------


def test_a_connect_form_becomes_the_equivalent_form_version(
    client: FlaskClient, world: World
) -> None:
    response = import_form(client, world, "connect", CONNECT_FORM)

    assert response.status_code == 201, response.get_json()
    form = json_of(response)
    assert form["ref"] == "connect-qa@1"
    greet, comply = form["document"]["sections"]
    assert (greet["key"], greet["weight"], comply["weight"]) == ("s_greet", 40, 60)
    intro, empathy = greet["questions"]
    # Single-select and numeric: a scale from 0 to the best option's score.
    assert (intro["kind"], intro["scale"], intro["weight"]) == ("scale", [0, 10], 50)
    assert (empathy["scale"], empathy["na"]) == ([0, 10], True)
    # AutomaticFail on the 0-scoring option of two: a yes/no question that fails the form.
    verify = comply["questions"][0]
    assert (verify["kind"], verify["auto_fail"]) == ("yes_no", "form")
    assert "na" not in intro


def test_the_same_form_again_is_the_same_version_and_a_changed_one_the_next(
    client: FlaskClient, world: World
) -> None:
    first = import_form(client, world, "connect", CONNECT_FORM)
    again = import_form(client, world, "connect", CONNECT_FORM)
    changed = copy.deepcopy(CONNECT_FORM)
    changed["Items"][0]["Section"]["Weight"] = 30
    newer = import_form(client, world, "connect", changed)

    assert (first.status_code, again.status_code, newer.status_code) == (201, 200, 201)
    assert json_of(again)["id"] == json_of(first)["id"]
    assert json_of(newer)["ref"] == "connect-qa@2"


def test_a_genesys_form_keeps_group_weights_kill_and_critical(
    client: FlaskClient, world: World
) -> None:
    response = import_form(client, world, "genesys", GENESYS_FORM, critical="compliance")

    assert response.status_code == 201, response.get_json()
    opening, compliance = json_of(response)["document"]["sections"]
    assert (opening["weight"], compliance["weight"]) == (2, 1)
    greet, name = opening["questions"]
    # Each question weighs its best value: a group scores Σ values / Σ best values.
    assert (greet["scale"], greet["weight"], name["weight"]) == ([0, 3], 3, 1)
    disclose, abuse = compliance["questions"]
    assert (disclose["kind"], disclose["critical"], disclose.get("auto_fail")) == (
        "yes_no",
        "compliance",
        None,
    )
    assert (abuse["kind"], abuse["auto_fail"]) == ("yes_no", "form")
    # The group may be marked N/A: each of its questions may answer N/A.
    assert disclose["na"] is True and abuse["na"] is True


def _broken(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    *parents, leaf = path.split(".")
    node: Any = changed
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(leaf)] = value
    else:
        node[leaf] = value
    return changed


QUESTION = "Items.0.Section.Items.0.Question"
OPTIONS = f"{QUESTION}.QuestionTypeProperties.SingleSelect.Options"


@pytest.mark.parametrize(
    ("fmt", "path", "value", "named"),
    [
        # A subsection: Fiducia's sections hold questions only.
        (
            "connect",
            "Items.0.Section.Items.0",
            {"Section": {"RefId": "sub", "Title": "Sub", "Items": []}},
            "Items.0.Section.Items.0",
        ),
        ("connect", f"{QUESTION}.QuestionType", "TEXT", f"{QUESTION}.QuestionType"),
        # Auto-fail on a question of three options: no yes/no equivalent.
        ("connect", f"{OPTIONS}.1.AutomaticFail", True, f"{OPTIONS}.1.AutomaticFail"),
        ("connect", f"{QUESTION}.Weight", 0, f"{QUESTION}.Weight"),
        ("connect", "ScoringStrategy.Status", "DISABLED", "ScoringStrategy.Status"),
        (
            "genesys",
            "questionGroups.0.questions.0.type",
            "freeTextQuestion",
            "questionGroups.0.questions.0.type",
        ),
        # A kill question of three options.
        (
            "genesys",
            "questionGroups.0.questions.0.isKill",
            True,
            "questionGroups.0.questions.0.isKill",
        ),
    ],
)
def test_what_has_no_equivalent_is_422_naming_its_path_in_the_source(
    app: Flask, client: FlaskClient, world: World, fmt: str, path: str, value: Any, named: str
) -> None:
    document = _broken(CONNECT_FORM if fmt == "connect" else GENESYS_FORM, path, value)
    before = row_counts(app)

    response = import_form(client, world, fmt, document, critical="compliance")

    assert response.status_code == 422, response.get_json()
    assert errors_at(response, f"json.{named}")
    assert row_counts(app) == before


def test_a_critical_genesys_question_needs_its_category_named(
    client: FlaskClient, world: World
) -> None:
    response = import_form(client, world, "genesys", GENESYS_FORM)

    assert response.status_code == 422
    message = errors_at(response, "json.questionGroups.1.questions.0.isCritical")[0]
    assert "critical=customer, business or compliance" in message


@pytest.mark.parametrize("who", ["supplier", "finance"])
def test_only_who_publishes_forms_imports_them(client: FlaskClient, world: World, who: str) -> None:
    assert import_form(client, world, "connect", CONNECT_FORM, who=who).status_code == 403


def test_an_admin_names_the_client_an_imported_form_belongs_to(
    client: FlaskClient, world: World
) -> None:
    unnamed = import_form(client, world, "connect", CONNECT_FORM, who="admin")
    named = import_form(
        client, world, "connect", CONNECT_FORM, who="admin", organization_id=world.ids["client"]
    )

    assert unnamed.status_code == 422 and errors_at(unnamed, "json.organization_id")
    assert named.status_code == 201 and json_of(named)["organization_id"] == world.ids["client"]


def test_a_body_that_is_not_json_is_422(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/forms/import?format=connect",
        data="Title: x",
        content_type="text/yaml",
        headers=world.headers("client"),
    )
    assert response.status_code == 422


# Evaluations --------------------------------------------------------------------------------


@pytest.fixture
def connect_contract(client: FlaskClient, world: World) -> int:
    assert import_form(client, world, "connect", CONNECT_FORM).status_code == 201
    contract_id = contract_on(client, world, "connect-qa@1")
    log_calls(client, world, contract_id, ["c-1", "c-2", "c-3"])
    return contract_id


def test_connect_evaluations_are_scored_by_fiducia_and_differences_are_told(
    client: FlaskClient, world: World, connect_contract: int
) -> None:
    export = [
        # Greeting: (50·5/10 + 50·6/10) / 100 = 55; compliance 100; total 0.4·55 + 0.6·100 = 82.
        connect_evaluation("c-1", "o_partly", 6, "yes", 82.0),
        # Verification "No" fails the form: 0, whatever else was answered.
        connect_evaluation("c-2", "o_yes", None, "no", 0),
        # Greeting (0 + 50·10/10) / 100 = 50; total 0.4·50 + 60 = 80; the product says 75.
        connect_evaluation("c-3", "o_no", 9, "yes", 75),
    ]

    response = import_evaluations(client, world, connect_contract, "connect", export, "supplier")

    assert response.status_code == 201, response.get_json()
    body = json_of(response)
    assert body["created"] == 3
    assert [e["score"] for e in body["evaluations"]] == ["82.00", "0.00", "80.00"]
    assert [e["product_score"] for e in body["evaluations"]] == ["82", "0", "75"]
    assert [(d["call_ref"], d["difference"]) for d in body["differences"]] == [("c-3", "-5")]
    stored = json_of(
        client.get(f"/api/v1/evaluations/{body['ids'][0]}", headers=world.headers("supplier"))
    )
    # Source by who imports; the agent and the call time are the logged call's.
    assert (stored["source"], stored["agent_ref"], stored["evaluator_ref"]) == (
        "supplier",
        "agent-0",
        "jane",
    )
    assert stored["answers"] == {"q_intro": 5, "q_empathy": 6, "q_verify": "yes"}
    # The same answers, scored by Fiducia directly, score the same.
    preview = client.post(
        "/api/v1/evaluations/preview",
        json={
            "contract_id": connect_contract,
            "call_at": "2026-11-03T10:00:00+01:00",
            "answers": stored["answers"],
        },
        headers=world.headers("supplier"),
    )
    assert json_of(preview)["score"] == "82.00" == stored["score"]


def test_the_same_export_again_changes_nothing(
    client: FlaskClient, world: World, connect_contract: int
) -> None:
    export = connect_evaluation("c-1", "o_partly", 6, "yes", 82.0)
    first = import_evaluations(client, world, connect_contract, "connect", export, "client")
    again = import_evaluations(client, world, connect_contract, "connect", export, "client")

    assert first.status_code == 201 and json_of(first)["created"] == 1
    assert again.status_code == 201
    assert (json_of(again)["created"], json_of(again)["unchanged"]) == (0, 1)
    stored = client.get(
        f"/api/v1/evaluations/{json_of(first)['ids'][0]}", headers=world.headers("client")
    )
    assert json_of(stored)["source"] == "client"


def test_a_bad_connect_export_is_refused_whole_naming_each_path(
    app: Flask, client: FlaskClient, world: World, connect_contract: int
) -> None:
    unknown = connect_evaluation("c-1", "o_yes", 6, "yes", 100)
    unknown["questions"][0]["questionRefId"] = "q_gone"
    unlogged = connect_evaluation("c-404", "o_yes", 6, "yes", 100)
    off_range = connect_evaluation("c-3", "o_yes", 11, "yes", 100)
    good = connect_evaluation("c-2", "o_yes", 6, "yes", 100)
    before = row_counts(app)

    response = import_evaluations(
        client, world, connect_contract, "connect", [good, unknown, unlogged, off_range], "supplier"
    )

    assert response.status_code == 422, response.get_json()
    errors = errors_at(response, "json.evaluations")
    assert set(errors) == {"1", "2", "3"}
    assert errors["1"]["questions"]["0"]["questionRefId"] == ["not a question of the imported form"]
    assert "q_intro" in errors["1"]["questions"]["_schema"][0]
    assert "call log" in errors["2"]["metadata"]["contactId"][0]
    assert errors["3"]["questions"]["1"]["answer"]["value"]
    assert row_counts(app) == before


def test_evaluations_on_a_form_not_imported_from_that_product_are_refused(
    client: FlaskClient, world: World
) -> None:
    # The world's contract names the shipped standard form.
    log_calls(client, world, world.ids["contract"], ["c-1"])
    export = connect_evaluation("c-1", "o_yes", 6, "yes", 100)

    response = import_evaluations(
        client, world, world.ids["contract"], "connect", export, "supplier"
    )

    assert response.status_code == 422
    message = errors_at(response, "json.evaluations.0.form")[0]
    assert "standard@1" in message and "connect" in message


@pytest.fixture
def genesys_contract(client: FlaskClient, world: World) -> int:
    response = import_form(client, world, "genesys", GENESYS_FORM, critical="compliance")
    assert response.status_code == 201
    return contract_on(client, world, "genesys-qa@1")


def test_genesys_evaluations_are_scored_by_fiducia_and_differences_are_told(
    client: FlaskClient, world: World, genesys_contract: int
) -> None:
    export = {
        "entities": [
            # Opening (1 + 1) / (3 + 1) = 50; compliance (0 + 1) / (5 + 1) = 16.67 with a
            # compliance critical error; total (2·50 + 1·16.67) / 3 = 38.89.
            genesys_evaluation(
                "conv-1",
                {
                    "gq-greet": "a-g-1",
                    "gq-name": "a-n-y",
                    "gq-disclose": "a-d-n",
                    "gq-abuse": "a-k-y",
                },
                38.888889,
            ),
            # Compliance marked N/A and the name N/A: opening 3/3 = 100, the total 100.
            genesys_evaluation(
                "conv-2", {"gq-greet": "a-g-3", "gq-name": None}, 100, group_na=("g-comp",)
            ),
            # Abusive language kills the evaluation: 0; the product says 41.2.
            genesys_evaluation(
                "conv-3",
                {
                    "gq-greet": "a-g-3",
                    "gq-name": "a-n-y",
                    "gq-disclose": "a-d-y",
                    "gq-abuse": "a-k-n",
                },
                41.2,
            ),
        ],
        "pageSize": 25,
        "pageNumber": 1,
        "total": 3,
    }

    response = import_evaluations(client, world, genesys_contract, "genesys", export, "supplier")

    assert response.status_code == 201, response.get_json()
    body = json_of(response)
    assert [e["score"] for e in body["evaluations"]] == ["38.89", "100.00", "0.00"]
    assert [(d["call_ref"], d["difference"]) for d in body["differences"]] == [("conv-3", "41.2")]
    first = json_of(
        client.get(f"/api/v1/evaluations/{body['ids'][0]}", headers=world.headers("supplier"))
    )
    assert first["critical_errors"] == ["compliance"]
    assert (first["agent_ref"], first["call_at"][:16]) == ("u-agent-9", "2026-11-05T09:30")


def test_a_genesys_evaluation_without_its_conversation_date_is_refused_naming_it(
    client: FlaskClient, world: World, genesys_contract: int
) -> None:
    document = genesys_evaluation("conv-1", {"gq-greet": "a-g-3", "gq-name": "a-n-y"}, 0)
    del document["conversationDate"]
    wrong = genesys_evaluation("conv-2", {"gq-greet": "a-x", "gq-name": "a-n-y"}, 0)

    response = import_evaluations(
        client, world, genesys_contract, "genesys", [document, wrong], "supplier"
    )

    assert response.status_code == 422
    assert errors_at(response, "json.evaluations.0.conversationDate")
    assert errors_at(
        response, "json.evaluations.1.answers.questionGroupScores.0.questionScores.0.answerId"
    )


@pytest.mark.parametrize(("who", "status"), [("other_supplier", 404), ("finance", 403)])
def test_roles_and_404s_are_those_of_the_native_upload(
    client: FlaskClient, world: World, connect_contract: int, who: str, status: int
) -> None:
    export = connect_evaluation("c-1", "o_yes", 6, "yes", 100)
    response = import_evaluations(client, world, connect_contract, "connect", export, who)
    assert response.status_code == status
    missing = import_evaluations(client, world, 999_999, "connect", export, "supplier")
    assert missing.status_code == 404


def test_an_admin_names_the_source_of_imported_evaluations(
    client: FlaskClient, world: World, connect_contract: int
) -> None:
    export = connect_evaluation("c-1", "o_yes", 6, "yes", 100)
    response = import_evaluations(client, world, connect_contract, "connect", export, "admin")
    assert response.status_code == 422
    assert errors_at(response, "query.source")


def test_references_and_scores_past_their_bounds_are_refused_at_their_export_paths(
    app: Flask, client: FlaskClient, world: World, genesys_contract: int
) -> None:
    answers = {"gq-greet": "a-g-3", "gq-name": "a-n-y", "gq-disclose": "a-d-y", "gq-abuse": "a-k-y"}
    long_ref = genesys_evaluation("c" * 300, answers, 100)
    past_100 = genesys_evaluation("conv-2", answers, 150)
    before = row_counts(app)

    response = import_evaluations(
        client, world, genesys_contract, "genesys", [long_ref, past_100], "supplier"
    )

    assert response.status_code == 422, response.get_json()
    assert errors_at(response, "json.evaluations.0.conversation.id")
    assert errors_at(response, "json.evaluations.1.answers.totalScore")
    assert row_counts(app) == before
