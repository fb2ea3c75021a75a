"""A trend chart drawn as SVG on the server: the mean, its interval as a band, and the rules."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from flask_babel import gettext as _

from contracts.periods import Period
from contracts.service_levels import KpiRule, ServiceFigures
from contracts.stats import Figures
from service.language.formatting import month, number, percent, short_month


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


# Service levels (DESIGN 16): a twelve-month trend per KPI, on the same chart -----------------


class ServiceScorecard(Protocol):
    """A month's service levels, as a KPI chart reads them (a scorecard is one)."""

    @property
    def period(self) -> Period: ...
    @property
    def service(self) -> ServiceFigures | None: ...


# A month's KPI on the chart: its index, month, value (a percentage or seconds), 95% interval.
KpiPoint = tuple[int, Period, float, tuple[float, float] | None]


def kpi_chart(cards: Sequence[ServiceScorecard], code: str, rule: KpiRule | None) -> TrendChart:
    """Lay out a KPI's months: shares on a 0-100% axis, answer speed in seconds; csat with its
    95% interval as the band; the terms' target, or their band edges, as lines."""
    seconds = code == "answer_speed"
    values = _kpi_values(cards, code)
    edges = _kpi_edges(rule, seconds)
    chart = TrendChart()
    chart.empty = not values
    high = 100.0
    if seconds:
        top = max([value for _, _, value, _ in values] + [edge for edge, _ in edges] + [10.0])
        high = float(math.ceil(top * 1.2 / 10) * 10)

    def x(index: int) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * index / max(len(cards) - 1, 1)

    def y(value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (high - value) / high

    def shown(value: float) -> str:
        return _("%(value)s s", value=number(value, 1)) if seconds else percent(value / 100)

    for tick in range(6):
        value = high / 5 * tick
        chart.y_ticks.append((y(value), f"{value:.0f}" + ("" if seconds else "%")))
    chart.x_labels = [(x(index), short_month(card.period)) for index, card in enumerate(cards)]
    paths = []
    for run in _kpi_runs(values):
        chart.mean.append(" ".join(f"{x(i):.1f},{y(value):.1f}" for i, _, value, _ in run))
        chart.points += [(x(i), y(value), f"{month(period)}: {shown(value)}")
                         for i, period, value, _ in run]  # fmt: skip
        bounds = [(i, ci) for i, _, _, ci in run if ci is not None]
        if bounds:
            upper = [f"{x(i):.1f},{y(ci[1]):.1f}" for i, ci in bounds]
            lower = [f"{x(i):.1f},{y(ci[0]):.1f}" for i, ci in reversed(bounds)]
            paths.append("M" + " L".join(upper + lower) + " Z")
    chart.band = " ".join(paths)
    for edge, kind in edges:
        if 0 <= edge <= high:
            said = _("target %(value)s", value=shown(edge)) if kind == "pass" else shown(edge)
            chart.lines.append(Line(y(edge), said, kind))
    return chart


def _kpi_values(cards: Sequence[ServiceScorecard], code: str) -> list[KpiPoint]:
    """Return the months that have the KPI, with its value (and csat's interval)."""
    scale = 1 if code == "answer_speed" else 100
    values: list[KpiPoint] = []
    for index, card in enumerate(cards):
        service = card.service
        ratio = None if service is None else service.ratio(code)
        if service is None or ratio is None:
            continue
        interval = service.csat_interval() if code == "csat" else None
        ci = None if interval is None else (float(interval[0]) * 100, float(interval[1]) * 100)
        values.append((index, card.period, float(ratio[0]) * scale, ci))
    return values


def _kpi_runs(values: list[KpiPoint]) -> list[list[KpiPoint]]:
    """Split a KPI's months into runs of consecutive months."""
    runs: list[list[KpiPoint]] = []
    for item in values:
        if runs and runs[-1][-1][0] == item[0] - 1:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _kpi_edges(rule: KpiRule | None, seconds: bool) -> list[tuple[float, str]]:
    """Return the lines a KPI is drawn against: its target ("pass"), else its band edges."""
    if rule is None:
        return []
    if rule.form == "linear":
        assert rule.target is not None
        return [(float(rule.target) * 100, "pass")]
    scale = 1 if seconds else 100
    return [(float(band.edge) * scale, "band") for band in rule.bands
            if band.edge is not None and band.edge > 0]  # fmt: skip
