"""Every page, for every role, through the test client: boundaries, sessions, CSRF."""

import csv
import html
import io
import re
import zipfile
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from contracts.periods import Period
from service.accounts.service import set_password
from service.edge.actors import OPERATOR, Actor
from service.evaluations.models import Evaluation
from service.statements.models import Statement
from service.statements.service import refresh_draft
from service.volumes.models import DailyVolume
from tests.conftest import World, seed_month

PASSWORD = "a long enough password"


def csrf(client: FlaskClient, path: str = "/sign-in") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match is not None
    return match.group(1)


def sign_in(client: FlaskClient, token: str) -> None:
    response = client.post("/sign-in", data={"csrf_token": csrf(client), "token": token})
    assert response.status_code == 302, response.text


@pytest.fixture
def data(app: Flask, world: World) -> dict[str, int]:
    """A month of evaluations and a draft statement for each contract of the world."""
    from contracts.periods import Period
    from service.agreements.models import Contract, TermsVersion

    seed_month(app, world, "2026-09")
    seed_month(app, world, "2026-09", contract="other_contract", seed=5)
    ids = {}
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        # These pages show the client its agents as logged (DESIGN 18): the sweep of
        # tests/integration/test_operators_privacy.py reads them under pseudonyms and teams.
        for version in session.scalars(select(TermsVersion)):
            privacy = {"client_sees": "agents", "basis": "accordo sindacale 2026-01-15"}
            version.document = version.document | {"privacy": privacy}
        for key in ("contract", "other_contract"):
            contract = session.get_one(Contract, world.ids[key])
            statement, _ = refresh_draft(
                session=session, actor=OPERATOR, contract_id=contract.id, period=Period(2026, 9)
            )
            ids[f"statement:{key}"] = statement.id
            ids[f"evaluation:{key}"] = session.scalars(
                select(Evaluation.id).where(Evaluation.contract_id == contract.id)
            ).first()
    return ids


def pages(world: World, data: dict[str, int], key: str = "contract") -> list[str]:
    contract, statement = world.ids[key], data[f"statement:{key}"]
    return [
        "/scorecards?period=2026-09",
        f"/contracts/{contract}?period=2026-09",
        f"/contracts/{contract}/agents?period=2026-09",
        f"/evaluations?contract_id={contract}&period=2026-09",
        f"/evaluations/{data[f'evaluation:{key}']}",
        "/statements",
        f"/statements/{statement}",
        f"/statements/{statement}/download/csv",
        f"/statements/{statement}/download/xlsx",
        f"/statements/{statement}/download/html",
        "/payouts?period=2026-09",
        "/payouts/download/xlsx?period=2026-09",
        "/payouts/download/zip?period=2026-09",
    ]


def test_every_page_sends_a_stranger_to_sign_in(
    client: FlaskClient, world: World, data: dict[str, int]
) -> None:
    for path in ["/", *pages(world, data)]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/sign-in?next="), path


