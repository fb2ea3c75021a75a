"""The write load of the scorecards benchmark: while wrk reads, a writer posts a batch of 100
client audits of the month read to a random contract every second, through the API, so every
second one contract's stored figures go stale and the next read computes them again."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import requests

from bench.common import BenchError
from contracts import forms as form_rules
from contracts.examples import QUALITY_TERMS, STANDARD_FORM, load_example
from contracts.periods import Period
from service.demo.data import random_answers

BATCH = 100
EVERY_SECONDS = 1.0


@dataclass
class Writes:
    """What the writer did while the readers were measured."""

    batches: int = 0
    evaluations: int = 0
    refused: list[str] = field(default_factory=list)


def batch(rng: random.Random, form: form_rules.Form, contract_id: int, period: Period) -> list:
    """Return a batch of client audits of new calls of the month, for one contract."""
    zone = ZoneInfo(load_example(QUALITY_TERMS)["timezone"])
    days = (period.end_day - period.first_day).days
    records = []
    for _ in range(BATCH):
        day = period.first_day + timedelta(days=rng.randrange(days))
        moment = datetime.combine(day, clock(9 + rng.randrange(9), rng.randrange(60)), zone)
        records.append(
            {
                "contract_id": contract_id,
                "call_ref": f"bench-write-{uuid.uuid4().hex[:16]}",
                "source": "client",
                "agent_ref": f"agent-{rng.randrange(40):02d}",
                "team": None,
                "call_at": moment.isoformat(),
                "form": "standard@1",
                "answers": random_answers(rng, form, 0.85),
                "evaluator_ref": "bench-writer",
                "comment": None,
            }
        )
    return records


@contextmanager
def writing(
    base: str, token: str, period: Period, contract_ids: Sequence[int], seed: int = 7
) -> Iterator[Writes]:
    """Post a batch every second on a thread of its own until the block ends."""
    rng = random.Random(seed)
    form = form_rules.parse_form(load_example(STANDARD_FORM))
    writes = Writes()
    stop = threading.Event()

    def post() -> None:
        with requests.Session() as http:
            while not stop.wait(EVERY_SECONDS):
                records = batch(rng, form, rng.choice(list(contract_ids)), period)
                response = http.post(
                    f"{base}/api/v1/evaluations/batch",
                    json={"evaluations": records},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=60,
                )
                if response.status_code != 201:
                    writes.refused.append(f"{response.status_code}: {response.text[:300]}")
                    return
                writes.batches += 1
                writes.evaluations += len(records)

    thread = threading.Thread(target=post, name="bench-writer", daemon=True)
    thread.start()
    try:
        yield writes
    finally:
        stop.set()
        thread.join(timeout=120)
    if writes.refused:
        raise BenchError(f"the writer's batch was refused: {writes.refused[0]}")
