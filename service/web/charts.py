"""A trend chart drawn as SVG on the server: the mean, its interval as a band, and the rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from flask_babel import gettext as _

from contracts.periods import Period
from contracts.stats import Figures
from service.language.formatting import month, number, short_month


class Scorecard(Protocol):
    """A month's figures, as a chart reads them (a scorecard is one)."""

    @property
    def period(self) -> Period: ...
    @property
    def figures(self) -> Figures: ...


WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 36, 16, 40


@dataclass
class Line:
    y: float
    label: str
    kind: str  # "pass" or "band"


@dataclass
class TrendChart:
    """Everything the template needs to draw the chart, in pixels."""

    width: int = WIDTH
    height: int = HEIGHT
    band: str = ""  # SVG path of the 95% interval, one polygon per run of months
    mean: list[str] = field(default_factory=list)  # polylines of the mean
    points: list[tuple[float, float, str]] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    empty: bool = True


def trend_chart(
    cards: Sequence[Scorecard], pass_mark: Decimal | None, band_edges: Sequence[Decimal]
) -> TrendChart:
    """Lay out a trend of monthly scorecards on a score axis that starts near the data."""
    chart = TrendChart()
    chart.empty = all(card.figures.mean is None for card in cards)
    low, high = _axis_floor(cards, pass_mark, band_edges), 100.0

    def x(index: int) -> float:
        span = max(len(cards) - 1, 1)
        return LEFT + (WIDTH - LEFT - RIGHT) * index / span

    def y(score: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (high - score) / (high - low)

    for tick in range(int(low), 101, 10):
        chart.y_ticks.append((y(tick), str(tick)))
    for index, card in enumerate(cards):
        chart.x_labels.append((x(index), short_month(card.period)))
    band_paths = [_plot_run(chart, run, x, y) for run in _runs(cards)]
    chart.band = " ".join(path for path in band_paths if path)
    if pass_mark is not None and low <= float(pass_mark) <= high:
        label = _("pass mark %(mark)s", mark=number(pass_mark))
        chart.lines.append(Line(y(float(pass_mark)), label, "pass"))
    for edge in band_edges:
        if low < float(edge) < high:
            chart.lines.append(Line(y(float(edge)), _("band %(edge)s+", edge=number(edge)), "band"))
    return chart


def _axis_floor(
    cards: Sequence[Scorecard], pass_mark: Decimal | None, band_edges: Sequence[Decimal]
) -> float:
    """Return the bottom of the score axis: ten below the lowest figure or line, in tens."""
    candidates = [float(card.figures.ci.low) for card in cards if card.figures.ci]
    candidates += [float(card.figures.mean) for card in cards if card.figures.mean is not None]
    candidates += [float(edge) for edge in band_edges]
    candidates += [float(pass_mark)] if pass_mark else []
    return max(0.0, (min(candidates, default=60.0) // 10) * 10 - 10)


def _runs(cards: Sequence[Scorecard]) -> list[list[tuple[int, Scorecard]]]:
    """Split the months into runs of consecutive months that have a mean."""
    runs: list[list[tuple[int, Scorecard]]] = [[]]
    for index, card in enumerate(cards):
        if card.figures.mean is None:
            runs.append([])
        else:
            runs[-1].append((index, card))
    return [run for run in runs if run]


def _plot_run(
    chart: TrendChart,
    run: list[tuple[int, Scorecard]],
    x: Callable[[int], float],
    y: Callable[[float], float],
) -> str:
    """Add a run's mean line and points to the chart; return its interval band's path."""
    chart.mean.append(" ".join(f"{x(i):.1f},{y(float(c.figures.mean or 0)):.1f}" for i, c in run))
    for i, c in run:
        label = _("%(month)s: mean %(mean)s", month=month(c.period), mean=number(c.figures.mean, 2))
        if c.figures.ci:
            label += ", " + _(
                "95%% interval %(low)s–%(high)s",
                low=number(c.figures.ci.low, 2),
                high=number(c.figures.ci.high, 2),
            )
        label += ", " + _("n %(count)s", count=number(c.figures.n))
        chart.points.append((x(i), y(float(c.figures.mean or 0)), label))
    intervals = [(i, c.figures.ci) for i, c in run if c.figures.ci is not None]
    if not intervals:
        return ""
    upper = [f"{x(i):.1f},{y(float(ci.high)):.1f}" for i, ci in intervals]
    lower = [f"{x(i):.1f},{y(float(ci.low)):.1f}" for i, ci in reversed(intervals)]
    return "M" + " L".join(upper + lower) + " Z"
