"""Demo data: one client, two call centers, three closed months of evaluations and volumes."""

from __future__ import annotations

import io
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.examples import QUALITY_TERMS, SAMPLED_TERMS, load_example
from contracts.forms import Form
from contracts.periods import Period
from service.accounts.models import Organization, User
from service.accounts.service import issue_token, set_password
from service.agreements.models import Contract
from service.agreements.service import terms_for_period, timeline_of
from service.calibration import service as calibration
from service.calls import samples
from service.calls.ingest import upload_calls
from service.calls.rows import COLUMNS
from service.database.engine import utcnow
from service.demo import seed
from service.disputes import service as disputes
from service.edge.actors import OPERATOR, Actor
from service.evaluations.models import Evaluation
from service.evaluations.reads import get_evaluation
from service.evaluations.submission import submit_evaluations
from service.forms.service import parsed_form
from service.statements.service import refresh_draft
from service.surveys.service import put_count, send_surveys
from service.volumes.service import upsert_volumes

CLIENT = "Demo Energia S.p.A."
# name, login, how often an agent gets a question right, how much the self-assessment flatters
SUPPLIERS = [
    ("Callmaster Napoli", "napoli", 0.93, 0.0),
    ("Voxline Torino", "torino", 0.84, 0.5),
]
# Napoli's contract pays its logged inbound calls and counts only samples nobody chose.
SAMPLED = "napoli"
# Of its audit sample the client audits this share, so coverage clears the terms' 90% floor.
AUDITED_SHARE = 0.95
# How long after its sample is revealed each side evaluates it: well before it is due.
SELF_ASSESSED_AFTER = timedelta(days=2)
AUDITED_AFTER = timedelta(days=3)
TIMEZONE = "Europe/Rome"
# The demo's companies are Italian: their report files and notices are in Italian.
LANGUAGE = "it"
# Demo users also sign in to the pages with their email and this password.
DEMO_PASSWORD = "fiducia-demo-2026"
# What the client reads of each supplier's agents (DESIGN 18): Napoli's as pseudonyms, Torino's
# only as teams (the default, written out).
PRIVACY = {"napoli": {"client_sees": "pseudonyms"}, "torino": {"client_sees": "teams"}}
# Both contracts pay quality only once their graders are calibrated (DESIGN 17). Napoli's
# session agrees well; Torino's graders score the same calls each their own way.
CALIBRATION = {"min_alpha": "0.667", "valid_days": 90, "min_calls": 10, "min_participants": 3}
CALIBRATED = "napoli"
CALIBRATION_CALLS = 10
# Napoli's contract also pays on its service levels and the callers' surveys (DESIGN 16): the
# block of issue 23, a Consip-style contract.
SERVICE_TERMS = """
short_abandon_s: 5
reconcile: {tolerance: "1%"}
gate: true
kpis:
  service_level: {answered_within_s: 20, bands: [{from: "90%", adjust: "+2%"}, {from: "80%", adjust: "0%"}, {from: "0%", adjust: "-5%"}]}
  abandoned: {target: "5%", per_point: "-0.5%", max: "-5%"}
  answer_speed: {bands: [{up_to_s: 30, adjust: "0%"}, {up_to_s: 90, adjust: "-1%"}, {up_to_s: null, adjust: "-3%"}]}
  repeat_contacts: {within_days: 7, target: "15%", per_point: "-0.2%", max: "-3%"}
  csat: {top_box_from: 4, min_responses: 100, bands: [{from: "90%", adjust: "+3%"}, {from: "80%", adjust: "0%"}, {from: "0%", adjust: "-3%"}]}
cap: {bonus: "5%", malus: "10%"}
"""  # noqa: E501
# How each call center serves its callers: mean wait (s), share of inbound calls abandoned,
# share of callers who call again within days, and what its surveyed callers say: the chance
# of a 4 or 5 and of "resolved". Napoli answers fast; Torino keeps callers waiting, loses more
# and is called back more.
SERVICE = {
    "napoli": {"wait": 8, "abandon": 0.03, "repeat": 0.08, "top_box": 0.92, "resolved": 0.86},
    "torino": {"wait": 45, "abandon": 0.09, "repeat": 0.2, "top_box": 0.76, "resolved": 0.7},
}
SURVEYED = 0.08  # the share of answered inbound calls whose caller answers the client's survey
RECENT_CALLERS = 500  # a repeat caller is one of the last callers of the month
# The client's telephony count of a day against the log's inbound calls: Napoli's agree within
# the terms' 1%; Torino's log misses about 2% of the calls its client's ACD counted.
MISSED = {"napoli": 0.002, "torino": 0.02}


