"""Demo data: one client, two call centers, three closed months of evaluations and volumes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.forms import Form as RulesForm
from contracts.periods import Period
from service.accounts.models import Organization, User
from service.accounts.service import (
    create_organization,
    create_user,
    issue_token,
    set_password,
)
from service.agreements.service import create_contract
from service.auth import Actor
from service.evaluations.service import submit_evaluations
from service.forms.service import parsed_form, publish_form
from service.statements.service import refresh_draft
from service.volumes.service import upsert_volumes

CLIENT = "Demo Energia S.p.A."
# name, login, how often an agent gets a question right, how much the self-assessment flatters
SUPPLIERS = [
    ("Callmaster Napoli", "napoli", 0.93, 0.0),
    ("Voxline Torino", "torino", 0.84, 0.5),
]
TIMEZONE = "Europe/Rome"
# Demo users also sign in to the pages with their email and this password.
DEMO_PASSWORD = "fiducia-demo-2026"


@dataclass(frozen=True)
class Login:
    role: str
    email: str
    token: str


@dataclass(frozen=True)
class DemoResult:
    summary: str
    logins: list[Login]


def example(name: str) -> dict[str, Any]:
    """Return an example document shipped in contracts/examples."""
    text = resources.files("contracts").joinpath("examples", name).read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def demo_periods(today: date) -> list[Period]:
    """Return the three months before the current one, oldest first."""
    current = Period.of(today)
    return [
        current.previous().previous().previous(),
        current.previous().previous(),
        current.previous(),
    ]


def load_demo(session: Session, today: date | None = None, seed: int = 7) -> DemoResult:
    """Load the demo data once; later calls only issue fresh tokens to the demo users."""
    today = today or datetime.now(ZoneInfo(TIMEZONE)).date()
    client = session.scalar(select(Organization).where(Organization.name == CLIENT))
    if client is not None:
        users = session.scalars(select(User).where(User.email.like("%@demo.fiducia"))).all()
        return DemoResult("demo data already loaded; fresh tokens issued", _logins(session, users))

    root = Actor(user_id=0, role="admin", organization_id=None)
    client = create_organization(session=session, actor=root, name=CLIENT, kind="client")
    users = [
        create_user(
            session=session,
            actor=None,
            organization_id=None,
            name="Demo Admin",
            email="admin@demo.fiducia",
            role="admin",
        ),
        create_user(
            session=session,
            actor=None,
            organization_id=client.id,
            name="Chiara Conti",
            email="client@demo.fiducia",
            role="client",
        ),
        create_user(
            session=session,
            actor=None,
            organization_id=client.id,
            name="Franco Ferri",
            email="finance@demo.fiducia",
            role="finance",
        ),
    ]
    client_actor = _actor(users[1])
    form, _ = publish_form(
        session=session,
        actor=client_actor,
        document=example("standard-form.yaml"),
        organization_id=None,
    )
    rules_form = parsed_form(form)
    periods = demo_periods(today)
    rng = random.Random(seed)
    evaluations = 0
    for name, login, skill, flattery in SUPPLIERS:
        supplier = create_organization(session=session, actor=root, name=name, kind="supplier")
        supplier_user = create_user(
            session=session,
            actor=None,
            organization_id=supplier.id,
            name=f"{name} QA",
            email=f"{login}@demo.fiducia",
            role="supplier",
        )
        users.append(supplier_user)
        contract = create_contract(
            session=session,
            actor=client_actor,
            client_id=client.id,
            supplier_id=supplier.id,
            name=f"Customer care 2026 ({name})",
            effective_from=periods[0].first_day,
            terms=example("terms-quality.yaml"),
        )
        for period in periods:
            own, audits = _evaluations(rng, rules_form, contract.id, period, skill, flattery)
            submit_evaluations(session=session, actor=_actor(supplier_user), records=own)
            submit_evaluations(session=session, actor=client_actor, records=audits)
            evaluations += len(own) + len(audits)
            upsert_volumes(
                session=session,
                actor=_actor(supplier_user),
                contract_id=contract.id,
                volumes=_volumes(rng, period),
            )
        for period in periods:
            refresh_draft(session, contract, period)
    for user in users:
        set_password(session=session, actor=root, user_id=user.id, password=DEMO_PASSWORD)
    months = ", ".join(str(period) for period in periods)
    summary = (
        f"demo data loaded: 1 client, {len(SUPPLIERS)} suppliers, {evaluations} evaluations, "
        f"daily volumes and draft statements for {months}.\n"
        f"Sign in at /sign-in with an email below and the password {DEMO_PASSWORD!r}, "
        f"or with a token."
    )
    return DemoResult(summary, _logins(session, users))


def _actor(user: User) -> Actor:
    return Actor(user_id=user.id, role=user.role, organization_id=user.organization_id)


def _logins(session: Session, users: Any) -> list[Login]:
    return [
        Login(
            user.role, user.email, issue_token(session=session, actor=None, user_id=user.id).token
        )
        for user in users
    ]


def _evaluations(
    rng: random.Random,
    form: RulesForm,
    contract_id: int,
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
        calls.append((f"{period}-{contract_id}-{number:03d}", agent, team, moment))
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


def random_answers(rng: random.Random, form: RulesForm, skill: float) -> dict[str, Any]:
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
    rng: random.Random, form: RulesForm, answers: dict[str, Any], flattery: float
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


def _volumes(rng: random.Random, period: Period) -> list[dict[str, Any]]:
    volumes = []
    day = period.first_day
    while day < period.end_day:
        base = 2100 if day.weekday() < 5 else 700
        volumes.append({"date": day, "units": base + rng.randrange(-250, 250)})
        day += timedelta(days=1)
    return volumes
