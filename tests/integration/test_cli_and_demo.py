"""The command line: bootstrap an admin, load the demo."""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from contracts.periods import Period
from contracts.service_levels import KPIS
from service.agreements.models import Contract
from service.agreements.service import terms_for_period
from service.calls.models import Call, CallSample
from service.calls.samples import coverage
from service.cli import main
from service.demo.data import demo_periods, load_demo
from service.disputes.models import Dispute
from service.evaluations.models import Evaluation
from service.statements.models import Statement
from service.surveys.models import ClientCount, SurveyAnswer
from service.volumes.models import DailyVolume
from tests.conftest import row_counts


def test_bootstrap_admin_prints_a_working_token_on_its_last_line(
    app: Flask, client: FlaskClient, database_url: str
) -> None:
    result = CliRunner().invoke(
        main,
        ["bootstrap-admin", "--email", "root@example.test"],
        env={"DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.get_json()["role"] == "admin"
    again = CliRunner().invoke(
        main,
        ["bootstrap-admin", "--email", "root@example.test"],
        env={"DATABASE_URL": database_url},
    )
    assert again.exit_code != 0
    assert "already taken" in again.output


def test_the_demo_covers_the_three_months_before_today() -> None:
    assert [str(p) for p in demo_periods(date(2026, 11, 22))] == ["2026-08", "2026-09", "2026-10"]
    assert [str(p) for p in demo_periods(date(2027, 1, 5))] == ["2026-10", "2026-11", "2026-12"]


def test_the_demo_loads_once_and_then_only_issues_fresh_tokens(
    app: Flask, client: FlaskClient
) -> None:
    factory = app.extensions["fiducia.sessionmaker"]
    with factory.begin() as session:
        result = load_demo(session, today=date(2026, 11, 22))
    with factory() as session:
        evaluations = session.scalar(select(func.count()).select_from(Evaluation))
        days = session.scalar(select(func.count()).select_from(DailyVolume))
        sources = set(session.scalars(select(Evaluation.source).distinct()))
        statements = session.scalar(select(func.count()).select_from(Statement))
        logged = dict(
            session.execute(select(Call.contract_id, func.count()).group_by(Call.contract_id)).all()
        )
        units = dict(
            session.execute(
                select(DailyVolume.contract_id, func.sum(DailyVolume.units)).group_by(
                    DailyVolume.contract_id
                )
            ).all()
        )
        drawn = session.execute(
            select(
                CallSample.period,
                CallSample.drawn_at.is_not(None),
                CallSample.audit_drawn_at.is_not(None),
            ).order_by(CallSample.period)
        ).all()
        samples = list(session.scalars(select(CallSample).order_by(CallSample.period)))
        # The month's own calls (refs `2026-..`), evaluated before any sample was drawn.
        regular = dict(
            session.execute(
                select(Evaluation.source, func.count())
                .where(Evaluation.call_ref.like("2026-%"))
                .group_by(Evaluation.source)
            ).all()
        )
        shares = {}
        for sample in session.scalars(select(CallSample).where(CallSample.drawn_at.is_not(None))):
            contract = session.get_one(Contract, sample.contract_id)
            form_id = terms_for_period(contract, sample.period).version.form_id
            shares[str(sample.period)] = coverage(session, contract, sample.period, sample, form_id)
        surveyed = dict(
            session.execute(
                select(SurveyAnswer.contract_id, func.count()).group_by(SurveyAnswer.contract_id)
            ).all()
        )
        counted_days = session.scalar(select(func.count()).select_from(ClientCount))
        napoli_october = session.scalars(
            select(Statement)
            .join(Contract, Statement.contract_id == Contract.id)
            .where(Contract.name.contains("Napoli"), Statement.period == Period(2026, 10))
        ).one()
        service_codes = {
            contract_id: {line["code"] for line in lines} & set(KPIS)
            for contract_id, lines in session.execute(
                select(Statement.contract_id, Statement.lines)
            )
        }
        dispute_states = sorted(
            (status, outcome or "") for status, outcome in session.execute(
                select(Dispute.status, Dispute.outcome)
            )
        )  # fmt: skip
    # 90 self-assessed calls a month, a third of them audited by the client, 2 suppliers, 3
    # months. The samples are drawn from a random seed, so they may take some of those calls:
    # none is self-assessed twice, and a sampled one may gain an audit.
    assert regular["supplier"] == 2 * 3 * 90 and regular["client"] >= 2 * 3 * 30
    # Napoli's samples, both stages drawn: every self-sampled call assessed on time, and the
    # audit sample (drawn out of it) above the terms' 90% floor.
    assert set(shares) == {"2026-08", "2026-09", "2026-10"}
    for share in shares.values():
        assert share["self"].sampled == 200 and share["self"].evaluated == 200
        assert share["audit"].sampled == 60 and not share["audit"].below(Decimal("0.9"))
    assert evaluations - 2 * 3 * (90 + 30) >= 3 * (200 + 54)  # less any call evaluated twice
    # Each contract logs as many calls as its daily volumes say.
    assert logged == units and len(logged) == 2
    # Napoli's months are committed in the month before: its ended months drawn in both stages;
    # the running month and the next one committed, not drawn.
    assert [str(period) for period, *_ in drawn] == [
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
        "2026-12",
    ]
    assert [stages for _, *stages in drawn] == [[True, True]] * 3 + [[False, False]] * 2
    assert all(sample.scheme == 2 and sample.seed_audit for sample in samples)
    assert all(
        sample.committed_at < datetime.combine(sample.period.first_day, time(), UTC)
        for sample in samples
    )
    assert days == 2 * (31 + 30 + 31)
    assert sources == {"supplier", "client"}
    assert statements == 2 * 3
    # The client surveys a share of both call centers' callers and counts every day's calls;
    # Napoli's terms pay on every KPI, Torino's on none.
    assert len(surveyed) == 2 and all(count > 1000 for count in surveyed.values())
    assert counted_days == 2 * (31 + 30 + 31)
    assert sorted(map(len, service_codes.values())) == [0, len(KPIS)]
    # The README's worked month is this one: each KPI's counts and money, as it says them.
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    worked = readme.split("### A worked month")[1].split("\n## ")[0]
    lines = {line["code"]: line for line in napoli_october.lines}
    for code in ("service_level", "abandoned", "repeat_contacts", "csat"):
        basis = lines[code]["basis"]
        counts = f"{basis['numerator']:,} of {basis['denominator']:,}"
        assert counts in worked or f"{basis['numerator']:,} answered within" in worked, code
        assert f"{Decimal(lines[code]['amount']):,.2f}" in worked, code
    reconciliation = lines["service_level"]["basis"]["reconciliation"]
    assert f"log {reconciliation['log']:,} inbound calls, client {reconciliation['client']:,}" in (
        worked
    )
    assert "service_cap" not in lines
    assert f"{Decimal(napoli_october.total_minor) / 100:,.2f}" in worked
    # Disputes in each state the pages show: decided each way, escalated, open.
    assert dispute_states == [
        ("decided", "accepted"), ("decided", "partly_accepted"), ("decided", "rejected"),
        ("escalated", "rejected"), ("open", ""),
    ]  # fmt: skip
    assert {login.role for login in result.logins} == {"admin", "client", "finance", "supplier"}
    supplier = next(login for login in result.logins if login.role == "supplier")
    contracts = client.get(
        "/api/v1/contracts", headers={"Authorization": f"Bearer {supplier.token}"}
    ).get_json()
    assert len(contracts) == 1

    before = row_counts(app)
    with factory.begin() as session:
        again = load_demo(session, today=date(2026, 11, 22))
    assert "already loaded" in again.summary
    after = row_counts(app)
    assert after["api_tokens"] == before["api_tokens"] + len(result.logins)
    assert {k: v for k, v in after.items() if k != "api_tokens"} == {
        k: v for k, v in before.items() if k != "api_tokens"
    }
