"""What the scorecards benchmark prints: the setup, the checks and the figures beside targets."""

from __future__ import annotations

from collections.abc import Mapping

from bench.record import Figure, Target
from bench.scorecards.measure import Loaded
from bench.statements.load import Built
from bench.statements.measure import Month

TARGET_CONNECTIONS = 8  # the targets hold with this many clients at once
# (median, p95) in ms: nothing written since the last read, and a batch written every second.
QUIET = (50.0, 150.0)
UNDER_WRITES = (150.0, 400.0)


def figures(loaded: Loaded, statements: Mapping[str, int]) -> list[Figure]:
    """Return each endpoint's latency at each level; targets at 8 connections."""
    said = []
    for endpoint, latency in loaded.runs:
        judged = latency.connections == TARGET_CONNECTIONS
        median, p95 = UNDER_WRITES if endpoint.name.endswith("under writes") else QUIET
        name = f"{endpoint.name}, {latency.connections} conn."
        said += [
            Figure(
                f"{name}, median", latency.p50, "ms", Target("<", median) if judged else None, 0
            ),
            Figure(f"{name}, p95", latency.p95, "ms", Target("<", p95) if judged else None, 0),
            Figure(f"{name}, requests/s", latency.rate, "/s", None, 1),
        ]
    said += [
        Figure(f"{name}: SQL statements per request", count, "", None, 0)
        for name, count in statements.items()
    ]
    return [*said, loaded.load]


def built(found: Built) -> str:
    """Say what was generated and how long it took (not measured)."""
    total = found.setup_seconds + found.generate_seconds + found.copy_seconds
    return (
        f"generated (not measured): {found.evaluations:,} evaluations over "
        f"{len(found.world.contracts)} contracts in {total + found.analyze_seconds:.0f} s "
        f"(COPY {found.copy_seconds:.0f} s, ANALYZE {found.analyze_seconds:.0f} s)"
    )


def prepared(month: Month, workers: int, base: str) -> str:
    """Say what is served and for which month."""
    return (
        f"serving: {base}, gunicorn {workers} workers; {month.contracts} contracts, "
        f"{month.evaluations:,} evaluations, month {month.period} closed (drafts made)"
    )


def notes(loaded: Loaded, check: bool) -> list[str]:
    """Return the notes on what may have disturbed the figures."""
    said = []
    if loaded.waited_seconds:
        said.append(f"note: waited {loaded.waited_seconds:.0f} s for another benchmark to end")
    if loaded.still_busy:
        said.append("note: another benchmark ran during the load; timings are disturbed")
    if check:
        said.append("note: --check: tiny data, 1 s of load, no waiting; the figures mean nothing")
    return said
