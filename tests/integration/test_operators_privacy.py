"""Operators' privacy (DESIGN 18): every read of the client side, per setting; retention and
erasure keep statements and samples verifiable; access and erasure belong to the employer."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select, update

from contracts import stats
from service.accounts.models import Organization
from service.agreements.models import Contract, TermsVersion
from service.calls.models import Call, CallSample, SampledCall
from service.disputes.models import Dispute
from service.edge.actors import OPERATOR
from service.erasure.models import PrivacyRequest
from service.erasure.service import run_retention
from service.evaluations.models import Evaluation
from service.jobs.scheduler import retention_job
from service.notices.models import WebhookDelivery
from service.privacy.policy import View, pseudonym, seen_groups
from service.statements import reports
from service.statements.models import Statement
from service.statements.service import finalize
from tests.conftest import DemoTemplate, json_of
from tests.web.test_pages import sign_in

BASIS = "Accordo sindacale del 3 marzo 2025, prot. 41/2025 (art. 4 St. Lav.)"


def token(template: DemoTemplate, role: str) -> str:
    return next(login.token for login in template.result.logins if login.role == role)


def set_privacy(app: Flask, privacy: dict[str, Any]) -> None:
    """Give every demo contract's terms the privacy rule (a terms edit the test makes)."""
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        for version in session.scalars(select(TermsVersion)):
            session.execute(
                update(TermsVersion)
                .where(TermsVersion.id == version.id)
                .values(document=version.document | {"privacy": privacy})
            )


@pytest.fixture
def demo(demo_app: Flask) -> dict[str, Any]:
    """The demo with a finalized month (its report files made) and the client's webhook set."""
    factory = demo_app.extensions["fiducia.sessionmaker"]
    with factory.begin() as session:
        client = session.scalars(select(Organization).where(Organization.kind == "client")).one()
        client.webhook_url, client.webhook_secret = "https://hooks.example.test/in", "s" * 32
        first = session.scalars(select(Statement).order_by(Statement.id)).first()
        assert first is not None
        final = finalize(session=session, actor=OPERATOR, statement_id=first.id).id
    reports.store_reports(factory, final)
    with factory() as session:
        refs = set(session.scalars(select(Call.agent_ref).distinct()))
        refs |= set(session.scalars(select(Evaluation.agent_ref).distinct()))
        refs.discard("")  # an abandoned call has no agent
        contracts = list(session.scalars(select(Contract).order_by(Contract.id)))
        evaluation = session.scalars(
            select(Evaluation.id).where(Evaluation.source == "client").order_by(Evaluation.id)
        ).first()
        dispute = session.scalars(select(Dispute.id).order_by(Dispute.id)).first()
        samples = [
            (sample.contract_id, str(sample.period))
            for sample in session.scalars(
                select(CallSample).where(CallSample.drawn_at.is_not(None))
            )
        ]
        statements = list(session.scalars(select(Statement.id)))
    assert refs and evaluation and dispute and samples
    return {
        "refs": refs,
        "contracts": [contract.id for contract in contracts],
        "evaluation": evaluation,
        "dispute": dispute,
        "samples": samples,
        "final": final,
        "statements": statements,
    }


