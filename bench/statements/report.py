"""What the statements benchmark prints: the generation, the SQL, the plans and the figures."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.record import Figure, Target, last_value
from bench.statements.load import Built
from bench.statements.measure import Measured, Month
from contracts.periods import Period

RSS_FIGURE = "peak RSS of the benchmark process"
FLAT = 1.2  # peak RSS at 10M within 1.2x of that at 1M counts as flat


@dataclass(frozen=True, slots=True)
class Scale:
    """A named size of the data and the targets that hold at it (issue 22)."""

    name: str
    evaluations: int
    contracts: int
    months: int
    ratio: float  # the close at most this many times the bare GROUP BY
    seconds: float | None = None  # and under this many seconds
    flat_against: str | None = None  # peak RSS flat against this scale's last saved run


RSS_CEILING_MB = 250  # the close's peak RSS, at any scale

SCALES = {
    "1m": Scale("1m", 1_000_000, 50, 12, ratio=2.0),
    "10m": Scale("10m", 10_000_000, 500, 12, ratio=2.5, seconds=4.0, flat_against="1m"),
}


def scale_of(month: Month, check: bool) -> str:
    """Name the data's scale for the CSV: a scale's name, `check`, or its evaluations and
    contracts (as counted in the database, so a kept database is named for what it holds)."""
    if check:
        return "check"
    for scale in SCALES.values():
        if (month.evaluations, month.contracts) == (scale.evaluations, scale.contracts):
            return scale.name
    return f"{month.evaluations}/{month.contracts}"


def figures(found: Measured, scale: Scale, saved: Path) -> tuple[list[Figure], list[str]]:
    """Return the figures beside the scale's targets, and notes on any left out."""
    close = statistics.median(found.close_runs)
    bare = statistics.median(found.bare_runs)
    seconds = None if scale.seconds is None else Target("<", scale.seconds)
    said = [
        Figure("close of the month, median", close, "s", seconds, 3),
        Figure("bare GROUP BY of the same figures, median", bare, "s", None, 3),
        Figure("close / bare GROUP BY", close / bare, "x", Target("<=", scale.ratio)),
        Figure("SQL statements per close", found.captured.statements, "", None, 0),
        Figure(RSS_FIGURE, found.rss_peak_mb, "MB", Target("<", RSS_CEILING_MB), 0),
        Figure("Python allocations during one close, peak", found.traced_peak_mb, "MB", None, 1),
        found.load,
    ]
    notes = []
    if scale.flat_against is not None:
        before = last_value(saved, scale.flat_against, RSS_FIGURE)
        if before is None:
            notes.append(
                f"note: no {scale.flat_against} run saved in {saved}: run it first to judge "
                "whether peak RSS stays flat"
            )
        else:
            said.append(
                Figure(
                    f"peak RSS / peak RSS at {scale.flat_against}",
                    found.rss_peak_mb / before[0],
                    "x",
                    Target("<=", FLAT),
                )
            )
            notes.append(
                f"peak RSS at {scale.flat_against}: {before[0]:.0f} MB, from the run of {before[1]}"
            )
    return said, notes


def generating(evaluations: int, contracts: int, months: Sequence[Period], url: str) -> str:
    """Say what is about to be generated, and where."""
    return (
        f"generating: {evaluations:,} evaluations over {contracts} contracts and "
        f"{months[0]}..{months[-1]} in {make_url(url).database}"
    )


def generated(built: Built) -> str:
    """Say how long each step of the (unmeasured) generation took."""
    analyze = "VACUUM (ANALYZE)" if built.vacuumed else "ANALYZE"
    partitions = f"; made partitions {', '.join(built.partitions)}" if built.partitions else ""
    total = (
        built.setup_seconds + built.generate_seconds + built.copy_seconds + built.analyze_seconds
    )
    return (
        f"generated (not measured) in {total:.0f} s: setup {built.setup_seconds:.1f} s, rows "
        f"{built.generate_seconds:.1f} s, COPY of {built.evaluations:,} evaluations and "
        f"{built.volume_days:,} contract-days {built.copy_seconds:.1f} s, {analyze} "
        f"{built.analyze_seconds:.1f} s{partitions}"
    )


def measured(found: Measured) -> str:
    """Say what each run took, and that the drafts were checked."""
    close = ", ".join(f"{seconds:.3f}" for seconds in found.close_runs)
    bare = ", ".join(f"{seconds:.3f}" for seconds in found.bare_runs)
    waited = f" after waiting {found.waited_seconds:.0f} s" if found.waited_seconds else ""
    return (
        f"measured{waited}: {found.month.contracts} contracts, {found.month_evaluations:,} "
        f"evaluations in {found.month.period} of {found.month.evaluations:,} stored; close runs "
        f"{close} s; bare GROUP BY runs {bare} s; RSS peak before the first close "
        f"{found.rss_before_mb:.0f} MB\n"
        f"baseline plan: {found.baseline}\n"
        "check: every draft's n and pairs equal the month's counted calls and pairs"
    )


def sql(found: Measured) -> list[str]:
    """Return the SQL of one close run, per kind of statement, slowest first."""
    captured = found.captured
    close = statistics.median(found.close_runs)
    lines = [
        f"\nSQL of one close run: {captured.statements} statements, {captured.seconds:.3f} s "
        "from execute to result (per kind of statement; the median run took "
        f"{close:.3f} s):"
    ]
    for label, calls, seconds in captured.by_label():
        lines.append(f"  {seconds:7.3f} s {calls:5d}x  {label}")
    return lines


def plans(found: Measured) -> list[str]:
    """Return EXPLAIN (ANALYZE, BUFFERS) of each heavy statement, with what it scanned."""
    lines = [
        "\nEXPLAIN (ANALYZE, BUFFERS) of the heavy statements (those reading evaluations, or "
        "with 5% of the SQL time), each with the parameters of its slowest execution:"
    ]
    for explained in found.explained:
        lines.append(
            f"\n== {explained.label}: {explained.calls}x, {explained.seconds:.3f} s in the run"
        )
        lines.append(f"   scans: {explained.scanned}")
        lines += [f"   {line}" for line in explained.plan]
    return lines


def notes(found: Measured, check: bool) -> list[str]:
    """Return the notes on what may have disturbed the figures."""
    said = []
    if found.still_busy:
        said.append("note: another benchmark ran during the measurement; timings are disturbed")
    if check:
        said.append("note: --check: tiny data, no waiting; the figures and verdicts mean nothing")
    return said
