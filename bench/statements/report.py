"""What the statements benchmark prints: the generation, the measurement and the summary block."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from sqlalchemy.engine import make_url

from bench.statements.load import Built
from bench.statements.measure import OTHER_BENCH, Measured
from contracts.periods import Period

TARGET_SECONDS = 2.0


TARGET_RATIO = 3.0


def summary(measured: Measured) -> list[str]:
    """Return the summary block."""
    statements = statistics.median(measured.statement_runs)
    bare = statistics.median(measured.bare_runs)
    ratio = statements / bare
    met = statements < TARGET_SECONDS and ratio < TARGET_RATIO
    return [
        f"statements: {measured.contracts} contracts, {measured.period}, "
        f"{measured.evaluations} evaluations in all: median {statements:.2f} s "
        f"({len(measured.statement_runs)} runs)",
        f"bare GROUP BY of the same figures: median {bare:.2f} s",
        f"ratio: {ratio:.2f}x",
        f"peak memory: RSS {measured.rss_peak_mb:.0f} MB; Python allocations during the month "
        f"{measured.traced_peak_mb:.1f} MB",
        f"target (< {TARGET_SECONDS:g} s and < {TARGET_RATIO:g}x the bare GROUP BY): "
        + ("met" if met else "missed"),
    ]


def generating(evaluations: int, contracts: int, months: Sequence[Period], url: str) -> str:
    """Say what is about to be generated, and where."""
    return (
        f"generating: {evaluations} evaluations over {contracts} contracts and "
        f"{months[0]}..{months[-1]} in {make_url(url).database}"
    )


def generated(built: Built) -> str:
    """Say how long each step of the (unmeasured) generation took."""
    return (
        f"generated (not measured): setup {built.setup_seconds:.1f} s, rows "
        f"{built.generate_seconds:.1f} s, COPY of {built.evaluations} evaluations and "
        f"{built.volume_days} contract-days {built.copy_seconds:.1f} s, VACUUM ANALYZE "
        f"{built.analyze_seconds:.1f} s"
    )


def measured(found: Measured) -> str:
    """Say what each run took, and that the drafts were checked."""
    runs = ", ".join(f"{seconds:.3f}" for seconds in found.statement_runs)
    bare = ", ".join(f"{seconds:.3f}" for seconds in found.bare_runs)
    waited = f" after waiting {found.waited_seconds:.0f} s" if found.waited_seconds else ""
    return (
        f"measured{waited}: {found.month_evaluations} evaluations in {found.period}; "
        f"statements runs {runs} s; bare GROUP BY runs {bare} s; RSS peak before the first "
        f"statement run {found.rss_before_mb:.0f} MB\n"
        "check: every draft's n and pairs equal the month's calls and audits"
    )


def notes(found: Measured, custom_plans: bool) -> list[str]:
    """Return the notes on what may have disturbed the figures."""
    said = []
    if found.still_busy:
        said.append(f"note: {OTHER_BENCH} ran during the measurement; the timings are disturbed")
    if custom_plans:
        said.append(
            "note: --custom-plans: plan_cache_mode=force_custom_plan, not the shipped service"
        )
    return said