def texts_of(body: bytes) -> list[str]:
    """Return what a body says: a zip's (an XLSX, a bundle) member by member, a PDF's text."""
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return [text for name in archive.namelist() for text in texts_of(archive.read(name))]
    if body.startswith(b"%PDF"):
        return ["\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)]
    return [body.decode("utf-8", "replace")]


PERIOD = "2026-09"
# Every read of the client side, by role: API (bearer token) and pages and files (signed in).
# {c}: each contract; {s}: a final statement; {e}: an audit; {d}: a dispute.
READS: list[tuple[str, str]] = [
    ("api", "/api/v1/evaluations?page_size=100"),
    ("api", "/api/v1/evaluations?contract_id={c}&period=" + PERIOD + "&page_size=100"),
    ("api", "/api/v1/evaluations?agent_ref={ref}"),
    ("api", "/api/v1/evaluations/{e}"),
    ("api", "/api/v1/evaluations/{e}/revisions"),
    ("api", "/api/v1/contracts/{c}/calls?period=" + PERIOD + "&page_size=100"),
    ("api", "/api/v1/contracts/{c}/calls?agent_ref={ref}"),
    ("api", "/api/v1/contracts/{c}/calls/summary?period=" + PERIOD),
    ("api", "/api/v1/contracts/{c}/calls/export?period=" + PERIOD),
    ("api", "/api/v1/contracts/{c}/samples/" + PERIOD),
    ("api", "/api/v1/contracts/{c}/samples/" + PERIOD + "/verify"),
    ("api", "/api/v1/contracts/{c}/scorecard?period=" + PERIOD),
    ("api", "/api/v1/contracts/{c}/scorecard/agents?period=" + PERIOD),
    ("api", "/api/v1/contracts/{c}/scorecard/evaluators?period=" + PERIOD),
    ("api", "/api/v1/contracts/{c}/scorecard/trend?from=2026-08&to=2026-10"),
    ("api", "/api/v1/contracts/{c}/evaluations/template?period=" + PERIOD),
    ("api", "/api/v1/contracts/{c}/agents/{ref}/data"),
    ("api", "/api/v1/scorecards?period=" + PERIOD),
    ("api", "/api/v1/disputes"),
    ("api", "/api/v1/disputes/{d}"),
    ("api", "/api/v1/calibrations"),
    ("api", "/api/v1/statements"),
    ("api", "/api/v1/statements/{s}"),
    ("api", "/api/v1/statements/{s}/export?format=csv"),
    ("api", "/api/v1/statements/{s}/export?format=xlsx"),
    ("api", "/api/v1/statements/{s}/reports/csv"),
    ("api", "/api/v1/statements/{s}/reports/xlsx"),
    ("api", "/api/v1/statements/{s}/reports/pdf"),
    ("api", "/api/v1/payouts?period=2026-08"),
    ("api", "/api/v1/payouts/bundle?period=2026-08"),
    ("page", "/evaluations"),
    ("page", "/evaluations?agent_ref={ref}"),
    ("page", "/evaluations/{e}"),
    ("page", "/evaluations/new?contract_id={c}&period=" + PERIOD),
    ("page", "/contracts/{c}?period=" + PERIOD),
    ("page", "/contracts/{c}/agents?period=" + PERIOD),
    ("page", "/contracts/{c}/calls?period=" + PERIOD),
    ("page", "/contracts/{c}/calls?period=" + PERIOD + "&agent_ref={ref}"),
    ("page", "/contracts/{c}/to-do?period=" + PERIOD),
    ("page", "/contracts/{c}/calibrations"),
    ("page", "/disputes"),
    ("page", "/disputes/{d}"),
    ("page", "/scorecards?period=" + PERIOD),
    ("page", "/statements"),
    ("page", "/statements/{s}"),
    ("page", "/statements/{s}/download/csv"),
    ("page", "/statements/{s}/download/xlsx"),
    ("page", "/statements/{s}/download/html"),
    ("page", "/statements/{s}/download/pdf"),
    ("page", "/payouts?period=2026-08"),
    ("page", "/payouts/download/zip?period=2026-08"),
]


def sweep(
    app: Flask, template: DemoTemplate, demo: dict[str, Any], role: str
) -> dict[str, list[str]]:
    """Read everything in READS as `role`; return what each read said, by URL."""
    said: dict[str, list[str]] = {}
    api = app.test_client()
    pages = app.test_client()
    sign_in(pages, token(template, role))
    headers = {"Authorization": f"Bearer {token(template, role)}"}
    ref = sorted(demo["refs"])[0]
    for kind, pattern in READS:
        for contract in demo["contracts"]:
            url = pattern.format(
                c=contract, s=demo["final"], e=demo["evaluation"], d=demo["dispute"], ref=ref
            )
            if url in said:
                continue
            reader: FlaskClient = api if kind == "api" else pages
            response = reader.get(url, headers=headers if kind == "api" else {})
            assert response.status_code < 500, (url, response.status_code)
            said[url] = texts_of(response.data)
    with app.extensions["fiducia.sessionmaker"]() as session:
        notices = [json.dumps(d.payload) for d in session.scalars(select(WebhookDelivery))]
    assert notices, "a notice to sweep"
    said["webhook notices"] = notices
    return said


def leaks(said: dict[str, list[str]], refs: set[str]) -> dict[str, list[str]]:
    """Return the reads whose body holds any agent's reference (as a whole word); a filter's
    page may say back the reference the reader typed, never another."""
    found = {}
    for url, texts in said.items():
        typed = re.search(r"agent_ref=([^&]+)", url)
        others = refs - {typed.group(1)} if typed else refs
        named = sorted(
            ref
            for ref in others
            for text in texts
            if re.search(rf"(?<![\w-]){re.escape(ref)}(?!\w)", text)
        )
        if named:
            found[url] = sorted(set(named))
    return found


@pytest.mark.parametrize("setting", ["teams", "pseudonyms"])
@pytest.mark.parametrize("role", ["client", "finance"])
def test_no_read_of_the_client_side_shows_an_agent_reference(
    demo_app: Flask, demo_template: DemoTemplate, demo: dict[str, Any], setting: str, role: str
) -> None:
    set_privacy(demo_app, {"client_sees": setting})
    said = sweep(demo_app, demo_template, demo, role)
    assert len(said) > 40
    assert leaks(said, demo["refs"]) == {}


def test_the_sweep_finds_the_agents_where_the_terms_show_them_with_their_basis(
    demo_app: Flask, demo_template: DemoTemplate, demo: dict[str, Any]
) -> None:
    set_privacy(demo_app, {"client_sees": "agents", "basis": BASIS})
    found = leaks(sweep(demo_app, demo_template, demo, "client"), demo["refs"])
    contract = demo["contracts"][0]
    assert f"/api/v1/contracts/{contract}/calls?period={PERIOD}&page_size=100" in found
    assert f"/contracts/{contract}/agents?period={PERIOD}" in found


def test_the_supplier_reads_its_agents_as_it_logged_them(
    demo_app: Flask, demo_template: DemoTemplate, demo: dict[str, Any]
) -> None:
    set_privacy(demo_app, {"client_sees": "teams"})
    headers = {"Authorization": f"Bearer {token(demo_template, 'supplier')}"}
    contracts = json_of(demo_app.test_client().get("/api/v1/contracts", headers=headers))
    url = f"/api/v1/contracts/{contracts[0]['id']}/calls?period={PERIOD}"
    calls = json_of(demo_app.test_client().get(url, headers=headers))
    answered = [call for call in calls if call["outcome"] == "answered"]
    assert answered and all(call["agent_ref"] in demo["refs"] for call in answered)
    assert all(call["agent_ref"] is None for call in calls if call["outcome"] != "answered")


def test_pseudonyms_are_stable_and_differ_between_contracts(
    demo_app: Flask, demo_template: DemoTemplate, demo: dict[str, Any]
) -> None:
    set_privacy(demo_app, {"client_sees": "pseudonyms"})
    headers = {"Authorization": f"Bearer {token(demo_template, 'client')}"}
    seen: dict[int, dict[str, str]] = {}
    with demo_app.extensions["fiducia.sessionmaker"]() as session:
        for contract_id in demo["contracts"]:
            key = session.get_one(Contract, contract_id).privacy_key
            url = f"/api/v1/contracts/{contract_id}/calls?period={PERIOD}&page_size=100"
            calls = json_of(demo_app.test_client().get(url, headers=headers))
            logged = {
                c.call_ref: c.agent_ref
                for c in session.scalars(select(Call).where(Call.contract_id == contract_id))
            }
            seen[contract_id] = {}
            for call in calls:
                if not logged[call["call_ref"]]:  # abandoned: no agent, none shown
                    assert call["agent_ref"] is None
                    continue
                assert re.fullmatch(r"op-[0-9a-f]{8}", call["agent_ref"])
                assert call["agent_ref"] == pseudonym(key, logged[call["call_ref"]])
                seen[contract_id][logged[call["call_ref"]]] = call["agent_ref"]
    first, second = (seen[contract_id] for contract_id in demo["contracts"])
    shared = set(first) & set(second)
    assert shared and all(first[ref] != second[ref] for ref in shared)
    # The filter takes the pseudonym the client reads, and a real reference finds nothing.
    contract = demo["contracts"][0]
    ref, alias = next(iter(first.items()))
    by_alias = json_of(demo_app.test_client().get(
        f"/api/v1/contracts/{contract}/calls?agent_ref={alias}", headers=headers
    ))  # fmt: skip
    by_ref = json_of(demo_app.test_client().get(
        f"/api/v1/contracts/{contract}/calls?agent_ref={ref}", headers=headers
    ))  # fmt: skip
    assert by_alias and {call["agent_ref"] for call in by_alias} == {alias}
    assert by_ref == []


def sums(n: int) -> stats.SufficientStatistics:
    return stats.SufficientStatistics(n, 8000 * n, 64_000_000 * n, n, {"compliance": 1})


def test_small_teams_merge_into_other_and_a_small_other_is_not_shown() -> None:
    view = View("teams", "00" * 32, 5)
    teams = [("north", sums(10)), ("south", sums(4)), ("east", sums(3)), ("west", sums(2))]
    agents, shown = seen_groups(view, [("agent-1", sums(10))], teams,
                                {"north": 6, "south": 3, "east": 2, "west": 1})  # fmt: skip
    assert agents == []
    assert [key for key, _ in shown] == ["north", "other"]
    other = dict(shown)["other"]
    assert (other.n, other.passed, other.critical_errors) == (9, 9, {"compliance": 3})
    _, shown = seen_groups(view, [], teams[:3], {"north": 6, "south": 2, "east": 2})
    assert [key for key, _ in shown] == ["north"]  # "other" has 4 agents: under 5


def test_terms_that_show_the_agents_without_a_legal_basis_are_refused(
    demo_app: Flask, demo_template: DemoTemplate, demo: dict[str, Any]
) -> None:
    headers = {"Authorization": f"Bearer {token(demo_template, 'client')}"}
    client = demo_app.test_client()
    contract = json_of(client.get(f"/api/v1/contracts/{demo['contracts'][0]}", headers=headers))
    terms = contract["terms_versions"][-1]["terms"] | {"privacy": {"client_sees": "agents"}}
    url = f"/api/v1/contracts/{demo['contracts'][0]}/terms"
    refused = client.post(
        url, json={"effective_from": "2027-01-01", "terms": terms}, headers=headers
    )
    assert refused.status_code == 422
    assert "privacy.basis" in json_of(refused)["errors"]["json"]["terms"]["privacy"] or (
        "basis" in json_of(refused)["errors"]["json"]["terms"]["privacy"]
    )
    terms["privacy"]["basis"] = BASIS
    accepted = client.post(
        url, json={"effective_from": "2027-01-01", "terms": terms}, headers=headers
    )
    assert accepted.status_code in (200, 201), accepted.text


def verified(app: Flask, template: DemoTemplate, demo: dict[str, Any]) -> None:
    """Assert every final statement re-hashes to its hash and every drawn sample verifies."""
    headers = {"Authorization": f"Bearer {token(template, 'finance')}"}
    client = app.test_client()
    with app.extensions["fiducia.sessionmaker"]() as session:
        finals = list(session.scalars(select(Statement.id).where(Statement.status == "final")))
    assert finals
    for statement in finals:
        check = json_of(client.get(f"/api/v1/statements/{statement}/verify", headers=headers))
        assert check["matches"] is True, check
    for contract, period in demo["samples"]:
        url = f"/api/v1/contracts/{contract}/samples/{period}/verify"
        check = json_of(client.get(url, headers=headers))
        assert check["matches"] is True, check


def personal_data_left(app: Flask) -> dict[str, int]:
    """Count the rows that still hold an agent's reference or a free text."""
    with app.extensions["fiducia.sessionmaker"]() as session:

        def refs(column: Any) -> int:
            return len(
                [r for r in session.scalars(select(column)) if r and not r.startswith("op-")]
            )

        def texts(column: Any) -> int:
            return len([text for text in session.scalars(select(column)) if text])

        return {
            "calls": refs(Call.agent_ref),
            "sampled": refs(SampledCall.agent_ref),
            "evaluations": refs(Evaluation.agent_ref),
            "callers": refs(Call.caller_ref),
            "comments": texts(Evaluation.comment),
            "disputes": texts(Dispute.comment),
        }


def test_retention_erases_old_months_once_and_statements_and_samples_still_verify(
    demo_app: Flask, demo_template: DemoTemplate, demo: dict[str, Any]
) -> None:
    set_privacy(demo_app, {"client_sees": "pseudonyms"})
    headers = {"Authorization": f"Bearer {token(demo_template, 'client')}"}
    url = f"/api/v1/contracts/{demo['contracts'][0]}/calls?period={PERIOD}&page_size=100"
    before = json_of(demo_app.test_client().get(url, headers=headers))
    assert personal_data_left(demo_app)["calls"] > 0
    verified(demo_app, demo_template, demo)

    factory = demo_app.extensions["fiducia.sessionmaker"]
    later = datetime(2029, 1, 1, tzinfo=UTC)  # every demo month is more than 24 months old
    run = run_retention(factory, 24, later)
    assert run.months == 6 and run.counts["calls.agent_ref"] > 0

    assert set(personal_data_left(demo_app).values()) == {0}
    verified(demo_app, demo_template, demo)
    # The client reads the same pseudonyms as before; each caller's reference is now its own
    # pseudonym, one per caller, so the month's repeat contacts read the same.
    after = json_of(demo_app.test_client().get(url, headers=headers))
    callers = {call["call_ref"]: call.pop("caller_ref") for call in after}
    was = {call["call_ref"]: call.pop("caller_ref") for call in before}
    assert after == before
    assert all(re.fullmatch(r"op-[0-9a-f]{8}", ref) for ref in callers.values() if ref)
    pairs = {(was[call], callers[call]) for call in callers}
    assert len({old for old, _ in pairs}) == len({new for _, new in pairs}) == len(pairs)
    assert run.counts["calls.caller_ref"] > 0
    # Idempotent: a second run finds nothing left to erase.
    assert run_retention(factory, 24, later).months == 0


def test_the_retention_job_keeps_recent_months_and_records_nothing_when_nothing_is_due(
    demo_app: Flask,
) -> None:
    retention_job(demo_app)  # TODAY: the demo's months are recent
    assert personal_data_left(demo_app)["calls"] > 0


def test_erasure_pseudonymizes_one_agent_at_once_and_access_then_finds_it_by_pseudonym(
    demo_app: Flask, demo_template: DemoTemplate, demo: dict[str, Any]
) -> None:
    headers = {"Authorization": f"Bearer {token(demo_template, 'supplier')}"}
    client = demo_app.test_client()
    contract = json_of(client.get("/api/v1/contracts", headers=headers))[0]["id"]
    ref = sorted(demo["refs"])[0]
    data = json_of(client.get(f"/api/v1/contracts/{contract}/agents/{ref}/data", headers=headers))
    assert data["tables"]["calls"] and all(
        row["agent_ref"] == ref for row in data["tables"]["calls"]
    )
    zipped = client.get(
        f"/api/v1/contracts/{contract}/agents/{ref}/data?format=csv", headers=headers
    )
    with zipfile.ZipFile(io.BytesIO(zipped.data)) as archive:
        assert "calls.csv" in archive.namelist()
        assert archive.read("calls.csv").decode().count(ref) == len(data["tables"]["calls"])

    erased = client.post(f"/api/v1/contracts/{contract}/agents/{ref}/erasure", headers=headers)
    assert erased.status_code == 201, erased.text
    alias = json_of(erased)["pseudonym"]
    assert alias == data["pseudonym"] and json_of(erased)["counts"]["calls.agent_ref"] > 0
    after = json_of(client.get(f"/api/v1/contracts/{contract}/agents/{ref}/data", headers=headers))
    assert len(after["tables"]["calls"]) == len(data["tables"]["calls"])
    assert {row["agent_ref"] for row in after["tables"]["calls"]} == {alias}
    with demo_app.extensions["fiducia.sessionmaker"]() as session:
        left = session.scalars(
            select(Call.call_ref).where(Call.contract_id == contract, Call.agent_ref == ref)
        ).all()
        requests = session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id)).all()
    assert left == []
    assert [(r.kind, r.pseudonym) for r in requests] == [
        ("access", alias),
        ("access", alias),
        ("erasure", alias),
        ("access", alias),
    ]
    verified(demo_app, demo_template, demo)
    admin = {"Authorization": f"Bearer {token(demo_template, 'admin')}"}
    listed = json_of(client.get("/api/v1/privacy-requests", headers=admin))
    assert [r["kind"] for r in listed] == ["access", "erasure", "access", "access"]
    assert ref not in json.dumps(listed)


@pytest.mark.parametrize(
    ("role", "status"), [("client", 403), ("finance", 403), ("other_supplier", 404)]
)
def test_only_the_employer_may_read_or_erase_an_agent(
    demo_app: Flask, demo_template: DemoTemplate, demo: dict[str, Any], role: str, status: int
) -> None:
    client = demo_app.test_client()
    if role == "other_supplier":
        # Torino's QA asks about Napoli's contract.
        supplier = {"Authorization": f"Bearer {token(demo_template, 'supplier')}"}
        own = {c["id"] for c in json_of(client.get("/api/v1/contracts", headers=supplier))}
        contract = next(c for c in demo["contracts"] if c not in own)
        headers = supplier
    else:
        contract = demo["contracts"][0]
        headers = {"Authorization": f"Bearer {token(demo_template, role)}"}
    ref = sorted(demo["refs"])[0]
    base = f"/api/v1/contracts/{contract}/agents/{ref}"
    assert client.get(f"{base}/data", headers=headers).status_code == status
    assert client.post(f"{base}/erasure", headers=headers).status_code == status
    with demo_app.extensions["fiducia.sessionmaker"]() as session:
        assert session.scalars(select(PrivacyRequest)).all() == []
