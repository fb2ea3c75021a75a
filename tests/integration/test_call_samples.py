"""Samples nobody can steer (DESIGN 13): two seeds committed in the month before, the self
sample drawn when the log closes, the audit sample out of it when the self-assessments are due,
verified by anyone, and counted in the money so that the side that falls short cannot gain."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import delete, func, select

from contracts.examples import SAMPLED_TERMS, load_example
from contracts.periods import Period
from service.accounts.models import Organization, User
from service.agreements.models import TermsVersion
from service.calls.ingest import log_calls
from service.calls.models import CallSample, SampledCall
from service.demo import seed
from service.edge.actors import OPERATOR, Actor
from service.evaluations.revisions import retract_evaluation
from service.evaluations.submission import submit_evaluations
from service.figures.models import MonthFigures
from service.jobs import service as close
from service.notices.models import WebhookDelivery
from service.statements import reports
from service.statements import service as statements
from service.statements.models import Statement
from tests.api.conftest import PERFECT
from tests.conftest import World, errors_at, json_of
from tests.integration.test_report_languages import pdf_text
from tests.web import test_dispute_pages

browse = test_dispute_pages.browse  # the fixture: a signed-in test client per user

NOVEMBER = Period(2026, 11)
LOGGING = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the test clock: November still runs
LOG_CLOSED = datetime(2026, 12, 3, 23, 0, tzinfo=UTC)  # 4 December, midnight in Rome
DRAWN = LOG_CLOSED + timedelta(hours=1)
SELF_DUE = datetime(2026, 12, 10, 23, 0, tzinfo=UTC)  # 3 + 7 days after the month, in Rome
AUDIT_DRAWN = SELF_DUE + timedelta(hours=1)
AUDIT_DUE = datetime(2026, 12, 20, 23, 0, tzinfo=UTC)  # 10 days more
WINDOW_CLOSES = datetime(2026, 12, 25, 23, 0, tzinfo=UTC)  # the 5-day window from the audits'
AGENTS = 8
SELF_SIZE, AUDIT_SIZE = 200, 60  # the shipped sampled terms


def sampled_contract(
    app: Flask, world: World, terms: dict[str, Any] | None = None, **quality: Any
) -> int:
    """Add a contract on the shipped sampled terms (its quality fields changed by `quality`)."""
    terms = terms or load_example(SAMPLED_TERMS)
    terms["quality"] |= quality
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        client = session.get_one(User, world.ids["user:client"])
        supplier = session.get_one(Organization, world.ids["supplier"])
        member = seed.Member(client, world.tokens["client"])
        contract = seed.contract(
            session,
            member,
            supplier,
            name="sampled care",
            effective_from=date(2026, 8, 1),
            terms=terms,
        )
        return contract.id


def november_calls(count: int = 400) -> list[dict[str, Any]]:
    """Return a month of calls: inbound and outbound, over AGENTS agents."""
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    return [
        {
            "call_ref": f"NOV-{number:05d}",
            "call_at": (start + timedelta(minutes=75 * number)).isoformat(),
            "agent_ref": f"agent-{number % AGENTS}",
            "direction": "outbound" if number % 10 == 0 else "inbound",
            "duration_s": 60 + number % 500,
        }
        for number in range(count)
    ]


def log(app: Flask, world: World, contract_id: int, calls: list[dict[str, Any]]) -> None:
    supplier = Actor(world.ids["user:supplier"], "supplier", world.ids["supplier"])
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        log_calls(session=session, actor=supplier, contract_id=contract_id, calls=calls)


def evaluate(
    app: Flask,
    world: World,
    contract_id: int,
    calls: list[dict[str, Any]],
    source: str,
    at: datetime | None = None,
    **answers: Any,
) -> list[int]:
    """Evaluate calls (as the side of `source`, at `at`), all with the same answers."""
    records = {
        index: {
            "contract_id": contract_id,
            "call_ref": call["call_ref"],
            "source": source,
            "agent_ref": call["agent_ref"],
            "team": None,
            "call_at": datetime.fromisoformat(call["call_at"]),
            "form": "standard@1",
            "answers": PERFECT | answers,
            "evaluator_ref": None,
            "comment": None,
        }
        for index, call in enumerate(calls)
    }
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        stored = submit_evaluations(session=session, actor=OPERATOR, records=records, now=at)
        return stored.ids


def run_close_at(app: Flask, moment: datetime) -> Any:
    with time_machine.travel(moment, tick=False):
        return close.run_close(app.extensions["fiducia.sessionmaker"])


def sample_of(app: Flask, world: World, contract_id: int, period: str = "2026-11") -> Any:
    client = app.test_client()
    url = f"/api/v1/contracts/{contract_id}/samples/{period}"
    return client.get(url, headers=world.headers("client"))


def shown_at(app: Flask, world: World, contract_id: int, moment: datetime) -> Any:
    with time_machine.travel(moment, tick=False):
        return json_of(sample_of(app, world, contract_id))


def drawn_november(
    app: Flask,
    world: World,
    until: datetime = AUDIT_DRAWN,
    terms: dict[str, Any] | None = None,
    **quality: Any,
) -> tuple[int, list[dict[str, Any]]]:
    """A sampled contract whose November was committed, logged, and drawn as far as `until`."""
    contract_id = sampled_contract(app, world, terms, **quality)
    run_close_at(app, LOGGING)
    calls = november_calls()
    log(app, world, contract_id, calls)
    run_close_at(app, DRAWN)
    if until >= SELF_DUE:
        run_close_at(app, until)
    return contract_id, calls


def sampled_refs(app: Flask, contract_id: int, purpose: str, period: str = "2026-11") -> list[str]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        return list(
            session.scalars(
                select(SampledCall.call_ref)
                .join(CallSample, CallSample.id == SampledCall.sample_id)
                .where(
                    CallSample.contract_id == contract_id, CallSample.period == Period.parse(period)
                )
                .where(SampledCall.purpose == purpose)
                .order_by(SampledCall.rank_key)
            )
        )


def stored_sample(app: Flask, contract_id: int, period: str) -> CallSample:
    with app.extensions["fiducia.sessionmaker"]() as session:
        return session.scalars(
            select(CallSample).where(
                CallSample.contract_id == contract_id, CallSample.period == Period.parse(period)
            )
        ).one()


def sha256(hex_seed: str) -> str:
    return hashlib.sha256(bytes.fromhex(hex_seed)).hexdigest()


# Commitments ------------------------------------------------------------------------------


def listen(app: Flask, world: World) -> None:
    """Give both parties a webhook (the client speaks Italian), straight in the database."""
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        for name, language in (("client", "it"), ("supplier", "en")):
            party = session.get_one(Organization, world.ids[name])
            party.webhook_url, party.webhook_secret = f"https://hooks.example.test/{name}", "s" * 32
            party.language = language


def test_the_close_commits_next_months_two_seeds_in_the_month_before_and_tells_both_parties(
    app: Flask, world: World
) -> None:
    contract_id = sampled_contract(app, world)
    listen(app, world)

    first = run_close_at(app, LOGGING)
    again = run_close_at(app, LOGGING + timedelta(hours=1))

    december = stored_sample(app, contract_id, "2026-12")
    assert december.scheme == 2 and december.committed_at == LOGGING
    assert (sha256(december.seed), sha256(december.seed_audit or "")) == (
        december.commitment, december.commitment_audit
    )  # fmt: skip
    assert december.seed != december.seed_audit
    # November had begun: it is committed now, late; December a week before it begins.
    assert first.counts["committed"] == 2 and "committed" not in again.counts
    shown = json_of(sample_of(app, world, contract_id, "2026-12"))
    assert shown | {"committed_at": None, "self_due": None, "audit_due": None} == {
        "contract_id": contract_id, "period": "2026-12", "scheme": 2,
        "commitments": {"self": december.commitment, "audit": december.commitment_audit},
        "committed_at": None, "late": False, "seeds": {"self": None, "audit": None},
        "log_closes_at": "2027-01-04T00:00:00+01:00", "self_due": None, "audit_due": None,
        "drawn_at": None, "audit_drawn_at": None, "sizes": None, "logged_calls": None,
        "self": [], "audit": [],
        "coverage": {"self": {"sampled": 0, "evaluated": 0, "rate": None},
                     "audit": {"sampled": 0, "evaluated": 0, "rate": None}},
    }  # fmt: skip
    assert (shown["self_due"], shown["audit_due"]) == (
        "2027-01-11T00:00:00+01:00", "2027-01-21T00:00:00+01:00"
    )  # fmt: skip
    assert json_of(sample_of(app, world, contract_id))["late"] is True
    with app.extensions["fiducia.sessionmaker"]() as session:
        notices = [
            delivery.payload
            for delivery in session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
            if delivery.payload["period"] == "2026-12"
        ]
    assert [(notice["event"], notice["language"]) for notice in notices] == [
        ("sample.committed", "it"), ("sample.committed", "en"),
    ]  # fmt: skip
    assert notices[1]["commitments"] == shown["commitments"] and notices[1]["late"] is False
    assert notices[1]["summary"] == (
        f"The samples of contract {contract_id} for December 2026 are committed before the"
        f" month: SHA-256 {december.commitment} (self-assessment) and"
        f" {december.commitment_audit} (audit)."
    )
    assert notices[0]["summary"].startswith(
        f"I campioni del contratto {contract_id} per dicembre 2026 sono impegnati prima del mese"
    )


def test_a_month_committed_after_it_began_is_late_on_its_samples_statement_and_pdf(
    app: Flask, world: World, browse: test_dispute_pages.Browse
) -> None:
    contract_id, _ = drawn_november(app, world)  # created on 23 November: November is late

    statement = november_statement(app, world, contract_id, AUDIT_DRAWN)

    assert statement["figures"]["sampling"]["late"] is True
    assert statement["figures"]["sampling"]["committed_at"] == LOGGING.isoformat()
    with app.extensions["fiducia.sessionmaker"]() as session:
        stored = session.get_one(Statement, statement["id"])
        printable = reports.printable(stored, "en")
        pdf = re.sub(r"\s", "", pdf_text(reports.pdf(stored, "en")))
    with time_machine.travel(AUDIT_DRAWN, tick=False):
        page = browse("finance").get(f"/statements/{statement['id']}").get_data(as_text=True)
    for said in (printable, page):
        assert "Committed late, 23 Nov 2026, 10:00 CET, after the month began." in said
        assert "before the month" not in said
    assert "Committedlate,23Nov2026,10:00CET,afterthemonthbegan." in pdf
    assert "beforethemonth" not in pdf


# The two stages -----------------------------------------------------------------------------


def test_the_self_sample_is_drawn_when_the_log_closes_and_the_audit_sample_out_of_it_when_due(
    app: Flask, world: World
) -> None:
    contract_id = sampled_contract(app, world)
    run_close_at(app, LOGGING)
    log(app, world, contract_id, november_calls())

    run_close_at(app, LOG_CLOSED - timedelta(seconds=1))
    assert sampled_refs(app, contract_id, "self") == []
    run_close_at(app, LOG_CLOSED)
    own = shown_at(app, world, contract_id, DRAWN)
    run_close_at(app, SELF_DUE - timedelta(seconds=1))
    waiting = shown_at(app, world, contract_id, SELF_DUE - timedelta(seconds=1))
    run_close_at(app, SELF_DUE)
    both = shown_at(app, world, contract_id, AUDIT_DRAWN)

    assert sha256(own["seeds"]["self"]) == own["commitments"]["self"]
    assert own["seeds"]["audit"] is None and own["audit"] == []
    assert [call["call_ref"] for call in own["self"]] == sampled_refs(app, contract_id, "self")
    assert len(own["self"]) == SELF_SIZE and own["logged_calls"] == 400
    assert waiting["seeds"]["audit"] is None and waiting["audit"] == []
    assert sha256(both["seeds"]["audit"]) == both["commitments"]["audit"]
    audit = [call["call_ref"] for call in both["audit"]]
    assert len(audit) == AUDIT_SIZE and set(audit) <= {call["call_ref"] for call in own["self"]}
    assert both["self"] == own["self"] and both["audit_drawn_at"] == SELF_DUE.isoformat()
    assert both["coverage"]["audit"] == {"sampled": 60, "evaluated": 0, "rate": "0.0000"}


def reference_samples(
    log: list[dict[str, Any]], seeds: dict[str, str], sizes: dict[str, int]
) -> dict[str, list[str]]:
    """DESIGN 13, written again from scratch: the lowest self keys of the month, then the
    lowest audit keys of those."""

    def key(purpose: str) -> Any:
        seed = bytes.fromhex(seeds[purpose])
        return lambda ref: hmac.new(seed, f"{purpose}:{ref}".encode(), hashlib.sha256).hexdigest()

    own = sorted((call["call_ref"] for call in log), key=key("self"))[: sizes["self"]]
    return {"self": own, "audit": sorted(own, key=key("audit"))[: sizes["audit"]]}


def test_anyone_re_derives_both_stages_from_the_apis_own_log_and_seeds(
    app: Flask, world: World
) -> None:
    contract_id, _ = drawn_november(app, world)
    client = app.test_client()
    with time_machine.travel(AUDIT_DRAWN, tick=False):
        shown = json_of(sample_of(app, world, contract_id))
        exported = client.get(
            f"/api/v1/contracts/{contract_id}/calls/export?period=2026-11",
            headers=world.headers("client"),
        )
        verified = client.get(
            f"/api/v1/contracts/{contract_id}/samples/2026-11/verify",
            headers=world.headers("supplier"),
        )
    log_lines = [json.loads(line) for line in exported.data.decode().splitlines()]

    expected = reference_samples(log_lines, shown["seeds"], shown["sizes"])

    assert len(log_lines) == 400
    for purpose in ("self", "audit"):
        assert [call["call_ref"] for call in shown[purpose]] == expected[purpose]
    assert json_of(verified) == {
        "contract_id": contract_id,
        "period": "2026-11",
        "matches": True,
        "commitment_matches": True,
        "samples_match": True,
        "logged_calls": 400,
        "differences": {},
    }


def test_a_closed_log_refuses_calls_naming_call_at(app: Flask, world: World) -> None:
    contract_id = sampled_contract(app, world)
    late = november_calls(1)
    with time_machine.travel(LOG_CLOSED, tick=False):
        response = app.test_client().post(
            f"/api/v1/contracts/{contract_id}/calls",
            json={"calls": late},
            headers=world.headers("supplier"),
        )
    assert response.status_code == 422
    assert (
        "closed at 2026-12-04T00:00:00+01:00"
        in json_of(response)["errors"]["json"]["calls"]["0"]["call_at"][0]
    )


def test_two_processes_closing_at_once_draw_each_stage_once(
    app: Flask, world: World, database_url: str
) -> None:
    contract_id = sampled_contract(app, world)
    run_close_at(app, LOGGING)
    log(app, world, contract_id, november_calls())
    script = (
        "import sys, time_machine; from service.cli import main; "
        "time_machine.travel(sys.argv[1], tick=True).start(); main(['scheduler', '--once'])"
    )
    env = os.environ | {"DATABASE_URL": database_url, "FIDUCIA_LOG_LEVEL": "WARNING"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, AUDIT_DRAWN.isoformat()],
            env=env,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for process in processes:
        _, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors.decode()[-2000:]

    november = stored_sample(app, contract_id, "2026-11")
    with app.extensions["fiducia.sessionmaker"]() as session:
        per_purpose = dict(
            session.execute(
                select(SampledCall.purpose, func.count())
                .where(SampledCall.sample_id == november.id)
                .group_by(SampledCall.purpose)
            ).all()
        )
    assert november.drawn and november.audit_drawn
    assert per_purpose == {"audit": AUDIT_SIZE, "self": SELF_SIZE}


def readme_snippet() -> str:
    """Return the README's lines that check a month's samples by hand."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- verify-sample -->", 1)[1]
    return block.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readmes_check_by_hand_passes_on_both_stages_and_fails_on_forged_ones(
    app: Flask, world: World, tmp_path: Path
) -> None:
    contract_id, _ = drawn_november(app, world)
    client = app.test_client()
    with time_machine.travel(AUDIT_DRAWN, tick=False):
        exported = client.get(
            f"/api/v1/contracts/{contract_id}/calls/export?period=2026-11",
            headers=world.headers("supplier"),
        ).data
        sample = json_of(sample_of(app, world, contract_id))
    (tmp_path / "log.jsonl").write_bytes(exported)
    script = tmp_path / "check.py"
    script.write_text(readme_snippet(), encoding="utf-8")

    def check(shown: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        (tmp_path / "sample.json").write_text(json.dumps(shown), encoding="utf-8")
        return subprocess.run(
            [sys.executable, "-I", str(script)], cwd=tmp_path, capture_output=True, text=True
        )

    real = check(sample)
    own = {call["call_ref"] for call in sample["self"]}
    outsider = next(call for call in sample["self"] if call not in sample["audit"])
    stranger = next(
        json.loads(line)["call_ref"]
        for line in exported.decode().splitlines()
        if json.loads(line)["call_ref"] not in own
    )
    forged_audit = sample | {"audit": [*sample["audit"][:-1], outsider]}
    forged_self = sample | {
        "self": [*sample["self"][:-1], {"call_ref": stranger, "rank_key": "0" * 64}]
    }
    forged_seed = sample | {"seeds": sample["seeds"] | {"audit": "00" * 32}}

    assert real.returncode == 0, real.stderr
    assert "both samples of 2026-11 are the ones the committed seeds draw" in real.stdout
    for forged in (forged_audit, forged_self, forged_seed):
        assert check(forged).returncode != 0


# The retired per-agent scheme ------------------------------------------------------------------


PER_AGENT = {
    "audit": {"per_agent": 3, "min": 60},
    "self": {"per_agent": 10},
    "counts": "sampled",
    "min_coverage": "90%",
    "log_closes_days": 3,
}


def test_a_per_agent_version_stored_before_still_draws_shows_and_verifies_as_scheme_one(
    app: Flask, world: World
) -> None:
    contract_id = sampled_contract(app, world)
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        # As the versions written before per-agent samples were retired are stored.
        version = session.scalars(
            select(TermsVersion).where(TermsVersion.contract_id == contract_id)
        ).one()
        document = json.loads(json.dumps(version.document))
        document["quality"]["sampling"] = PER_AGENT
        version.document = document
    run_close_at(app, LOGGING)
    # A per-agent month is committed as it begins, as before: not a month ahead.
    december = sample_of(app, world, contract_id, "2026-12")
    log(app, world, contract_id, november_calls())
    run_close_at(app, DRAWN)

    with time_machine.travel(DRAWN, tick=False):
        shown = json_of(sample_of(app, world, contract_id))
        verified = json_of(
            app.test_client().get(
                f"/api/v1/contracts/{contract_id}/samples/2026-11/verify",
                headers=world.headers("client"),
            )
        )

    assert shown["scheme"] == 1 and shown["seeds"] == {"self": shown["seeds"]["self"]} | {
        "audit": shown["seeds"]["self"]
    }
    assert sha256(shown["seeds"]["self"]) == shown["commitments"]["self"]
    assert len(shown["audit"]) == 60 and len(shown["self"]) == 10 * AGENTS
    assert shown["sizes"] == {"audit_per_agent": 3, "audit_min": 60, "self_per_agent": 10}
    assert verified["matches"] is True and verified["differences"] == {}
    assert december.status_code == 404


@pytest.mark.parametrize("where", ["contracts", "terms"])
def test_new_terms_that_sample_per_agent_are_refused_naming_the_key_and_why(
    app: Flask, world: World, where: str
) -> None:
    terms = load_example(SAMPLED_TERMS)
    terms["quality"]["sampling"] = PER_AGENT
    client = app.test_client()
    if where == "contracts":
        body = {"client_id": world.ids["client"], "supplier_id": world.ids["supplier"],
                "name": "per agent", "effective_from": "2026-12-01", "terms": terms}  # fmt: skip
        response = client.post("/api/v1/contracts", json=body, headers=world.headers("client"))
    else:
        url = f"/api/v1/contracts/{world.ids['contract']}/terms"
        body = {"effective_from": "2026-12-01", "terms": terms}
        response = client.post(url, json=body, headers=world.headers("client"))

    assert response.status_code == 422
    said = errors_at(response, "json.terms.quality.sampling.audit.per_agent")
    assert said == [
        "is retired: a per-agent quota lets whoever declares the agents choose each call's"
        " chance; give the sample's size and due_days instead"
    ]
    assert errors_at(response, "json.terms.quality.sampling.self.per_agent") == said


# Money ----------------------------------------------------------------------------------------


def november_statement(app: Flask, world: World, contract_id: int, moment: datetime) -> Any:
    with time_machine.travel(moment, tick=False):
        response = app.test_client().post(
            f"/api/v1/contracts/{contract_id}/statements",
            json={"period": "2026-11"},
            headers=world.headers("finance"),
        )
    assert response.status_code in (200, 201), response.get_json()
    return json_of(response)


def line(statement: dict[str, Any], code: str) -> dict[str, Any]:
    return next(line for line in statement["lines"] if line["code"] == code)


def test_the_volume_fee_pays_the_logged_inbound_calls(app: Flask, world: World) -> None:
    contract_id, calls = drawn_november(app, world, until=DRAWN)

    statement = november_statement(app, world, contract_id, DRAWN)

    volume = line(statement, "volume")
    inbound = sum(call["direction"] == "inbound" for call in calls)
    assert volume["basis"]["units"] == inbound == 360
    assert volume["basis"]["source"] == "calls" and volume["basis"]["direction"] == "inbound"
    assert "(logged inbound calls)" in volume["description"]
    assert volume["amount"] == "396.00"  # 360 at 1.10


def evaluate_samples(
    app: Flask,
    world: World,
    contract_id: int,
    calls: list[dict[str, Any]],
    own: int = SELF_SIZE,
    audited: int = AUDIT_SIZE,
    **answers: Any,
) -> tuple[list[int], list[int]]:
    """Self-assess `own` self-sampled calls before they are due, then audit `audited`
    audit-sampled calls before they are due (the audits with `answers`)."""
    by_ref = {call["call_ref"]: call for call in calls}
    assessed = [by_ref[ref] for ref in sampled_refs(app, contract_id, "self")[:own]]
    audit = [by_ref[ref] for ref in sampled_refs(app, contract_id, "audit")[:audited]]
    own_ids = evaluate(app, world, contract_id, assessed, "supplier", at=DRAWN)
    audit_ids = evaluate(app, world, contract_id, audit, "client", at=AUDIT_DRAWN, **answers)
    return own_ids, audit_ids


def test_quality_counts_sampled_calls_each_by_its_side_and_every_audit_pairs(
    app: Flask, world: World
) -> None:
    contract_id, calls = drawn_november(app, world)
    sampled = set(sampled_refs(app, contract_id, "self"))
    unsampled = [call for call in calls if call["call_ref"] not in sampled]
    evaluate_samples(app, world, contract_id, calls, tone=4)
    # Evaluations nobody sampled move nothing: perfect self-scores, harsh audits.
    evaluate(app, world, contract_id, unsampled[:50], "supplier", at=DRAWN)
    evaluate(app, world, contract_id, unsampled[50:100], "client", greeting="no", tone=1)

    statement = november_statement(app, world, contract_id, AUDIT_DUE)

    figures = statement["figures"]
    assert figures["n"] == SELF_SIZE  # 60 audits first, the other 140 self-assessments
    assert figures["sampling"]["coverage"] == {
        "audit": {"sampled": 60, "evaluated": 60, "rate": "1.0000"},
        "self": {"sampled": 200, "evaluated": 200, "rate": "1.0000"},
    }
    # Every audited call was self-assessed before the supplier could know it would be.
    assert figures["self_assessment"]["pairs"] == AUDIT_SIZE
    assert figures["self_assessment"]["status"] == "verified"  # tone 4 of 5: 1.87 points
    assert figures["mean"] == "99.44"  # (60 × 98.13 + 140 × 100) / 200
    band = line(statement, "quality_band")
    assert band["basis"]["sampling"]["seed"] == figures["sampling"]["seed"]
    assert band["basis"]["sampling"]["audit_seed"] == figures["sampling"]["audit_seed"]


def test_only_the_audit_sample_pairs_not_audits_the_client_chose_knowing_the_self_scores(
    app: Flask, world: World
) -> None:
    contract_id, calls = drawn_november(app, world)
    by_ref = {call["call_ref"]: call for call in calls}
    evaluate_samples(app, world, contract_id, calls)  # all perfect: no inflation
    # Once the self-scores are known, the client audits 30 more self-sampled calls, harshly.
    audit = set(sampled_refs(app, contract_id, "audit"))
    chosen = [ref for ref in sampled_refs(app, contract_id, "self") if ref not in audit][:30]
    evaluate(app, world, contract_id, [by_ref[ref] for ref in chosen], "client", **POOR)

    statement = november_statement(app, world, contract_id, AUDIT_DUE)

    check = statement["figures"]["self_assessment"]
    assert (check["pairs"], check["inflation"], check["status"]) == (60, "0.00", "verified")
    assert statement["figures"]["mean"] == "100.00"


def test_under_counts_all_a_self_assessment_no_audit_could_verify_counts_nowhere(
    app: Flask, world: World
) -> None:
    terms = load_example(SAMPLED_TERMS)
    terms["quality"]["sampling"]["counts"] = "all"
    contract_id, calls = drawn_november(app, world, terms=terms)
    sampled = set(sampled_refs(app, contract_id, "self"))
    unsampled = [call for call in calls if call["call_ref"] not in sampled]
    evaluate_samples(app, world, contract_id, calls, tone=1)  # the client audits at 92.50
    # Once the self sample is known, no other call can be audited in the sample: perfect.
    evaluate(app, world, contract_id, unsampled[:50], "supplier", at=DRAWN)
    # The client may audit any call under `counts: all`: these count.
    evaluate(app, world, contract_id, unsampled[50:60], "client", tone=1)

    statement = november_statement(app, world, contract_id, AUDIT_DUE)

    assert statement["figures"]["n"] == SELF_SIZE + 10
    assert statement["figures"]["self_assessment"]["pairs"] == AUDIT_SIZE


def test_a_self_assessment_made_after_it_was_due_counts_nowhere(app: Flask, world: World) -> None:
    contract_id, calls = drawn_november(app, world, min_sample=0)
    by_ref = {call["call_ref"]: call for call in calls}
    audit = set(sampled_refs(app, contract_id, "audit"))
    own = sampled_refs(app, contract_id, "self")
    unaudited = [by_ref[ref] for ref in own if ref not in audit]
    # On time: honest (a low score); once the audit sample is known: perfect, where unaudited.
    evaluate(app, world, contract_id, unaudited[:10], "supplier", at=DRAWN, tone=1)
    evaluate(app, world, contract_id, unaudited[10:100], "supplier", at=AUDIT_DRAWN)

    statement = november_statement(app, world, contract_id, AUDIT_DUE)

    assert statement["figures"]["n"] == 10 and statement["figures"]["mean"] == "92.50"
    assert statement["figures"]["sampling"]["coverage"]["self"]["evaluated"] == 10


def retract(app: Flask, world: World, ids: list[int], moment: datetime) -> None:
    client = Actor(world.ids["user:client"], "client", world.ids["client"])
    with time_machine.travel(moment, tick=False):
        with app.extensions["fiducia.sessionmaker"].begin() as session:
            for id_ in ids:
                retract_evaluation(session=session, actor=client, evaluation_id=id_, reason="x")


def test_the_clients_short_audits_take_away_no_bonus_only_a_malus(app: Flask, world: World) -> None:
    # Issue 20, point 5: the client retracted audits until coverage fell to 88%, and the bonus
    # its own audits proved vanished with every other quality line.
    contract_id, calls = drawn_november(app, world)
    _, audits = evaluate_samples(app, world, contract_id, calls)
    retract(app, world, audits[:7], AUDIT_DUE + timedelta(days=1))  # 53 of 60: 88%

    statement = november_statement(app, world, contract_id, AUDIT_DUE + timedelta(days=1))

    band = line(statement, "quality_band")
    assert statement["figures"]["sampling"]["coverage"]["audit"]["evaluated"] == 53
    assert band["amount"] == "47.52"  # +12% of 396.00: every call scored 100
    assert band["basis"]["coverage"]["short"] == ["audit"]
    assert band["basis"]["coverage"]["waived"] is None
    assert band["description"].endswith(
        "; the client's audit sample is 88.33% evaluated (53 of 60 calls), below the 90% floor:"
        " no quality malus applies"
    )


def test_the_call_centers_short_self_assessments_take_away_the_bonus_and_keep_the_malus(
    app: Flask, world: World
) -> None:
    contract_id, calls = drawn_november(app, world)
    # Nothing self-assessed; 57 audits (under the minimum sample of 60), all poor.
    evaluate_samples(app, world, contract_id, calls, own=0, audited=57, **POOR)

    statement = november_statement(app, world, contract_id, AUDIT_DUE)

    band = line(statement, "quality_band")
    assert statement["figures"]["n"] == 57
    assert band["amount"] == "-31.68"  # -8% of 396.00: the malus the audits prove applies
    assert band["basis"]["coverage"]["short"] == ["self"]
    assert band["description"].endswith(
        "; the call center's self-assessment sample is 0% evaluated (0 of 200 calls), below the"
        " 90% floor: no quality bonus applies, and the minimum sample of 60 does not hold back"
        " a malus"
    )


# Answers that score 46.33 (a poor call): every scale at its lowest, two yes/no failed.
POOR = {
    "active_listening": 1, "procedure": 1, "stays_calm": 1, "de_escalation": 1, "tone": 1,
    "ownership": 1, "greeting": "no", "closing": "no",
}  # fmt: skip


def test_before_both_draws_the_draft_pays_no_quality_and_finance_cannot_finalize(
    app: Flask, world: World
) -> None:
    contract_id, calls = drawn_november(app, world, until=DRAWN)
    evaluate_samples(app, world, contract_id, calls, audited=0)

    statement = november_statement(app, world, contract_id, DRAWN)
    with time_machine.travel(DRAWN, tick=False):
        finalized = app.test_client().post(
            f"/api/v1/statements/{statement['id']}/finalize", headers=world.headers("finance")
        )

    band = line(statement, "quality_band")
    assert band["basis"]["reason"] == "sample_pending" and band["amount"] == "0.00"
    assert band["description"].startswith(
        "No quality band adjustment: the audit sample is drawn when the self-assessments are"
        " due (2026-12-11 00:00 Europe/Rome)"
    )
    assert finalized.status_code == 409
    assert "not drawn yet" in json_of(finalized)["errors"]["path"]["statement_id"][0]
    assert "2026-12-11T00:00:00+01:00" in json_of(finalized)["message"]


def test_the_close_finalizes_only_once_the_window_after_the_audits_due_date_closed(
    app: Flask, world: World
) -> None:
    contract_id, _ = drawn_november(app, world)

    run_close_at(app, WINDOW_CLOSES - timedelta(seconds=1))
    before = november_status(app, contract_id)
    run_close_at(app, WINDOW_CLOSES)

    assert (before, november_status(app, contract_id)) == ("draft", "final")


def november_status(app: Flask, contract_id: int) -> str:
    with app.extensions["fiducia.sessionmaker"]() as session:
        (found,) = statements.list_statements(
            session=session, actor=OPERATOR, period=NOVEMBER, contract_id=contract_id
        )
        return found.status


def test_a_two_stage_self_assessment_changes_no_more_once_the_audit_sample_is_drawn(
    app: Flask, world: World
) -> None:
    contract_id, calls = drawn_november(app, world, until=DRAWN)
    by_ref = {call["call_ref"]: call for call in calls}
    (own,) = evaluate(
        app, world, contract_id, [by_ref[sampled_refs(app, contract_id, "self")[0]]], "supplier"
    )
    client = app.test_client()
    body = {"answers": PERFECT | {"tone": 4}, "reason": "listened again"}

    def amend(moment: datetime) -> Any:
        with time_machine.travel(moment, tick=False):
            url = f"/api/v1/evaluations/{own}/revisions"
            return client.post(url, json=body, headers=world.headers("supplier"))

    assert amend(SELF_DUE - timedelta(hours=1)).status_code == 201
    late = amend(SELF_DUE)
    assert late.status_code == 409
    assert errors_at(late, "path.evaluation_id") == [
        "the self-assessments of 2026-11 were due at 2026-12-11T00:00:00+01:00"
    ]


def test_unlogged_calls_do_not_count_and_the_scorecard_says_how_many(
    app: Flask, world: World
) -> None:
    contract_id = sampled_contract(app, world, sampling=None, min_sample=0)
    calls = november_calls(20)
    log(app, world, contract_id, calls[:15])
    evaluate(app, world, contract_id, calls, "client")

    response = app.test_client().get(
        f"/api/v1/contracts/{contract_id}/scorecard?period=2026-11",
        headers=world.headers("client"),
    )

    card = json_of(response)
    assert card["n"] == 15 and card["unlogged"] == 5
    assert card["sampling"] is None
    assert Decimal(card["mean"]) == Decimal("100.00")


def test_a_draw_is_on_the_scorecard_at_once_though_its_month_was_read_and_stored_before(
    app: Flask, world: World
) -> None:
    contract_id = sampled_contract(app, world)
    run_close_at(app, LOGGING)
    calls = november_calls()
    log(app, world, contract_id, calls)
    evaluate(app, world, contract_id, calls[:40], "supplier")
    url = f"/api/v1/contracts/{contract_id}/scorecard?period=2026-11"

    def card() -> Any:
        with time_machine.travel(DRAWN, tick=False):
            return json_of(app.test_client().get(url, headers=world.headers("client")))

    before = card()
    assert before["sampling"]["seed"] is None and card() == before  # stored, then served
    run_close_at(app, DRAWN)  # the close draws the self sample: the month's seed is revealed

    after = card()
    assert after["sampling"]["seed"] is not None
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        session.execute(delete(MonthFigures))
    assert after == card()