@dataclass(frozen=True)
class Login:
    role: str
    email: str
    token: str


@dataclass(frozen=True)
class DemoResult:
    summary: str
    logins: list[Login]


def demo_periods(today: date) -> list[Period]:
    """Return the three months before the current one, oldest first."""
    current = Period.of(today)
    return [
        current.previous().previous().previous(),
        current.previous().previous(),
        current.previous(),
    ]


def load_demo(
    session: Session, today: date | None = None, seed_value: int = 7, traffic: float = 1.0
) -> DemoResult:
    """Load the demo data once; later calls only issue fresh tokens to the demo users.

    `traffic` is the share of a busy call center's daily calls the demo handles and logs:
    the tests of pages and reports take a small share, as they need the demo's every state,
    not its three hundred thousand calls.
    """
    today = today or datetime.now(ZoneInfo(TIMEZONE)).date()
    client = session.scalar(select(Organization).where(Organization.name == CLIENT))
    if client is not None:
        users = session.scalars(select(User).where(User.email.like("%@demo.fiducia"))).all()
        return DemoResult("demo data already loaded; fresh tokens issued", _logins(session, users))

    client = seed.organization(session, CLIENT, "client", LANGUAGE)
    admin = seed.member(session, None, role="admin", email="admin@demo.fiducia", name="Demo Admin")
    client_member = seed.member(
        session, client, role="client", email="client@demo.fiducia", name="Chiara Conti"
    )
    finance = seed.member(
        session, client, role="finance", email="finance@demo.fiducia", name="Franco Ferri"
    )
    members = [admin, client_member, finance]
    standard_form = parsed_form(seed.standard_form(session, client_member))
    periods = demo_periods(today)
    rng = random.Random(seed_value)
    evaluations = 0
    # Each call center's number in the demo (1, 2) seeds its random numbers and names its calls:
    # never the contract's id, which a database that held rows before gives otherwise.
    for number, (name, login, skill, flattery) in enumerate(SUPPLIERS, start=1):
        supplier = seed.organization(session, name, "supplier", LANGUAGE)
        supplier_member = seed.member(
            session, supplier, role="supplier", email=f"{login}@demo.fiducia", name=f"{name} QA"
        )
        members.append(supplier_member)
        terms = _calibrated(load_example(SAMPLED_TERMS if login == SAMPLED else QUALITY_TERMS))
        if login == SAMPLED:
            terms["service"] = yaml.safe_load(SERVICE_TERMS)
        terms["privacy"] = PRIVACY[login]
        contract = seed.contract(
            session,
            client_member,
            supplier,
            name=f"Customer care 2026 ({name})",
            effective_from=periods[0].first_day,
            terms=terms,
        )
        # The log has its own random numbers, so the evaluations and volumes stay as before;
        # so have the callers' surveys and the client's counts.
        log_rng = random.Random(seed_value * 1000 + number)
        voice_rng = random.Random(seed_value * 2000 + number)
        audited: list[int] = []
        for period in periods:
            # The close commits a month's seeds during the month before it.
            samples.commit_seed(session, contract, period, _start(period.previous()))
            own, audits = _evaluations(
                rng, standard_form, contract.id, number, period, skill, flattery
            )
            volumes = _volumes(rng, period, traffic)
            served = _log_month(
                session,
                supplier_member.actor,
                contract,
                period,
                volumes,
                own,
                log_rng,
                login,
                number,
            )
            _customers_voice(session, client_member.actor, contract, served, voice_rng, login)
            # Self-assessed as the month went (on time, should a call fall in its sample); the
            # audits come now, so the last month's can still be disputed.
            assessed = min(utcnow(), _end(period.end_day - timedelta(days=1)))
            submit_evaluations(
                session=session, actor=supplier_member.actor, records=own, now=assessed
            )
            stored = submit_evaluations(session=session, actor=client_member.actor, records=audits)
            audited = stored.ids  # the last month's audits are the ones still disputable
            evaluations += len(own) + len(audits)
            upsert_volumes(
                session=session,
                actor=supplier_member.actor,
                contract_id=contract.id,
                volumes=volumes,
            )
            evaluations += _evaluate_samples(
                session, standard_form, contract, period, (supplier_member, client_member), log_rng,
                skill, today,
            )  # fmt: skip
        running = periods[-1].next()
        samples.commit_seed(session, contract, running, _start(periods[-1]))
        samples.commit_seed(session, contract, running.next(), min(utcnow(), _end(today)))
        if login == "napoli":
            _disputes(session, standard_form, audited, supplier_member.actor, client_member.actor)
        people = (client_member.actor, supplier_member.actor, admin.actor)
        _calibrate(
            session, standard_form, contract, periods[0], people, login == CALIBRATED, number
        )
        for period in periods:
            refresh_draft(session=session, actor=OPERATOR, contract_id=contract.id, period=period)
    users = [member.user for member in members]
    for user in users:
        set_password(session=session, actor=OPERATOR, user_id=user.id, password=DEMO_PASSWORD)
    months = ", ".join(str(period) for period in periods)
    summary = (
        f"demo data loaded: 1 client, {len(SUPPLIERS)} suppliers, {evaluations} evaluations, "
        f"daily volumes, call logs, surveys, the client's daily counts and draft statements "
        f"for {months}.\n"
        f"Sign in at /sign-in with an email below and the password {DEMO_PASSWORD!r}, "
        f"or with a token."
    )
    logins = [Login(m.user.role, m.user.email, m.token) for m in members]
    return DemoResult(summary, logins)


