"""The demo shows both sides of the calibration gate (DESIGN 17): Napoli's graders agree and
its quality pays; Torino's session falls short, and its quality lines say why."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from service.accounts.models import Organization
from service.agreements.models import Contract
from service.calibration.service import standings
from service.demo.data import demo_periods
from service.statements.models import Statement
from tests.conftest import TODAY


def test_the_demo_holds_one_qualifying_session_and_one_that_falls_short(demo_app: Flask) -> None:
    first = demo_periods(TODAY.date())[0]
    with demo_app.extensions["fiducia.sessionmaker"]() as session:
        contracts = session.scalars(select(Contract).order_by(Contract.id)).all()
        names = {
            contract.id: session.get_one(Organization, contract.supplier_id).name
            for contract in contracts
        }
        found = standings(session, contracts, first)
        statements = {
            names[statement.contract_id]: statement
            for statement in session.scalars(select(Statement).where(Statement.period == first))
        }
    by_supplier = {names[id_]: standing for id_, standing in found.items()}
    napoli, torino = by_supplier["Callmaster Napoli"], by_supplier["Voxline Torino"]
    assert napoli is not None and napoli.qualifies and napoli.reason is None
    assert torino is not None and not torino.qualifies and torino.reason == "too_low"
    assert napoli.session is not None and torino.session is not None
    assert napoli.session.alpha is not None and torino.session.alpha is not None
    assert napoli.session.alpha >= napoli.rule.min_alpha > torino.session.alpha

    gated = [line for line in statements["Voxline Torino"].lines if "calibration" in line["basis"]]
    assert gated and all(line["amount"] in ("0", "0.00") for line in gated)
    assert all(line["basis"]["calibration"]["reason"] == "too_low" for line in gated)
    named = [
        line for line in statements["Callmaster Napoli"].lines if "calibration" in line["basis"]
    ]
    assert named and all(line["basis"]["calibration"]["reason"] is None for line in named)
