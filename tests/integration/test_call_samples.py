"""Samples nobody can steer (DESIGN 13): committed as a month begins, drawn once its log closes,
verified by anyone, and counted in the money as the terms say."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import time_machine
from flask import Flask
from sqlalchemy import func, select

from contracts.examples import SAMPLED_TERMS, load_example
from contracts.periods import Period
from service import seed
from service.actors import OPERATOR, Actor
from service.calls.models import CallSample, SampledCall
from service.calls.service import log_calls
from service.evaluations.service import submit_evaluations
from service.jobs import service as close
from service.statements import service as statements
from tests.api.conftest import PERFECT
from tests.conftest import World, json_of

NOVEMBER = Period(2026, 11)
LOGGING = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the test clock: November still runs
LOG_CLOSED = datetime(2026, 12, 3, 23, 0, tzinfo=UTC)  # 4 December, midnight in Rome
DRAWN = LOG_CLOSED + timedelta(hours=1)
FINAL = datetime(2026, 12, 11, 0, 0, tzinfo=UTC)  # past the ten-day dispute window
AGENTS = 8


def sampled_contract(app: Flask, world: World, **quality: Any) -> int:
    """Add a contract on the shipped sampled terms (its quality fields changed by `quality`)."""
    terms = load_example(SAMPLED_TERMS)
    terms["quality"] |= quality
    from service.accounts.models import Organization, User

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
    **answers: Any,
) -> None:
    """Evaluate calls (as the side of `source`), all with the same answers."""
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
        submit_evaluations(session=session, actor=OPERATOR, records=records)


def run_close_at(app: Flask, moment: datetime) -> Any:
    with time_machine.travel(moment, tick=False):
        return close.run_close(app.extensions["fiducia.sessionmaker"])


def sample_of(app: Flask, world: World, contract_id: int, period: str = "2026-11") -> Any:
    client = app.test_client()
    url = f"/api/v1/contracts/{contract_id}/samples/{period}"
    return client.get(url, headers=world.headers("client"))


def drawn_november(app: Flask, world: World, **quality: Any) -> tuple[int, list[dict[str, Any]]]:
    """A sampled contract whose November was logged, committed, closed and drawn."""
    contract_id = sampled_contract(app, world, **quality)
    run_close_at(app, LOGGING)
    calls = november_calls()
    log(app, world, contract_id, calls)
    run_close_at(app, DRAWN)
    return contract_id, calls


def sampled_refs(app: Flask, contract_id: int, purpose: str) -> list[str]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        return list(
            session.scalars(
                select(SampledCall.call_ref)
                .join(CallSample, CallSample.id == SampledCall.sample_id)
                .where(CallSample.contract_id == contract_id, CallSample.period == "2026-11")
                .where(SampledCall.purpose == purpose)
                .order_by(SampledCall.rank_key)
            )
        )


def test_the_close_commits_a_seed_as_the_month_begins_and_shows_only_its_commitment(
    app: Flask, world: World
) -> None:
    contract_id = sampled_contract(app, world)

    first = run_close_at(app, LOGGING)
    again = run_close_at(app, LOGGING + timedelta(hours=1))

    assert first.counts["committed"] == 1 and "committed" not in again.counts
    shown = json_of(sample_of(app, world, contract_id))
    assert len(shown["commitment"]) == 64 and shown["seed"] is None
    assert shown["audit"] is None and shown["self"] is None and shown["drawn_at"] is None
    with app.extensions["fiducia.sessionmaker"]() as session:
        stored = session.scalars(
            select(CallSample).where(CallSample.contract_id == contract_id)
        ).all()
    november = next(sample for sample in stored if sample.period == "2026-11")
    assert hashlib.sha256(bytes.fromhex(november.seed)).hexdigest() == shown["commitment"]
    # The contract's earlier months, whose logs had closed, were committed and drawn late.
    assert sorted(sample.period for sample in stored) == [
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    assert all(sample.drawn for sample in stored if sample.period != "2026-11")
    # Contracts that do not sample get no seed.
    assert {sample.contract_id for sample in stored} == {contract_id}


def test_nothing_is_drawn_until_the_log_closes_then_the_seed_and_samples_show(
    app: Flask, world: World
) -> None:
    contract_id = sampled_contract(app, world)
    run_close_at(app, LOGGING)
    calls = november_calls()
    log(app, world, contract_id, calls)

    run_close_at(app, LOG_CLOSED - timedelta(seconds=1))
    assert sampled_refs(app, contract_id, "audit") == []

    run_close_at(app, LOG_CLOSED)
    with time_machine.travel(DRAWN, tick=False):
        shown = json_of(sample_of(app, world, contract_id))

    seed = bytes.fromhex(shown["seed"])
    assert hashlib.sha256(seed).hexdigest() == shown["commitment"]
    assert shown["logged_calls"] == 400
    assert shown["audit"] == sampled_refs(app, contract_id, "audit")
    assert len(shown["audit"]) == 60  # 3 per agent of 8 is 24, topped up to the minimum
    assert len(shown["self"]) == 10 * AGENTS
    assert [call["via"] for call in shown["calls"]["audit"]].count("agent") == 3 * AGENTS
    assert shown["coverage"]["audit"] == {"sampled": 60, "evaluated": 0, "rate": "0.0000"}


def reference_samples(
    log: list[dict[str, Any]], seed: bytes, sizes: dict[str, int]
) -> dict[str, list[str]]:
    """DESIGN 13, written again from scratch: rank by HMAC per agent, take the first, top up."""
    found = {}
    agent_of = {call["call_ref"]: call["agent_ref"] for call in log}
    for purpose, per_agent, minimum in (
        ("audit", sizes["audit_per_agent"], sizes["audit_min"]),
        ("self", sizes["self_per_agent"], 0),
    ):
        key = {
            call["call_ref"]: hmac.new(
                seed, f"{purpose}:{call['call_ref']}".encode(), hashlib.sha256
            ).hexdigest()
            for call in log
        }
        ranked = sorted(key, key=key.__getitem__)
        chosen = [
            ref
            for agent in set(agent_of.values())
            for ref in [ref for ref in ranked if agent_of[ref] == agent][:per_agent]
        ]
        chosen += [ref for ref in ranked if ref not in chosen][: max(0, minimum - len(chosen))]
        found[purpose] = sorted(chosen, key=key.__getitem__)
    return found


def test_anyone_re_derives_the_stored_samples_from_the_apis_own_log_and_seed(
    app: Flask, world: World
) -> None:
    contract_id, _ = drawn_november(app, world)
    client = app.test_client()
    with time_machine.travel(DRAWN, tick=False):
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

    expected = reference_samples(log_lines, bytes.fromhex(shown["seed"]), shown["sizes"])

    assert len(log_lines) == 400
    assert shown["audit"] == expected["audit"] and shown["self"] == expected["self"]
    assert json_of(verified) | {"differences": {}} == {
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


def test_two_processes_closing_at_once_draw_one_sample(
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
            [sys.executable, "-c", script, DRAWN.isoformat()], env=env, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    for process in processes:
        _, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors.decode()[-2000:]

    with app.extensions["fiducia.sessionmaker"]() as session:
        november = session.scalars(
            select(CallSample).where(
                CallSample.contract_id == contract_id, CallSample.period == "2026-11"
            )
        ).one()
        per_purpose = dict(
            session.execute(
                select(SampledCall.purpose, func.count())
                .where(SampledCall.sample_id == november.id)
                .group_by(SampledCall.purpose)
            ).all()
        )
    assert november.drawn and per_purpose == {"audit": 60, "self": 10 * AGENTS}


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
    contract_id, calls = drawn_november(app, world)

    statement = november_statement(app, world, contract_id, DRAWN)

    volume = line(statement, "volume")
    inbound = sum(call["direction"] == "inbound" for call in calls)
    assert volume["basis"]["units"] == inbound == 360
    assert volume["basis"]["source"] == "calls" and volume["basis"]["direction"] == "inbound"
    assert "(logged inbound calls)" in volume["description"]
    assert volume["amount"] == "396.00"  # 360 at 1.10


def test_quality_counts_only_evaluations_of_sampled_calls_each_by_its_side(
    app: Flask, world: World
) -> None:
    contract_id, calls = drawn_november(app, world, min_sample=10)
    by_ref = {call["call_ref"]: call for call in calls}
    audit = sampled_refs(app, contract_id, "audit")
    own = sampled_refs(app, contract_id, "self")
    unsampled = [call for call in calls if call["call_ref"] not in {*audit, *own}]
    # Audits of every audit-sampled call, self-assessments of every self-sampled one.
    evaluate(app, world, contract_id, [by_ref[ref] for ref in audit], "client", tone=3)
    evaluate(app, world, contract_id, [by_ref[ref] for ref in own], "supplier")
    # Evaluations nobody sampled move nothing: perfect self-scores, harsh audits.
    evaluate(app, world, contract_id, unsampled[:50], "supplier")
    evaluate(app, world, contract_id, unsampled[50:100], "client", greeting="no", tone=1)

    statement = november_statement(app, world, contract_id, DRAWN)

    figures = statement["figures"]
    counted = len(set(audit) | set(own))
    assert figures["n"] == counted
    assert figures["sampling"]["coverage"]["audit"] == {
        "sampled": 60, "evaluated": 60, "rate": "1.0000"
    }  # fmt: skip
    pairs = len(set(audit) & set(own))
    assert figures["self_assessment"]["pairs"] == pairs
    band = line(statement, "quality_band")
    assert band["basis"]["sampling"]["seed"] == figures["sampling"]["seed"]
    assert band["basis"]["sampling"]["commitment"] == figures["sampling"]["commitment"]


def test_an_audit_of_a_self_sampled_call_still_pairs_with_its_self_assessment(
    app: Flask, world: World
) -> None:
    contract_id, calls = drawn_november(app, world)
    by_ref = {call["call_ref"]: call for call in calls}
    audit = set(sampled_refs(app, contract_id, "audit"))
    own_only = [ref for ref in sampled_refs(app, contract_id, "self") if ref not in audit][:5]
    evaluate(app, world, contract_id, [by_ref[ref] for ref in own_only], "supplier")
    evaluate(app, world, contract_id, [by_ref[ref] for ref in own_only], "client", tone=1)

    statement = november_statement(app, world, contract_id, DRAWN)

    assert statement["figures"]["self_assessment"]["pairs"] == 5
    assert statement["figures"]["n"] == 5  # the self-assessments count; the audits do not


def test_coverage_under_the_floor_holds_every_quality_line_at_zero_naming_the_side(
    app: Flask, world: World
) -> None:
    contract_id, calls = drawn_november(app, world, min_sample=10)
    by_ref = {call["call_ref"]: call for call in calls}
    audit = sampled_refs(app, contract_id, "audit")
    own = sampled_refs(app, contract_id, "self")
    evaluate(app, world, contract_id, [by_ref[ref] for ref in audit[:30]], "client")
    evaluate(app, world, contract_id, [by_ref[ref] for ref in own], "supplier")

    statement = november_statement(app, world, contract_id, DRAWN)

    band = line(statement, "quality_band")
    assert band["amount"] == "0.00" and band["basis"]["reason"] == "coverage"
    assert band["basis"]["short"] == ["audit"]
    assert "the client's audit sample is 50% evaluated (30 of 60 calls)" in band["description"]
    assert "below the 90% floor" in band["description"]
    assert all(
        line["amount"] == "0.00" and line["basis"]["reason"] == "coverage"
        for line in statement["lines"]
        if line["code"].startswith("critical_")
    )


def test_before_the_draw_the_draft_pays_no_quality_and_finance_cannot_finalize(
    app: Flask, world: World
) -> None:
    contract_id = sampled_contract(app, world)
    run_close_at(app, LOGGING)
    log(app, world, contract_id, november_calls())
    before_close = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    statement = november_statement(app, world, contract_id, before_close)
    with time_machine.travel(before_close, tick=False):
        finalized = app.test_client().post(
            f"/api/v1/statements/{statement['id']}/finalize", headers=world.headers("finance")
        )

    band = line(statement, "quality_band")
    assert band["basis"]["reason"] == "sample_pending" and band["amount"] == "0.00"
    assert "drawn when the call log closes (2026-12-04 00:00 Europe/Rome)" in band["description"]
    assert finalized.status_code == 409
    assert "not drawn yet" in json_of(finalized)["errors"]["path"]["statement_id"][0]


def test_the_close_finalizes_only_after_the_log_closed_and_the_samples_were_drawn(
    app: Flask, world: World
) -> None:
    contract_id, _ = drawn_november(app, world)

    run_close_at(app, FINAL)

    with app.extensions["fiducia.sessionmaker"]() as session:
        final = statements.list_statements(
            session=session, actor=OPERATOR, period=NOVEMBER, contract_id=contract_id
        )
    assert [statement.status for statement in final] == ["final"]
    assert final[0].figures["sampling"]["seed"] is not None


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


def readme_snippet() -> str:
    """Return the README's lines that check a month's sample by hand."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- verify-sample -->", 1)[1]
    return block.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readmes_check_by_hand_passes_on_a_real_sample_and_fails_on_a_forged_one(
    app: Flask, world: World, tmp_path: Path
) -> None:
    contract_id, _ = drawn_november(app, world)
    client = app.test_client()
    with time_machine.travel(DRAWN, tick=False):
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
    logged = [json.loads(line)["call_ref"] for line in exported.decode().splitlines()]
    outsider = next(ref for ref in logged if ref not in sample["audit"])
    forged = sample | {"audit": [*sample["audit"][:-1], outsider]}

    assert real.returncode == 0, real.stderr
    assert "both samples of 2026-11 are the ones the committed seed draws" in real.stdout
    assert check(forged).returncode != 0
