"""A month of calls as a CSV file, written as it is made (no database, little memory)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from contracts.periods import Period
from service.calls.rows import COLUMNS


def write_month(path: Path, period: Period, count: int, agents: int, seed: int) -> int:
    """Write `count` calls of a month spread over `agents` agents; return the file's bytes."""
    rng = random.Random(seed)
    start = datetime.fromisoformat(f"{period.first_day}T00:00:00+01:00")
    seconds = int(
        (datetime.fromisoformat(f"{period.end_day}T00:00:00+01:00") - start).total_seconds()
    )
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(COLUMNS) + "\n")
        for number in range(count):
            moment = start + timedelta(seconds=rng.randrange(seconds))
            agent = rng.randrange(agents)
            direction = "outbound" if rng.random() < 0.1 else "inbound"
            # The service-level columns filled (DESIGN 16): outcome, wait, handling, caller.
            wait, caller = rng.randrange(120), f"c-{rng.randrange(50_000):05x}"
            out.write(
                f"CALL-{number:09d},{moment.isoformat()},agent-{agent:04d},"
                f"team-{agent % 20:02d},billing,{direction},{30 + rng.randrange(900)},"
                f"answered,{wait},{30 + rng.randrange(900)},{caller}\n"
            )
    return path.stat().st_size
