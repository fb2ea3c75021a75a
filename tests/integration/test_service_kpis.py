"""A month's service levels counted in SQL equal a plain-Python computation over the same calls
(issue 23): random logs with short abandons, calls without a caller, repeats across the month's
end and exactly on the window's edge, calls at the same instant, in several time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count, groupby
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.examples import QUALITY_TERMS, load_example
from contracts.periods import Period
from service.agreements.models import Contract
from service.agreements.service import create_contract
from service.calls.ingest import log_calls
from service.edge.actors import Actor
from service.surveys.kpis import month_service
from service.surveys.service import send_surveys
from tests.conftest import World
from tests.plain import plain_service_levels

MONTH = Period(2026, 9)
CONTRACTS = count()  # each example logs under a contract of its own
# Offsets from UTC of whole, half and three-quarter hours, with and without summer time.
ZONES = ("Europe/Rome", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "UTC")
CALLERS = st.none() | st.sampled_from(["c-0", "c-1", "c-2", "c-3"])
OUTCOMES = {
    "inbound": ["answered", "abandoned"],
    "outbound": ["answered", "no_answer", "busy", "failed"],
    None: ["answered", "abandoned"],
}


@st.composite
def month_logs(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a contract's thresholds, time zone, calls around `MONTH` and surveys of some."""
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    short, within_s = draw(st.integers(0, 8)), draw(st.integers(0, 30))
    within_days = draw(st.integers(1, 28))
    # Waits on either side of each threshold as often as anywhere else.
    edges = sorted({max(each, 0) for each in (short - 1, short, within_s, within_s + 1)})
    waits = st.none() | st.sampled_from(edges) | st.integers(0, 40)
    start = datetime(MONTH.year, MONTH.month, 1, tzinfo=zone)
    end = datetime(MONTH.next().year, MONTH.next().month, 1, tzinfo=zone)
    calls: list[dict[str, Any]] = []
    for number in range(draw(st.integers(0, 40))):
        where = draw(st.sampled_from(["start", "end", "inside", "again"]))
        caller = draw(CALLERS)
        if where == "again" and calls:
            # The same caller again: on the window's edge (a second either side), at once, soon.
            earlier = draw(st.sampled_from(calls))
            gap = draw(
                st.sampled_from([timedelta(days=within_days), timedelta(0), timedelta(hours=5)])
                | st.integers(-1, 1).map(lambda s: timedelta(days=within_days, seconds=s))
            )
            call_at, caller = earlier["call_at"] + gap, earlier["caller_ref"]
        elif where == "start":
            call_at = start + timedelta(seconds=draw(st.integers(-3 * 86400, 3 * 86400)))
        elif where == "end":
            after = (within_days + 2) * 86400
            call_at = end + timedelta(seconds=draw(st.integers(-3 * 86400, after)))
        else:
            call_at = start + timedelta(seconds=draw(st.integers(0, 29 * 86400)))
        direction = draw(st.sampled_from(["inbound", "inbound", "inbound", "outbound", None]))
        outcome = draw(st.sampled_from(OUTCOMES[direction]))
        calls.append(
            {
                "call_ref": f"K-{number}",
                "call_at": call_at.astimezone(zone),
                "direction": direction,
                "outcome": outcome,
                "wait_s": draw(waits),
                "caller_ref": caller,
            }
        )
    surveys = [
        {
            "call_ref": call["call_ref"],
            "csat": draw(st.integers(1, 5)),
            "resolved": draw(st.none() | st.booleans()),
            "answered_at": call["call_at"] + timedelta(hours=1),
        }
        for call in calls
        if call["outcome"] == "answered" and draw(st.booleans())
    ]
    return {
        "timezone": zone.key,
        "short_abandon_s": short,
        "answered_within_s": within_s,
        "within_days": within_days,
        "top_box_from": draw(st.integers(1, 5)),
        "calls": calls,
        "surveys": surveys,
    }


def service_terms(log: dict[str, Any]) -> dict[str, Any]:
    """Return the shipped quality terms in the log's time zone, paying on every KPI."""
    share_bands = [{"from": "50%", "adjust": "0%"}, {"from": "0%", "adjust": "-1%"}]
    terms = load_example(QUALITY_TERMS) | {"timezone": log["timezone"]}
    terms["service"] = {
        "short_abandon_s": log["short_abandon_s"],
        "kpis": {
            "service_level": {
                "answered_within_s": log["answered_within_s"],
                "bands": share_bands,
            },
            "abandoned": {"target": "5%", "per_point": "-0.5%", "max": "-5%"},
            "answer_speed": {"bands": [{"up_to_s": None, "adjust": "0%"}]},
            "repeat_contacts": {
                "within_days": log["within_days"],
                "target": "15%",
                "per_point": "-0.2%",
                "max": "-3%",
            },
            "csat": {"top_box_from": log["top_box_from"], "bands": share_bands},
        },
    }
    return terms


def store(app: Flask, world: World, log: dict[str, Any]) -> int:
    """Create a contract for the log and store its calls and surveys through the services:
    the calls a UTC day at a time, each batch logged a minute after its last call."""
    client = Actor(user_id=world.ids["user:client"], role="client",
                   organization_id=world.ids["client"])  # fmt: skip
    supplier = Actor(user_id=world.ids["user:supplier"], role="supplier",
                     organization_id=world.ids["supplier"])  # fmt: skip
    factory = app.extensions["fiducia.sessionmaker"]
    with factory.begin() as session:
        contract = create_contract(
            session=session, actor=client, client_id=world.ids["client"],
            supplier_id=world.ids["supplier"], name=f"kpis {next(CONTRACTS)}",
            effective_from=date(2026, 8, 1), terms=service_terms(log),
        )  # fmt: skip
        contract_id = contract.id
    ordered = sorted(log["calls"], key=lambda call: call["call_at"])
    for _, day in groupby(ordered, key=lambda call: call["call_at"].astimezone(UTC).date()):
        batch = list(day)
        sent = [
            {
                "call_ref": call["call_ref"],
                "call_at": call["call_at"].isoformat(),
                "agent_ref": "agent-1" if call["outcome"] == "answered" else None,
                "direction": call["direction"],
                "outcome": call["outcome"],
                "wait_s": call["wait_s"],
                "caller_ref": call["caller_ref"],
            }
            for call in batch
        ]
        with factory.begin() as session:
            log_calls(
                session=session, actor=supplier, contract_id=contract_id, calls=sent,
                now=batch[-1]["call_at"] + timedelta(minutes=1),
            )  # fmt: skip
    if log["surveys"]:
        answers = [survey | {"answered_at": survey["answered_at"].isoformat()}
                   for survey in log["surveys"]]  # fmt: skip
        with factory.begin() as session:
            send_surveys(session=session, actor=client, contract_id=contract_id, surveys=answers)
    return contract_id


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(month_logs())
def test_each_kpi_in_sql_equals_the_plain_computation_over_random_logs(
    app: Flask, world: World, log: dict[str, Any]
) -> None:
    contract_id = store(app, world, log)
    with app.extensions["fiducia.sessionmaker"]() as session:
        figures = month_service(session, session.get_one(Contract, contract_id), MONTH)
    expected = plain_service_levels(
        log["calls"], log["surveys"], MONTH, log["timezone"],
        short_abandon_s=log["short_abandon_s"], answered_within_s=log["answered_within_s"],
        within_days=log["within_days"], top_box_from=log["top_box_from"],
    )  # fmt: skip
    assert figures.counts.logged == expected.pop("logged")
    for code, value in expected.items():
        ratio = figures.ratio(code)
        assert (None if ratio is None else ratio[0]) == value, code