def shown(response: TestResponse) -> str:
    """Return a page's text as a reader sees it: no tags or scripts, one space between words."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", response.text, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


def eur(amount: str) -> str:
    """Write an amount as the English pages do: "€60,142.36", "-€3,165.39"."""
    value = Decimal(amount)
    return f"{'-' if value < 0 else ''}€{abs(value):,.2f}"


WHOSE = {"supplier": "Self-assessment", "client": "Client audit"}


def made(app: Flask, world: World, data: dict[str, int]) -> dict[str, Any]:
    """Return what the test's data holds for the contract's September, read from the tables
    and the API, not from the pages: what every page of it must show."""
    contract = world.ids["contract"]
    with app.extensions["fiducia.sessionmaker"]() as session:
        month = select(Evaluation).where(
            Evaluation.contract_id == contract, Evaluation.period == Period.parse("2026-09")
        )
        evaluations = list(session.scalars(month))
        units = session.scalar(
            select(func.sum(DailyVolume.units)).where(
                DailyVolume.contract_id == contract, DailyVolume.day >= date(2026, 9, 1),
                DailyVolume.day < date(2026, 10, 1),
            )
        )  # fmt: skip
    calls = {(each.call_ref, each.agent_ref) for each in evaluations}
    with app.test_client() as api:
        statement = api.get(
            f"/api/v1/statements/{data['statement:contract']}", headers=world.headers("finance")
        ).get_json()
        evaluation = api.get(
            f"/api/v1/evaluations/{data['evaluation:contract']}", headers=world.headers("client")
        ).get_json()
    lines = statement["lines"]
    return {
        "statement": statement,
        "evaluation": evaluation,
        "evaluations": len(evaluations),
        "calls": len(calls),
        "audits": sum(each.source == "client" for each in evaluations),
        "by_agent": Counter(agent for _, agent in calls),
        "units": units,
        "quality": str(sum(Decimal(line["amount"]) for line in lines if line["code"] != "volume")),
    }


def expected_on_pages(
    world: World, data: dict[str, int], month: dict[str, Any]
) -> dict[str, list[str]]:
    """Return, for each HTML page of the contract's September, words and figures it shows."""
    contract, statement_id = world.ids["contract"], data["statement:contract"]
    statement, evaluation = month["statement"], month["evaluation"]
    figures = statement["figures"]
    mean, interval = figures["mean"], "–".join(figures["ci"])
    total, volume_only = eur(statement["total"]), eur(statement["volume_only"])
    units, calls = f"{month['units']:,}", month["calls"]
    descriptions = [f"{line['description']} the figures behind it" for line in statement["lines"]]
    team = f" ({evaluation['team']})" if evaluation["team"] else ""
    amounts = [eur(line["amount"]) for line in statement["lines"]]
    return {
        "/scorecards?period=2026-09": [
            f"supplier customer care {calls} {mean} {interval}", f"{units} {volume_only} {total}",
        ],
        f"/contracts/{contract}?period=2026-09": [
            f"{mean} mean score, September 2026", f"{interval} 95% interval",
            f"{calls} calls counted", f"{units} units", f"0 of {month['audits']} audits disputed",
            f"September 2026 {volume_only} {total} draft",
        ],
        f"/contracts/{contract}/agents?period=2026-09": [
            f"{agent} {count} " for agent, count in sorted(month["by_agent"].items())
        ],
        f"/evaluations?contract_id={contract}&period=2026-09": [
            f"{month['evaluations']} evaluations",
        ],
        f"/evaluations/{data['evaluation:contract']}": [
            f"Call {evaluation['call_ref']} {WHOSE[evaluation['source']]} of agent"
            f" {evaluation['agent_ref']}{team},",
            f"{evaluation['score']} score",
        ],
        "/statements": [f"September 2026 supplier customer care {volume_only} {total} draft"],
        f"/statements/{statement_id}": [
            f"{total} total", f"{volume_only} on volume alone", f"{units} units",
            f"{mean} mean of {calls} calls, 95% interval {interval}",
            *descriptions, *amounts,
        ],
        f"/statements/{statement_id}/download/html": [
            f"Units {units}", f"Evaluations counted {calls}", f"Total {total}",
            *[line["description"] for line in statement["lines"]],
        ],
        "/payouts?period=2026-09": [
            f"supplier customer care {units} {volume_only} {eur(month['quality'])} €0.00 {total}"
        ],
    }  # fmt: skip


