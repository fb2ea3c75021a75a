"""The ingest benchmark's evaluations, made without a database: bodies and COPY rows."""

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
from service.demo.data import random_answers

FORM_REF = "standard@1"


ZONE = ZoneInfo("Europe/Rome")


AGENTS = 50


COMMENTS = (None, None, None, None, "caller asked for a callback", "escalated to second level")


@dataclass(frozen=True)
class World:
    """What the setup created: the database, the supplier's token and the ids rows refer to."""

    url: str
    token: str
    contract_id: int
    form_id: int
    supplier_user_id: int


@dataclass(frozen=True)
class Batch:
    """One pre-encoded request body and the number of evaluations in it."""

    body: bytes
    size: int


def make_records(
    rng: random.Random, form: form_rules.Form, contract_id: int, count: int, prefix: str
) -> list[dict[str, Any]]:
    """Return `count` JSON-ready supplier evaluations with unique call refs across 2026."""
    skills = [rng.uniform(0.7, 0.97) for _ in range(AGENTS)]
    records = []
    for index in range(count):
        agent = rng.randrange(AGENTS)
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
        moment = datetime.combine(
            day, clock(8 + rng.randrange(12), rng.randrange(60), rng.randrange(60)), ZONE
        )
        records.append(
            {
                "contract_id": contract_id,
                "call_ref": f"{prefix}-{index:07d}",
                "source": "supplier",
                "agent_ref": f"agent-{agent + 1:02d}",
                "team": f"team-{agent // 10 + 1}",
                "call_at": moment.isoformat(),
                "form": FORM_REF,
                "answers": random_answers(rng, form, skills[agent]),
                "evaluator_ref": f"qa-{rng.randrange(1, 9)}",
                "comment": rng.choice(COMMENTS),
            }
        )
    return records


def encode(records: Sequence[dict[str, Any]], batch: int) -> list[Batch]:
    """Encode the records into request bodies of `batch` evaluations each."""
    chunks = [records[start : start + batch] for start in range(0, len(records), batch)]
    return [Batch(json.dumps({"evaluations": chunk}).encode(), len(chunk)) for chunk in chunks]


def _month(call_at: datetime) -> str:
    """Return the contract's month of a call: the shipped terms count in Europe/Rome."""
    local = call_at.astimezone(ZoneInfo("Europe/Rome"))
    return f"{local.year:04d}-{local.month:02d}"


def stored_row(
    record: dict[str, Any], form: form_rules.Form, world: World, created_at: datetime
) -> tuple[Any, ...]:
    """Return the values the service stores for a record: EVALUATION_COLUMNS, REVISION_COLUMNS."""
    score = form_rules.score_evaluation(form, record["answers"])
    call_at = datetime.fromisoformat(record["call_at"]).astimezone(UTC)
    content = {
        "agent_ref": record["agent_ref"],
        "team": record["team"],
        "call_at": call_at.isoformat(),
        "form": record["form"],
        "answers": record["answers"],
        "evaluator_ref": record["evaluator_ref"],
        "comment": record["comment"],
    }
    digest = hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    categories = set(score.critical_errors)
    sections = {
        key: None if value is None else f"{value:.2f}"
        for key, value in score.section_scores.items()
    }
    return (
        record["contract_id"],
        record["call_ref"],
        record["source"],
        record["agent_ref"],
        record["team"],
        call_at,
        _month(call_at),
        world.form_id,
        json.dumps(record["answers"]),
        record["evaluator_ref"],
        record["comment"],
        None if score.score is None else int(score.score * 100),
        score.passed,
        "customer" in categories,
        "business" in categories,
        "compliance" in categories,
        json.dumps(sections),
        digest,
        created_at,
        world.supplier_user_id,
        # REVISION_COLUMNS: the submission is revision 1, as the service stores it.
        1,
        created_at,
        False,
        "[]",
    )
