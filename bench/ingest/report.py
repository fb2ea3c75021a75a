"""What the ingest benchmark prints: each step's figures and the summary block."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Setting:
    """How the HTTP side ran."""

    count: int
    batch: int
    workers: int
    concurrency: int
    analyze_every: float


def ingested(setting: Setting, seconds: float) -> str:
    """Say how fast evaluations went in over HTTP."""
    analyze = f", ANALYZE every {setting.analyze_every:g} s" if setting.analyze_every > 0 else ""
    return (
        f"ingest: {setting.count} evaluations in {seconds:.1f} s over HTTP = "
        f"{setting.count / seconds:.0f}/s (gunicorn {setting.workers} workers, "
        f"{setting.concurrency} clients, batches of {setting.batch}{analyze})"
    )


def copied(count: int, seconds: float) -> str:
    """Say how fast the same rows went in by COPY."""
    return f"COPY:   {count} rows in {seconds:.1f} s = {count / seconds:.0f}/s"


def profiled(
    batches: int, batch: int, stored: int, total: float, phases: Sequence[tuple[str, float]]
) -> list[str]:
    """Return the server-side time per phase of the profiled batches."""
    lines = [
        f"\nprofile: {batches} batches of {batch} in process "
        f"(test client, cProfile, {stored} rows already stored), {total:.2f} s in Flask"
    ]
    lines += [
        f"  {label:<31} {seconds:7.3f} s  {100 * seconds / total:5.1f}%"
        for label, seconds in phases
        if seconds >= 0.0005
    ]
    return lines


def summary(api_line: str, copy_line: str, api_seconds: float, copy_seconds: float) -> str:
    """Return the summary block: both rates and their ratio."""
    return f"\n{api_line}\n{copy_line}\nratio:  API / COPY = {copy_seconds / api_seconds:.3f}"