@pytest.mark.parametrize("role", ["client", "finance", "supplier", "admin"])
def test_every_page_shows_every_role_the_figures_of_its_own_contract(
    app: Flask, client: FlaskClient, world: World, data: dict[str, int], role: str
) -> None:
    month = made(app, world, data)
    statement = month["statement"]
    assert month["calls"] == 80 and month["evaluations"] == 107  # 80 calls, a third audited
    sign_in(client, world.tokens[role])
    for path, words in expected_on_pages(world, data, month).items():
        response = client.get(path)
        assert response.status_code == 200, (role, path)
        text = shown(response)
        for each in words:
            assert each in text, (role, path, each)
    statement_id = data["statement:contract"]
    as_csv = client.get(f"/statements/{statement_id}/download/csv").text
    rows = {row[0]: row[2] for row in csv.reader(io.StringIO(as_csv)) if len(row) == 4}
    assert rows == {"code": "amount"} | {
        line["code"]: line["amount"] for line in statement["lines"]
    } | {"total": statement["total"], "volume_only": statement["volume_only"]}
    workbook = client.get(f"/statements/{statement_id}/download/xlsx").data
    cells = {
        row[0]: row[2]
        for row in openpyxl.load_workbook(io.BytesIO(workbook)).active.iter_rows(values_only=True)
        if row[0] in {"Total", "Volume only"}
    }
    assert cells == {
        "Total": float(statement["total"]), "Volume only": float(statement["volume_only"])
    }  # fmt: skip
    payouts = client.get("/payouts/download/xlsx?period=2026-09").data
    header, *payout_rows = openpyxl.load_workbook(io.BytesIO(payouts)).active.iter_rows(
        values_only=True
    )
    totals = {row[header.index("contract_id")]: row[header.index("total")] for row in payout_rows}
    assert totals[world.ids["contract"]] == float(statement["total"])
    assert len(totals) == (2 if role == "admin" else 1)  # an admin sees both contracts
    bundle = zipfile.ZipFile(io.BytesIO(client.get("/payouts/download/zip?period=2026-09").data))
    assert bundle.namelist() == ["payouts-2026-09.csv", "payouts-2026-09.xlsx"]
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role", ["other_client", "other_finance", "other_supplier"])
def test_another_organizations_pages_are_404(
    client: FlaskClient, world: World, data: dict[str, int], role: str
) -> None:
    sign_in(client, world.tokens[role])
    contract, statement = world.ids["contract"], data["statement:contract"]
    for path in [
        f"/contracts/{contract}",
        f"/contracts/{contract}/agents",
        f"/evaluations/{data['evaluation:contract']}",
        f"/evaluations?contract_id={contract}",
        f"/statements/{statement}",
        f"/statements/{statement}/download/xlsx",
        f"/statements/{statement}/finalize",
    ]:
        response = client.get(path)
        assert response.status_code == 404, (role, path)
        assert "Not found" in response.text
    # Lists show only the organization's own contract.
    for path in ("/scorecards?period=2026-09", "/statements", "/payouts?period=2026-09"):
        text = client.get(path).text
        assert f'/statements/{statement}"' not in text, path
        assert f"/contracts/{contract}?" not in text, path


def test_finance_confirms_then_finalizes_and_the_statement_never_changes(
    app: Flask, client: FlaskClient, world: World, data: dict[str, int]
) -> None:
    sign_in(client, world.tokens["finance"])
    url = f"/statements/{data['statement:contract']}/finalize"
    confirm = client.get(url)
    assert "Yes, finalize it" in confirm.text
    refused = client.post(url, data={})  # no CSRF token
    assert refused.status_code == 400
    done = client.post(url, data={"csrf_token": csrf(client, url)})
    assert done.status_code == 302
    with app.extensions["fiducia.sessionmaker"]() as session:
        statement = session.get_one(Statement, data["statement:contract"])
        assert statement.status == "final" and statement.content_hash
    again = client.get(url, follow_redirects=True)
    assert "already final" in again.text


@pytest.mark.parametrize("role", ["client", "supplier"])
def test_only_finance_and_admins_finalize(
    app: Flask, client: FlaskClient, world: World, data: dict[str, int], role: str
) -> None:
    sign_in(client, world.tokens[role])
    url = f"/statements/{data['statement:contract']}/finalize"
    assert client.get(url).status_code == 403
    statement_page = client.get(f"/statements/{data['statement:contract']}").text
    assert "Finalize…" not in statement_page


def test_a_password_signs_in_and_a_wrong_one_does_not(
    app: Flask, client: FlaskClient, world: World
) -> None:
    admin = Actor(user_id=0, role="admin", organization_id=None)
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        set_password(
            session=session, actor=admin, user_id=world.ids["user:finance"], password=PASSWORD
        )
    token = csrf(client)
    wrong = client.post("/sign-in", data={"csrf_token": token, "email": "finance@example.test",
                                          "password": "not it"})  # fmt: skip
    assert wrong.status_code == 401 and "wrong" in wrong.text
    right = client.post(
        "/sign-in?next=/statements",
        data={"csrf_token": token, "email": "FINANCE@example.test", "password": PASSWORD},
    )
    assert right.status_code == 302 and right.location == "/statements"
    assert client.get("/statements").status_code == 200
    # A new password ends the sessions signed in with the old one.
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        set_password(session=session, actor=admin, user_id=world.ids["user:finance"],
                     password=PASSWORD + "!")  # fmt: skip
    assert client.get("/statements").status_code == 302


