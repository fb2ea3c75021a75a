"""A benchmark's figures: printed beside their targets, then appended to bench/results/*.csv.

Every benchmark saves the same columns, so runs can be compared across benchmarks and
commits: when it ran, on which commit, at which scale, each figure with its unit, its
target and whether the target was met.
"""

from __future__ import annotations

import csv
import operator
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.common import ROOT

RESULTS = ROOT / "bench" / "results"
COLUMNS = (
    "run_at",
    "benchmark",
    "scale",
    "commit",
    "figure",
    "value",
    "unit",
    "target",
    "verdict",
)
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class Target:
    """What a figure must be: `op` (one of COMPARE) and a bound, in the figure's unit."""

    op: str
    bound: float

    def met_by(self, value: float) -> bool:
        """Say whether a measured value meets the target."""
        return COMPARE[self.op](value, self.bound)

    def __str__(self) -> str:
        return f"{self.op} {self.bound:g}"


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure, with its target when it has one."""

    name: str
    value: float
    unit: str
    target: Target | None = None
    digits: int = 2

    @property
    def verdict(self) -> str:
        """Return `met` or `missed` against the target, or '' for a figure without one."""
        if self.target is None:
            return ""
        return "met" if self.target.met_by(self.value) else "missed"


def load_average() -> Figure:
    """Return the machine's load average over the last minute, to read the timings against.

    Above the number of cores, other processes competed with the measurement.
    """
    return Figure(f"load average, 1 min ({os.cpu_count()} cores)", os.getloadavg()[0], "")


def table(figures: Sequence[Figure]) -> list[str]:
    """Return the figures as aligned lines: name, measured value, target, verdict."""
    width = max([len(figure.name) for figure in figures] + [6])
    lines = [f"{'figure':<{width}}  {'measured':>14}  {'target':>12}  verdict"]
    for figure in figures:
        value = f"{figure.value:,.{figure.digits}f} {figure.unit}"
        target = "" if figure.target is None else f"{figure.target} {figure.unit}"
        lines.append(f"{figure.name:<{width}}  {value:>14}  {target:>12}  {figure.verdict}")
    return lines


def commit() -> str:
    """Return the checkout's short commit, marked `-dirty` when tracked files changed."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}-dirty" if changed else head


def save(benchmark: str, scale: str, figures: Sequence[Figure], directory: Path = RESULTS) -> Path:
    """Append the figures to `<directory>/<benchmark>.csv`; return the file's path.

    A file written with other columns (by an older benchmark) is moved aside first.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{benchmark}.csv"
    if path.exists() and path.read_text().split("\n", 1)[0] != ",".join(COLUMNS):
        aside = path.with_name(f"{benchmark}.before-{path.stat().st_mtime:.0f}.csv")
        path.rename(aside)
        print(f"note: {path.name} had other columns; moved to {aside.name}")
    new = not path.exists()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    revision = commit()
    with path.open("a", newline="") as out:
        writer = csv.writer(out)
        if new:
            writer.writerow(COLUMNS)
        for figure in figures:
            writer.writerow(
                [
                    stamp,
                    benchmark,
                    scale,
                    revision,
                    figure.name,
                    f"{figure.value:.{max(figure.digits, 3)}f}",
                    figure.unit,
                    "" if figure.target is None else str(figure.target),
                    figure.verdict,
                ]
            )
    return path


def last_value(path: Path, scale: str, figure: str) -> tuple[float, str] | None:
    """Return the latest saved value of a figure at a scale, and when it was measured."""
    if not path.exists():
        return None
    found = None
    with path.open(newline="") as saved:
        for row in csv.DictReader(saved):
            if row.get("scale") == scale and row.get("figure") == figure:
                found = (float(row["value"]), f"{row['run_at']} on {row['commit']}")
    return found