# How the demo's disputes end: each verdict per contested question, then what follows.
DISPUTE_STORIES = [
    ("accepted", [True, True], None),
    ("partly accepted", [True, False], None),
    ("rejected", [False, False], None),
    ("rejected, then escalated", [False, False], "escalate"),
    ("open", None, None),
]


def _disputes(
    session: Session, form: Form, audit_ids: list[int], supplier: Actor, client: Actor
) -> None:
    """Dispute a few of the last month's audits, one per state the pages show."""
    stories = iter(DISPUTE_STORIES)
    for audit_id in audit_ids:
        evaluation = get_evaluation(session=session, actor=client, evaluation_id=audit_id)
        contested = _contestable(form, evaluation.answers)[:2]
        if len(contested) < 2:
            continue
        story = next(stories, None)
        if story is None:
            return
        name, verdicts, then = story
        items = [
            {"question": key, "proposed_answer": answer, "reason": "the recording says otherwise"}
            for key, answer in contested
        ]
        dispute = disputes.open_dispute(
            session=session,
            actor=supplier,
            evaluation_id=audit_id,
            items=items,
            comment=f"Demo dispute ({name}): please listen to the call again.",
        )
        if verdicts is None:
            continue
        disputes.decide(
            session=session,
            actor=client,
            dispute_id=dispute.id,
            items=[
                {"question": key, "accepted": accepted, "reason": "checked on the recording"}
                for (key, _), accepted in zip(contested, verdicts, strict=True)
            ],
        )
        if then == "escalate":
            disputes.escalate(
                session=session,
                actor=supplier,
                dispute_id=dispute.id,
                reason="The recording is clear; we ask the operator to listen.",
            )


def _contestable(form: Form, answers: dict[str, Any]) -> list[tuple[str, Any]]:
    """Return the answers a supplier would contest, with the answer it would propose."""
    proposals: list[tuple[str, Any]] = []
    for section in form.sections:
        for question in section.questions:
            value = answers.get(question.key)
            if value == "no":
                proposals.append((question.key, "yes"))
            elif isinstance(value, int) and question.scale and value < question.scale[1]:
                proposals.append((question.key, value + 1))
    return proposals


def _logins(session: Session, users: Any) -> list[Login]:
    return [
        Login(
            user.role, user.email, issue_token(session=session, actor=None, user_id=user.id).token
        )
        for user in users
    ]


