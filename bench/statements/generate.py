"""The statements benchmark's data, made without a database.

Graded answer sets, a month's evaluation rows for every contract, and daily volumes.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

from contracts import forms as form_rules
from contracts.periods import Period
from service.demo.data import flattered, random_answers

AGENTS = 40  # per contract, ten to a team


FLATTERY = (0.0, 0.3, 0.6)  # share of failures a supplier's self-assessment turns into passes


AUDIT_EVERY = 3  # the client re-grades every third call


COMMENTS = (None, None, None, None, None, "caller asked for a callback")


AMENDED = 0.02  # share of evaluations at a second revision (an amendment by their side)


RETRACTED = 0.01  # share retracted by their side: revision 2, counted nowhere


# What the service stores beside EVALUATION_COLUMNS (COPY order: these follow them).
REVISION_COLUMNS = ("revision", "revised_at", "retracted", "settled_questions")


@dataclass(frozen=True, slots=True)
class Graded:
    """One answer set as the service stores it: JSON answers, score, flags, section scores."""

    answers: str
    score: int | None
    passed: bool | None
    customer: bool
    business: bool
    compliance: bool
    sections: str


@dataclass(frozen=True, slots=True)
class World:
    """What the setup created: the ids the generated rows refer to."""

    form_id: int
    client_user_id: int
    contracts: tuple[tuple[int, int], ...]  # (contract id, its supplier user's id)


def closed_months(today: date, count: int) -> list[Period]:
    """Return the `count` months ending with the last full month before `today`, oldest first."""
    months = [Period.of(today).previous()]
    while len(months) < count:
        months.append(months[-1].previous())
    return months[::-1]


def grade(form: form_rules.Form, answers: dict[str, Any]) -> Graded:
    """Score an answer set once, keeping what the service stores of it."""
    score = form_rules.score_evaluation(form, answers)
    categories = set(score.critical_errors)
    sections = {
        key: None if value is None else f"{value:.2f}"
        for key, value in score.section_scores.items()
    }
    return Graded(
        answers=json.dumps(answers),
        score=None if score.score is None else int(score.score * 100),
        passed=score.passed,
        customer="customer" in categories,
        business="business" in categories,
        compliance="compliance" in categories,
        sections=json.dumps(sections),
    )


def answer_pool(rng: random.Random, form: form_rules.Form, size: int) -> list[tuple[Graded, ...]]:
    """Return `size` calls graded truly and at each flattery level, skill rising with the index."""
    # A contract draws from its own window of the pool, so each has its own level of quality.
    pool = []
    for index in range(size):
        truth = random_answers(rng, form, 0.70 + 0.28 * index / max(1, size - 1))
        graded = grade(form, truth)
        pool.append(
            tuple(
                graded if level == 0 else grade(form, flattered(rng, form, truth, level))
                for level in FLATTERY
            )
        )
    return pool


def cell_counts(total: int, cells: int) -> list[int]:
    """Spread `total` over `cells` as evenly as integers allow."""
    base, extra = divmod(total, cells)
    return [base + (cell < extra) for cell in range(cells)]


def month_rows(
    rng: random.Random,
    world: World,
    pool: Sequence[tuple[Graded, ...]],
    period: Period,
    counts: Sequence[int],
    zone: ZoneInfo,
    created_at: datetime,
) -> list[tuple[Any, ...]]:
    """Return a month's evaluation rows for every contract, in the order the calls happened."""
    # Contract i gets counts[i] rows: a self-assessment per call and a client audit (same
    # call_ref) of every third call; calls fall between 08:00 and 20:00 local time.
    days = (period.end_day - period.first_day).days
    # Noon, as UTC, of each day; 08:00-20:00 stays clear of the 02:00-03:00 DST changes.
    noons = [
        datetime.combine(period.first_day + timedelta(days=day), clock(12), zone).astimezone(UTC)
        for day in range(days)
    ]
    window = len(pool) // 2
    rows: list[tuple[Any, ...]] = []
    for position, ((contract_id, supplier_user_id), count) in enumerate(
        zip(world.contracts, counts, strict=True)
    ):
        start = position * window // max(1, len(world.contracts) - 1)
        level = position % len(FLATTERY)
        made = call = 0
        while made < count:
            variants = pool[start + rng.randrange(window)]
            call_at = noons[rng.randrange(days)] + timedelta(
                seconds=rng.randrange(-4 * 3600, 8 * 3600)
            )
            agent = rng.randrange(AGENTS)
            call_ref = f"{period}-{contract_id}-{call:05d}"
            # 08:00-20:00 local: the call is always of the month generated.
            shared = (f"agent-{agent + 1:02d}", f"team-{agent // 10 + 1}", call_at, str(period))
            for source, graded, evaluator, user_id in (
                ("supplier", variants[level], f"qa-{agent % 4 + 1}", supplier_user_id),
                ("client", variants[0], "client-auditor", world.client_user_id),
            ):
                rows.append(
                    (
                        contract_id,
                        call_ref,
                        source,
                        *shared,
                        world.form_id,
                        graded.answers,
                        evaluator,
                        rng.choice(COMMENTS),
                        graded.score,
                        graded.passed,
                        graded.customer,
                        graded.business,
                        graded.compliance,
                        graded.sections,
                        hashlib.sha256(f"{call_ref}{source}".encode()).hexdigest(),
                        created_at,
                        user_id,
                        *revised(rng, created_at),
                    )
                )
                made += 1
                if made == count or call % AUDIT_EVERY != 0:
                    break
            call += 1
    rows.sort(key=lambda row: row[5])
    return rows


def revised(rng: random.Random, created_at: datetime) -> tuple[int, datetime, bool, str]:
    """Return an evaluation's revision, when it was made, whether it is retracted, and the
    questions a dispute settled: mostly the submission; a few amended or retracted a day on."""
    draw = rng.random()
    if draw >= AMENDED + RETRACTED:
        return 1, created_at, False, "[]"
    return 2, created_at + timedelta(days=1), draw < RETRACTED, "[]"


def volume_rows(
    rng: random.Random, world: World, months: Sequence[Period], user_ids: dict[int, int]
) -> list[tuple[int, date, int, int]]:
    """Return (contract_id, day, units, user id) for every contract-day of the months."""
    rows = []
    for contract_id, _ in world.contracts:
        day = months[0].first_day
        while day < months[-1].end_day:
            base = 2100 if day.weekday() < 5 else 700
            rows.append((contract_id, day, base + rng.randrange(-250, 250), user_ids[contract_id]))
            day += timedelta(days=1)
    return rows