def test_a_revoked_token_ends_the_session_it_opened(client: FlaskClient, world: World) -> None:
    api = {"Authorization": f"Bearer {world.tokens['admin']}"}
    issued = client.post(
        f"/api/v1/users/{world.ids['user:supplier']}/tokens", headers=api
    ).get_json()
    sign_in(client, issued["token"])
    assert client.get("/statements").status_code == 200
    client.delete(f"/api/v1/tokens/{issued['id']}", headers=api)
    assert client.get("/statements").status_code == 302


def test_signing_in_never_sends_the_user_to_another_site(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/sign-in?next=//evil.example/steal",
        data={"csrf_token": csrf(client), "token": world.tokens["client"]},
    )
    assert response.location == "/"


def test_sign_out_needs_the_form_token_and_ends_the_session(
    client: FlaskClient, world: World
) -> None:
    sign_in(client, world.tokens["client"])
    assert client.post("/sign-out", data={}).status_code == 400
    assert (
        client.post("/sign-out", data={"csrf_token": csrf(client, "/statements")}).status_code
        == 302
    )
    assert client.get("/statements").status_code == 302


def test_empty_months_and_bad_input_read_plainly(client: FlaskClient, world: World) -> None:
    sign_in(client, world.tokens["finance"])
    empty = client.get("/payouts?period=2031-01")
    assert "No statements for January 2031 yet" in empty.text
    odd = client.get("/payouts?period=last-month")
    assert odd.status_code == 200 and "is not a month" in odd.text
    assert "No evaluations match" in client.get("/evaluations?agent_ref=nobody").text


def test_numbers_are_formatted_for_people(
    client: FlaskClient, world: World, data: dict[str, int]
) -> None:
    sign_in(client, world.tokens["finance"])
    text = client.get(f"/statements/{data['statement:contract']}").text
    assert re.search(r"€\d{1,3}(,\d{3})+\.\d{2}", text)


EDGE_PERIODS = ["0000-01", "0001-01", "9999-12", "2026-10\n", "1999-12", "2200-01"]
BEYOND_64_BITS = str(2**64)


@pytest.mark.parametrize("period", EDGE_PERIODS)
def test_a_month_outside_2000_to_2199_shows_the_last_month_with_a_note(
    client: FlaskClient, world: World, data: dict[str, int], period: str
) -> None:
    sign_in(client, world.tokens["admin"])
    contract = world.ids["contract"]
    for path in [
        "/scorecards", f"/contracts/{contract}", f"/contracts/{contract}/agents",
        "/evaluations", "/statements", "/payouts",
    ]:  # fmt: skip
        response = client.get(path, query_string={"period": period})
        assert response.status_code == 200, path
        assert "is not a month" in response.text, path
    for edge in ("2000-01", "2199-12"):
        page = client.get(f"/contracts/{contract}", query_string={"period": edge})
        assert page.status_code == 200 and "is not a month" not in page.text, edge
    for format_ in ("csv", "xlsx", "zip"):
        download = client.get(f"/payouts/download/{format_}", query_string={"period": period})
        assert download.status_code == 200, format_


def test_a_page_number_or_contract_id_past_64_bits_never_reaches_the_database(
    client: FlaskClient, world: World, data: dict[str, int]
) -> None:
    sign_in(client, world.tokens["admin"])
    for path in ("/evaluations", "/statements"):
        response = client.get(path, query_string={"page": BEYOND_64_BITS})
        assert response.status_code == 200, path
        assert "is not a page number" in response.text, path
    response = client.get("/evaluations", query_string={"contract_id": BEYOND_64_BITS})
    assert response.status_code == 200
    assert "is not a contract" in response.text


def test_a_nul_character_in_a_page_query_or_form_is_refused(
    client: FlaskClient, world: World, data: dict[str, int]
) -> None:
    sign_in(client, world.tokens["admin"])
    assert client.get("/evaluations", query_string={"agent_ref": "a\x00"}).status_code == 422
    client.post("/sign-out", data={"csrf_token": csrf(client, "/scorecards")})
    response = client.post(
        "/sign-in",
        data={"csrf_token": csrf(client), "email": "a\x00@example.test", "password": "x"},
    )
    assert response.status_code == 422