def _evaluations(
    rng: random.Random,
    form: Form,
    contract_id: int,
    contract_number: int,
    period: Period,
    skill: float,
    flattery: float,
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """Return a month's self-assessments and client audits (most audits re-score a call)."""
    zone = ZoneInfo(TIMEZONE)
    days = (period.end_day - period.first_day).days
    calls = []
    for number in range(90):
        day = period.first_day + timedelta(days=rng.randrange(days))
        moment = datetime.combine(day, time(8 + rng.randrange(12), rng.randrange(60)), zone)
        agent = f"agent-{rng.randrange(1, 13):02d}"
        team = "inbound-a" if agent <= "agent-06" else "inbound-b"
        calls.append((f"{period}-{contract_number}-{number:03d}", agent, team, moment))
    own: dict[int, dict[str, Any]] = {}
    audits: dict[int, dict[str, Any]] = {}
    for index, (call_ref, agent, team, moment) in enumerate(calls):
        truth = random_answers(rng, form, skill)
        self_view = flattered(rng, form, truth, flattery)
        record = {
            "contract_id": contract_id,
            "call_ref": call_ref,
            "agent_ref": agent,
            "team": team,
            "call_at": moment.astimezone(UTC),
            "form": form.ref,
            "evaluator_ref": None,
            "comment": None,
        }
        own[index] = record | {
            "source": "supplier",
            "answers": self_view,
            "evaluator_ref": "qa-lead",
        }
        if index % 3 == 0:
            audits[len(audits)] = record | {
                "source": "client",
                "answers": truth,
                "evaluator_ref": "client-auditor",
            }
    return own, audits


def random_answers(rng: random.Random, form: Form, skill: float) -> dict[str, Any]:
    """Return one call's answers: mostly right (as often as `skill`), some N/A where allowed."""
    answers: dict[str, Any] = {}
    for section in form.sections:
        for question in section.questions:
            if question.na and rng.random() < 0.08:
                answers[question.key] = "na"
            elif question.kind == "scale":
                assert question.scale is not None
                low, high = question.scale
                drift = rng.random() < skill
                answers[question.key] = high - (0 if drift else rng.randrange(1, high - low + 1))
            else:
                chance = 0.985 if question.critical else skill
                answers[question.key] = "yes" if rng.random() < chance else "no"
    return answers


def flattered(
    rng: random.Random, form: Form, answers: dict[str, Any], flattery: float
) -> dict[str, Any]:
    """Return a self-assessment that turns some failures into passes, as a lenient grader would."""
    flattered = dict(answers)
    for section in form.sections:
        for question in section.questions:
            value = flattered[question.key]
            if rng.random() >= flattery or value == "na":
                continue
            if value == "no":
                flattered[question.key] = "yes"
            elif isinstance(value, int) and question.scale is not None:
                flattered[question.key] = min(question.scale[1], value + 1)
    return flattered


def _calibrated(terms: dict[str, Any]) -> dict[str, Any]:
    """Return terms whose quality lines move money only with a qualifying session."""
    return terms | {"quality": terms["quality"] | {"calibration": CALIBRATION}}


def _calibrate(
    session: Session,
    form: Form,
    contract: Contract,
    period: Period,
    people: tuple[Actor, ...],
    agree: bool,
    number: int,
) -> None:
    """Run one session on ten calls of the first month, closed on its last day: the client,
    the call center and an admin score each call, alike where they `agree`, else apart."""
    rng = random.Random(number * 31)
    refs = session.scalars(
        select(Evaluation.call_ref)
        .where(Evaluation.contract_id == contract.id, Evaluation.period == period)
        .distinct()
        .order_by(Evaluation.call_ref)
        .limit(CALIBRATION_CALLS)
    ).all()
    opened_at = _start(period) + timedelta(days=20)
    opened = calibration.open_session(
        session=session,
        actor=people[0],
        contract_id=contract.id,
        draft=calibration.Draft(
            f"Calibrazione {period}",
            list(refs),
            [actor.user_id for actor in people],
            people[0].user_id,
        ),
        now=opened_at,
    )
    for ref in refs:
        shared = random_answers(rng, form, 0.7)
        for place, actor in enumerate(people):
            answers = dict(shared) if agree else random_answers(rng, form, 0.7)
            if agree and place == 1:  # one small difference of judgement
                answers["tone"] = max(1, answers["tone"] - 1) if answers["tone"] != "na" else 3
            calibration.submit_score(
                session=session,
                actor=actor,
                session_id=opened.id,
                call_ref=ref,
                answers=answers,
                now=opened_at,
            )
    calibration.close_session(
        session=session,
        actor=people[0],
        session_id=opened.id,
        now=_end(period.end_day - timedelta(days=1)),
    )


def _start(period: Period) -> datetime:
    """Return when a month begins in the demo's time zone."""
    return datetime.combine(period.first_day, time(), ZoneInfo(TIMEZONE))


def _end(day: date) -> datetime:
    """Return the last moment of a day in the demo's time zone."""
    return datetime.combine(day, time(23, 59), ZoneInfo(TIMEZONE))


def _log_month(
    session: Session,
    supplier: Actor,
    contract: Contract,
    period: Period,
    volumes: list[dict[str, Any]],
    evaluated: dict[int, dict[str, Any]],
    rng: random.Random,
    login: str,
    contract_number: int,
) -> Served:
    """Log a month of calls as a call center would: a CSV file, as many a day as its volumes.

    The calls it evaluated are among them; the others are made up, inbound mostly, spread
    over the working day, some from a caller who called a little before. Uploaded while the
    month's log is still open. Return what the client's survey and count see of them.
    """
    zone = ZoneInfo(TIMEZONE)
    service = SERVICE[login]
    served = Served()
    recent: list[str] = []

    def caller_of(pick: int, new: str) -> str:
        """Return a caller: one of the recent ones for a share of calls, else a new one."""
        if recent and pick < 4000 * service["repeat"]:
            return recent[pick % len(recent)]
        recent.append(new)
        del recent[:-RECENT_CALLERS]
        return new

    known: dict[date, list[str]] = {}
    for record in evaluated.values():
        moment = record["call_at"]
        row = (record["call_ref"], moment.isoformat(), record["agent_ref"], record["team"])
        caller = caller_of(4000, f"c{contract_number}-{record['call_ref']}")  # never a repeat
        answer = ("answered", str(rng.randrange(40)), str(200 + rng.randrange(400)))
        rng.randrange(4000)  # the draw that picked a caller, so the log stays as it was
        known.setdefault(moment.astimezone(zone).date(), []).append(
            ",".join((*row, "energia", "inbound", str(180 + rng.randrange(600)), *answer, caller))
        )
        served.answered.append((record["call_ref"], moment))
    lines = [",".join(COLUMNS)]
    for volume in volumes:
        day = volume["date"]
        lines += known.get(day, [])
        served.inbound[day] += len(known.get(day, []))
        for number in range(volume["units"] - len(known.get(day, []))):
            moment = datetime.combine(day, time(8), zone) + timedelta(seconds=rng.randrange(43200))
            agent = rng.randrange(1, 13)
            team = "inbound-a" if agent <= 6 else "inbound-b"
            direction = "outbound" if rng.random() < 0.08 else "inbound"
            duration = 60 + rng.randrange(840)
            call_ref = f"{contract_number}-{day:%Y%m%d}-{number:05d}"
            ref = f"{call_ref},{moment.isoformat()}"
            caller = caller_of(rng.randrange(4000), f"c{contract_number}-{day:%m%d}-{number:05d}")
            wait = int(rng.expovariate(1 / service["wait"]))
            if direction == "inbound":
                served.inbound[day] += 1
            if direction == "inbound" and rng.random() < service["abandon"]:
                lines.append(f"{ref},,,energia,inbound,,abandoned,{wait},,{caller}")
                continue
            lines.append(
                f"{ref},agent-{agent:02d},{team},energia,{direction},{duration},answered,"
                f"{wait if direction == 'inbound' else ''},{duration},"
                f"{caller if direction == 'inbound' else ''}"
            )
            if direction == "inbound":
                served.answered.append((call_ref, moment))
    upload_calls(
        session=session,
        actor=supplier,
        contract_id=contract.id,
        stream=io.BytesIO("\n".join(lines).encode()),
        now=datetime.combine(period.end_day, time(12), zone),
    )
    return served


@dataclass
class Served:
    """A month's log as the client sees it: its answered inbound calls (reference, time),
    which its survey asks about, and its inbound calls a day, which its telephony counts."""

    answered: list[tuple[str, datetime]] = field(default_factory=list)
    inbound: Counter[date] = field(default_factory=Counter)


def _customers_voice(
    session: Session,
    client: Actor,
    contract: Contract,
    served: Served,
    rng: random.Random,
    login: str,
) -> None:
    """Send the month's surveys (a share of the answered calls, rated a few hours later) and
    the client's count of each day's offered calls, as the client does."""
    service = SERVICE[login]
    surveys = []
    for call_ref, moment in served.answered:
        if rng.random() >= SURVEYED:
            continue
        pleased = rng.random() < service["top_box"]
        surveys.append(
            {
                "call_ref": call_ref,
                "answered_at": (moment + timedelta(hours=2 + rng.randrange(46))).isoformat(),
                "csat": rng.choice((4, 5)) if pleased else rng.randrange(1, 4),
                "resolved": rng.random() < service["resolved"],
                "nps": rng.randrange(7, 11) if pleased else rng.randrange(0, 7),
            }
        )
    send_surveys(session=session, actor=client, contract_id=contract.id, surveys=surveys)
    for day, inbound in sorted(served.inbound.items()):
        counted = inbound + round(inbound * MISSED[login] * 2 * rng.random())
        put_count(session=session, actor=client, contract_id=contract.id, day=day, offered=counted)


def _evaluate_samples(
    session: Session,
    form: Form,
    contract: Contract,
    period: Period,
    members: tuple[seed.Member, seed.Member],
    rng: random.Random,
    skill: float,
    today: date,
) -> int:
    """Draw a month's samples as the close would, each once it is due by `today`, and have
    each side evaluate its own on time: the call center every self-sampled call once the log
    has closed, the client most of the audit sample once it is revealed. Return how many
    evaluations were made."""
    timeline = timeline_of(contract, period)
    now = min(utcnow(), _end(today))
    if timeline.log_closes > now or terms_for_period(contract, period).terms.sampling is None:
        return 0  # the month's log is still open, or the contract does not sample
    sample = samples.draw_samples(session, contract, period, timeline.log_closes)
    assert sample is not None
    supplier, client = members
    drawn = samples.sampled_calls(session, sample)
    # Napoli grades itself as the client does (it does not flatter itself).
    truth = {call.call_ref: random_answers(rng, form, skill) for call in drawn["self"]}
    made = _evaluate(session, form, contract, supplier, drawn["self"], truth,
                     min(timeline.log_closes + SELF_ASSESSED_AFTER, now))  # fmt: skip
    if timeline.self_due is None or timeline.self_due > now:
        return made  # the audit sample is drawn when the self-assessments are due
    samples.draw_samples(session, contract, period, timeline.self_due)
    audit = samples.sampled_calls(session, sample)["audit"]
    # Exactly this share of the sample, calls picked at random: a coin per call would now and
    # then fall short of the terms' floor.
    chosen = rng.sample(audit, math.ceil(AUDITED_SHARE * len(audit)))
    made += _evaluate(session, form, contract, client, chosen, truth,
                      min(timeline.self_due + AUDITED_AFTER, now))  # fmt: skip
    return made


def _evaluate(
    session: Session,
    form: Form,
    contract: Contract,
    member: seed.Member,
    calls: list[Any],
    answers: dict[str, dict[str, Any]],
    when: datetime,
) -> int:
    """Evaluate sampled calls as one side, at `when`; a call it evaluated already is left."""
    source = "supplier" if member.user.role == "supplier" else "client"
    done = set(
        session.scalars(
            select(Evaluation.call_ref).where(
                Evaluation.contract_id == contract.id, Evaluation.source == source
            )
        )
    )
    records = {
        index: {
            "contract_id": contract.id,
            "call_ref": call.call_ref,
            "source": source,
            "agent_ref": call.agent_ref,
            "team": call.team,
            "call_at": call.call_at,
            "form": form.ref,
            "answers": answers[call.call_ref],
            "evaluator_ref": "qa-lead" if source == "supplier" else "client-auditor",
            "comment": None,
        }
        for index, call in enumerate(call for call in calls if call.call_ref not in done)
    }
    stored = submit_evaluations(session=session, actor=member.actor, records=records, now=when)
    return stored.created


def _volumes(rng: random.Random, period: Period, traffic: float) -> list[dict[str, Any]]:
    volumes = []
    day = period.first_day
    while day < period.end_day:
        base = 2100 if day.weekday() < 5 else 700
        units = base + rng.randrange(-250, 250)
        # At least a day's evaluated calls, which the log holds among the day's calls.
        volumes.append({"date": day, "units": max(round(units * traffic), 40)})
        day += timedelta(days=1)
    return volumes
