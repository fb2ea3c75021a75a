"""Why each line of a statement pays what it pays, said from its code and basis.

This is the one place a line is worded. The rules (contracts/payout.py) give each line a code,
an amount and a `basis`: the figures and the rule behind it. The reason is said here from the
code and basis (and the statement's terms, for the band above and the self-assessment rule):
to people in their language, every figure written as it writes them (`Reasons`), and in the
English a statement stores as each line's `description`, the API's, covered by the content
hash (`StoredReasons`, `stored_lines`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal

from contracts import payout
from contracts._fields import number_out, percent_out
from contracts.payout import PRIOR_ADJUSTMENT
from contracts.service_levels import KPIS, SERVICE_CAP
from contracts.terms import Terms, terms_document
from service.language.formatting import locale_of, money
from service.language.i18n import Speech
from service.language.labels import LABELS
from service.statements.models import Statement

Basis = Mapping[str, Any]


class Reasons:
    """The reasons of a statement's lines in one language, its figures written in it."""

    def __init__(self, language: str, currency: str, terms: Basis | None = None) -> None:
        self.say = Speech(language)
        self.currency = currency
        self.locale = locale_of(self.say.language)
        self.quality: Basis = (terms or {}).get("quality") or {}

    def of(self, line: Mapping[str, Any]) -> str:
        """Return a line's reason; a line this code does not know keeps its description."""
        code, basis = line["code"], line.get("basis") or {}
        if code == "volume":
            return self.volume(basis) + self.reconciled_volume(basis)
        if code == "quality_band" and basis.get("reason") == "sample_pending":
            return self.band(basis)  # no self-score is judged before the samples are drawn
        if code == "quality_band":
            return (
                self.band(basis)
                + self.self_assessment(basis)
                + self.coverage_note(basis)
                + self.gate_note(basis)
            )
        if code.startswith("critical_") and "category" in basis:
            return self.critical(basis) + self.coverage_note(basis)
        if code == "cap":
            return self.cap(basis)
        if code in KPIS and "kpi" in basis:
            return self.kpi(basis)
        if code == SERVICE_CAP:
            return self.cap(basis, service=True)
        if code == PRIOR_ADJUSTMENT:
            return self.prior(basis, line["amount"])
        return str(line.get("description", ""))

    # figures, as the language writes them

    def count(self, value: int) -> str:
        return format_decimal(value, format="#,##0", locale=self.locale)

    def exact(self, text: str | Decimal) -> str:
        """Write a decimal with the places it has, grouped: "1,234.50", "1.234,50"."""
        value = Decimal(str(text))
        places = max(-int(value.as_tuple().exponent), 0)
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def score(self, text: str | Decimal) -> str:
        """Write a score or a band's edge as the rules wrote it: "85", "92.5"."""
        value = Decimal(str(text))
        if value == value.to_integral_value():
            return self.count(int(value))
        return self.exact(value)

    def percent(self, fraction: str | Decimal, *, signed: bool = False) -> str:
        """Write a fraction as a percentage, as the rules wrote it: "+6%", "2.22%"."""
        value = Decimal(str(fraction))
        if value == 0:
            return "0%"
        points = self.score(value.scaleb(2).normalize())
        return f"+{points}%" if signed and value > 0 else f"{points}%"

    def money(self, amount: str | Decimal, *, signed: bool = False) -> str:
        written = money(Decimal(str(amount)), self.currency, self.say.language)
        # As the stored description's `:+` writes it: a plus before anything not negative.
        return f"+{written}" if signed and not Decimal(str(amount)).is_signed() else written

    def band_label(self, band: Basis | None) -> str:
        if band is None:
            return self.say.gettext("below every band")
        return self.say.gettext(
            "%(edge)s+ (%(adjust)s)",
            edge=self.score(band["from"]),
            adjust=self.percent(band["adjust"], signed=True),
        )

    def interval(self, interval: list[str]) -> str:
        return f"{self.exact(interval[0])}–{self.exact(interval[1])}"

    # the lines

    def volume_source(self, basis: Basis) -> str:
        """Say where the units came from (" (logged calls)"); older statements do not say."""
        source, say = basis.get("source"), self.say
        if source is None:
            return ""
        if source == "declared":
            return " " + say.gettext("(declared daily volumes)")
        if basis.get("direction") == "inbound":
            return " " + say.gettext("(logged inbound calls)")
        if basis.get("direction") == "outbound":
            return " " + say.gettext("(logged outbound calls)")
        return " " + say.gettext("(logged calls)")

    def volume(self, basis: Basis) -> str:
        say, unit, tiers = self.say, basis["unit"], basis["tiers"]
        if not tiers:
            return say.gettext("Volume fee: no units of %(unit)s", unit=unit) + (
                self.volume_source(basis)
            )
        counted = say.ngettext(
            "%(units)s unit of %(unit)s",
            "%(units)s units of %(unit)s",
            basis["units"],
            units=self.count(basis["units"]),
            unit=unit,
        ) + self.volume_source(basis)
        if len(tiers) == 1:
            return say.gettext(
                "Volume fee: %(counted)s at %(price)s",
                counted=counted,
                price=self.exact(tiers[0]["price"]),
            )
        priced = [
            say.gettext(
                "%(units)s at %(price)s",
                units=self.count(tier["units"]),
                price=self.exact(tier["price"]),
            )
            for tier in tiers
        ]
        return say.gettext(
            "Volume fee: %(counted)s, %(tiers)s and %(last)s",
            counted=counted,
            tiers=", ".join(priced[:-1]),
            last=priced[-1],
        )

    def held(self, basis: Basis) -> str | None:
        """Say why every quality line is 0, if it is: too few evaluations, or the samples."""
        reason, say = basis.get("reason"), self.say
        if reason == "min_sample":
            return self.too_few(basis)
        if reason == "calibration":
            return self.uncalibrated(basis["calibration"])
        if reason == "sample_pending" and "self_due" in basis:
            return say.gettext(
                "the audit sample is drawn when the self-assessments are due (%(when)s)",
                when=basis["self_due"],
            )
        if reason == "sample_pending":
            return say.gettext(
                "the samples are drawn when the call log closes (%(when)s)",
                when=basis["log_closes"],
            )
        if reason == "coverage":  # statements made before the coverage rule took sides
            floor = self.percent(basis["min_coverage"])
            return say.gettext(" and ").join(
                self.coverage(name, basis["shares"][name], floor) for name in basis["short"]
            )
        return None

    def coverage(self, name: str, share: Basis, floor: str) -> str:
        values = {
            "rate": self.percent(share["rate"] or "0"),
            "evaluated": self.count(share["evaluated"]),
            "sampled": self.count(share["sampled"]),
            "floor": floor,
        }
        if name == "audit":
            return self.say.gettext(
                "the client's audit sample is %(rate)s evaluated (%(evaluated)s of %(sampled)s"
                " calls), below the %(floor)s floor",
                **values,
            )
        return self.say.gettext(
            "the call center's self-assessment sample is %(rate)s evaluated (%(evaluated)s of"
            " %(sampled)s calls), below the %(floor)s floor",
            **values,
        )

    def coverage_note(self, basis: Basis) -> str:
        """Say whose sample fell short of its floor and what that took away (DESIGN 13)."""
        note, say = basis.get("coverage"), self.say
        if not note:
            return ""
        floor = self.percent(note["min_coverage"])
        short = say.gettext(" and ").join(
            self.coverage(name, note["shares"][name], floor) for name in note["short"]
        )
        if len(note["short"]) == 2:
            effect = say.gettext("no quality bonus or malus applies")
        elif note["short"] == ["audit"]:
            effect = say.gettext("no quality malus applies")
        else:
            effect = say.gettext("no quality bonus applies")
        said = say.gettext("; %(short)s: %(effect)s", short=short, effect=effect)
        if not note.get("below_minimum"):
            return said
        minimum = self.count(basis["min_sample"])
        if note["short"] == ["audit"]:
            return said + say.gettext(
                ", and the minimum sample of %(minimum)s does not hold back a bonus",
                minimum=minimum,
            )
        return said + say.gettext(
            ", and the minimum sample of %(minimum)s does not hold back a malus", minimum=minimum
        )

    def band(self, basis: Basis) -> str:
        say = self.say
        held = self.held(basis)
        if held is not None:
            return say.gettext("No quality band adjustment: %(why)s", why=held)
        if basis["evidence"] == "point":
            return self.point_band(basis)
        interval = basis.get("interval")
        if interval is None:
            evaluations = say.ngettext(
                "%(num)s evaluation gives no 95%% interval",
                "%(num)s evaluations give no 95%% interval",
                basis["n"],
            )
            return say.gettext(
                "No quality band adjustment: %(why)s, and money moves only on evidence",
                why=evaluations,
            )
        shown = say.gettext("the 95%% interval %(interval)s", interval=self.interval(interval))
        return self.confident_band(basis, shown)

    def point_band(self, basis: Basis) -> str:
        say, band = self.say, basis.get("band")
        if basis.get("mean") is None:
            return say.gettext("No quality band adjustment: no scored evaluations in the period")
        mean = self.exact(basis["mean"])
        if band is None:
            return say.gettext(
                "No quality band adjustment: mean %(mean)s is below every band", mean=mean
            )
        return say.gettext(
            "Quality band %(band)s: mean %(mean)s falls in it",
            band=self.band_label(band),
            mean=mean,
        )

    def confident_band(self, basis: Basis, interval: str) -> str:
        say, low, high = self.say, basis.get("low_band"), basis.get("high_band")
        band = basis.get("band")
        if band is not None and Decimal(band["adjust"]) > 0:
            return say.gettext(
                "Quality band %(band)s: %(interval)s lies wholly at or above %(edge)s",
                band=self.band_label(band),
                interval=interval,
                edge=self.score(band["from"]),
            )
        if band is not None and Decimal(band["adjust"]) < 0:
            above = self.edge_above(band)
            if above is None:
                return say.gettext(
                    "Quality band %(band)s: %(interval)s lies wholly in it",
                    band=self.band_label(band),
                    interval=interval,
                )
            return say.gettext(
                "Quality band %(band)s: %(interval)s lies wholly below %(edge)s",
                band=self.band_label(band),
                interval=interval,
                edge=self.score(above),
            )
        if low == high:
            if low is None:
                return say.gettext(
                    "No quality band adjustment: %(interval)s is below every band",
                    interval=interval,
                )
            return say.gettext(
                "Quality band %(band)s: %(interval)s lies wholly in it",
                band=self.band_label(low),
                interval=interval,
            )
        return say.gettext(
            "No quality band adjustment: %(interval)s spans bands %(low)s to %(high)s;"
            " no side is proven",
            interval=interval,
            low=self.band_label(low),
            high=self.band_label(high),
        )

    def edge_above(self, band: Basis) -> Decimal | None:
        """Return where the band above a band starts, by the terms (None: it is the top)."""
        edges = sorted(Decimal(str(each["from"])) for each in self.quality.get("bands", []))
        higher = [edge for edge in edges if edge > Decimal(band["from"])]
        return higher[0] if higher else None

    def uncalibrated(self, gate: Basis) -> str:
        """Say why a month the terms gate on calibration (DESIGN 17) pays no quality."""
        say = self.say
        if gate["session_id"] is None:
            return say.gettext("no calibration session had closed by the month's end")
        name = say.gettext("calibration session %(id)s", id=gate["session_id"])
        if gate["reason"] == "too_small":
            sides = say.gettext(" and ").join(
                say.gettext(LABELS.get(side, side)) for side in gate["sides"]
            )
            return say.gettext(
                "%(name)s is too small: %(calls)s calls scored by two or more and"
                " %(participants)s participants (%(sides)s), where %(min_calls)s calls and"
                " %(min_participants)s participants from both sides are needed",
                name=name,
                calls=self.count(gate["calls"]),
                participants=self.count(gate["participants"]),
                sides=sides or say.gettext("no side"),
                min_calls=self.count(gate["min_calls"]),
                min_participants=self.count(gate["min_participants"]),
            )
        if gate["reason"] == "too_old":
            return say.gettext(
                "%(name)s closed on %(day)s, more than %(days)s days before the month's last day",
                name=name,
                day=gate["closed_on"],
                days=self.count(gate["valid_days"]),
            )
        if gate["alpha"] is None:
            return say.gettext(
                "%(name)s has no alpha (no variation to agree on), so it does not reach the"
                " %(minimum)s minimum",
                name=name,
                minimum=self.exact(gate["min_alpha"]),
            )
        return say.gettext(
            "%(name)s agreed at alpha %(alpha)s, below the %(minimum)s minimum",
            name=name,
            alpha=self.exact(gate["alpha"]),
            minimum=self.exact(gate["min_alpha"]),
        )

    def too_few(self, basis: Basis) -> str:
        return self.say.ngettext(
            "%(count)s evaluation, fewer than the minimum sample of %(minimum)s",
            "%(count)s evaluations, fewer than the minimum sample of %(minimum)s",
            basis["n"],
            count=self.count(basis["n"]),
            minimum=self.count(basis["min_sample"]),
        )

    def self_assessment(self, basis: Basis) -> str:
        check, say = basis.get("self_assessment"), self.say
        rule = self.quality.get("self_assessment")
        if check is None:
            return ""
        pairs = self.count(check["pairs"])
        if check["status"] == "corrected" and check.get("inflation") is not None:
            note = say.gettext(
                "; supplier self-scores were lowered by %(points)s points, their inflation"
                " over %(pairs)s audited calls",
                points=self.exact(check["inflation"]),
                pairs=pairs,
            )
            if rule:
                note += say.gettext(
                    " above the %(tolerance)s-point tolerance",
                    tolerance=self.score(rule["tolerance"]),
                )
            return note
        if check["status"] != "unverified":
            return ""
        note = self.unverified(check.get("counted"), pairs)
        if rule:
            note += say.gettext(
                ", fewer than the %(needed)s needed", needed=self.count(rule["min_pairs"])
            )
        return note

    def unverified(self, counted: bool | None, pairs: str) -> str:
        """Say what became of unverified self-scores (statements made before the rule that
        drops them do not say: they counted as they were)."""
        say = self.say
        if counted is None:
            return say.gettext(
                "; supplier self-scores are unverified: %(pairs)s audited calls", pairs=pairs
            )
        if counted:
            return say.gettext(
                "; supplier self-scores count unverified, as the client's audit sample fell"
                " short: %(pairs)s audited calls",
                pairs=pairs,
            )
        return say.gettext(
            "; supplier self-scores do not count, unverified: %(pairs)s audited calls",
            pairs=pairs,
        )

    def critical(self, basis: Basis) -> str:
        say = self.say
        category = str(basis["category"])
        name = say.gettext(LABELS.get(f"critical_{category}", category)).capitalize()
        held = self.held(basis)
        if held is not None:
            return say.gettext(
                "No %(category)s critical error adjustment: %(why)s",
                category=say.gettext(LABELS.get(category, category)),
                why=held,
            )
        if basis.get("rate") is None or basis.get("interval") is None:
            return say.gettext("%(name)s: no scored evaluations in the period", name=name)
        values = {
            "name": name,
            "rate": say.gettext(
                "rate %(rate)s (%(errors)s of %(calls)s)",
                rate=self.percent(basis["rate"]),
                errors=self.count(basis["errors"]),
                calls=self.count(basis["n"]),
            ),
            "limit": self.percent(basis["max_rate"]),
            "adjust": self.percent(basis["adjust"], signed=True),
            "wilson": say.gettext(
                "the 95%% Wilson interval %(low)s–%(high)s",
                low=self.percent(basis["interval"][0]),
                high=self.percent(basis["interval"][1]),
            ),
        }
        above = Decimal(basis["rate"]) > Decimal(basis["max_rate"])
        # A malus waived for the client's short audits reads as the figures found it.
        applied = basis["applied"] or (basis.get("coverage") or {}).get("waived") is not None
        if applied and basis["evidence"] == "point":
            return say.gettext(
                "%(name)s (%(adjust)s): %(rate)s is above the %(limit)s limit", **values
            )
        if applied:
            return say.gettext(
                "%(name)s (%(adjust)s): %(rate)s; %(wilson)s lies wholly above the %(limit)s limit",
                **values,
            )
        if above:
            return say.gettext(
                "%(name)s: %(rate)s is above the %(limit)s limit, but %(wilson)s reaches down to"
                " it, so the excess is not proven",
                **values,
            )
        return say.gettext("%(name)s: %(rate)s is within the %(limit)s limit", **values)

    def cap(self, basis: Basis, *, service: bool = False) -> str:
        say, parts = self.say, []
        if service:
            return self.service_cap(basis)
        if Decimal(basis["bonus_trimmed"]):
            parts.append(
                say.gettext(
                    "quality bonus of %(amount)s trimmed to %(cap)s of the volume fee, %(limit)s",
                    amount=self.money(basis["bonus_lines"]),
                    cap=self.percent(basis["bonus_cap"]),
                    limit=self.money(basis["bonus_limit"]),
                )
            )
        if Decimal(basis["malus_trimmed"]):
            parts.append(
                say.gettext(
                    "quality malus of %(amount)s trimmed to %(cap)s of the volume fee, %(limit)s",
                    amount=self.money(basis["malus_lines"]),
                    cap=self.percent(basis["malus_cap"]),
                    limit=self.money(basis["malus_limit"]),
                )
            )
        return say.gettext("Cap: %(parts)s", parts="; ".join(parts))

    # service levels (DESIGN 16)

    def service_cap(self, basis: Basis) -> str:
        say, parts = self.say, []
        if Decimal(basis["bonus_trimmed"]):
            parts.append(
                say.gettext(
                    "service bonus of %(amount)s trimmed to %(cap)s of the volume fee, %(limit)s",
                    amount=self.money(basis["bonus_lines"]),
                    cap=self.percent(basis["bonus_cap"]),
                    limit=self.money(basis["bonus_limit"]),
                )
            )
        if Decimal(basis["malus_trimmed"]):
            parts.append(
                say.gettext(
                    "service malus of %(amount)s trimmed to %(cap)s of the volume fee, %(limit)s",
                    amount=self.money(basis["malus_lines"]),
                    cap=self.percent(basis["malus_cap"]),
                    limit=self.money(basis["malus_limit"]),
                )
            )
        return say.gettext("Service cap: %(parts)s", parts="; ".join(parts))

    def reconciled_volume(self, basis: Basis) -> str:
        capped = basis.get("reconciled")
        if not capped:
            return ""
        return self.say.gettext(
            "; capped at the client's count of %(client)s calls: the log holds %(log)s and"
            " %(units)s units",
            client=self.count(capped["client"]),
            log=self.count(capped["log"]),
            units=self.count(capped["units"]),
        )

    def gate_note(self, basis: Basis) -> str:
        gate = basis.get("gate")
        if not gate:
            return ""
        names = self.say.gettext(" and ").join(
            self.say.gettext(LABELS.get(code, code)) for code in gate["closed_by"]
        )
        if basis.get("gated"):
            return self.say.gettext(
                "; the gate is closed: %(kpis)s carries a malus, so no quality bonus applies",
                kpis=names,
            )
        return ""

    def kpi_figure(self, basis: Basis) -> str:
        """Say a KPI's figure with its counts: "81.23% (812 of 1,000 offered calls …)"."""
        say, code = self.say, basis["kpi"]
        counts = {
            "numerator": self.count(basis["numerator"]),
            "denominator": self.count(basis["denominator"]),
        }
        if code == "answer_speed":
            return say.gettext(
                "%(seconds)s s mean wait of %(denominator)s answered calls",
                seconds=self.exact(basis["figure"]),
                denominator=counts["denominator"],
            )
        share = self.percent(basis["figure"])
        if code == "service_level":
            return say.gettext(
                "%(share)s (%(numerator)s of %(denominator)s offered calls answered within"
                " %(seconds)s s)",
                share=share,
                seconds=self.count(basis["answered_within_s"]),
                **counts,
            )
        if code == "abandoned":
            return say.gettext(
                "%(share)s (%(numerator)s of %(denominator)s offered calls abandoned)",
                share=share,
                **counts,
            )
        if code == "repeat_contacts":
            return say.gettext(
                "%(share)s (%(numerator)s of %(denominator)s answered callers called again within"
                " %(days)s days)",
                share=share,
                days=self.count(basis["within_days"]),
                **counts,
            )
        return say.gettext(
            "%(share)s (%(numerator)s of %(denominator)s survey answers at %(top)s or above)",
            share=share,
            top=self.count(basis["top_box_from"]),
            **counts,
        )

    def kpi_band(self, band: Basis | None) -> str:
        say = self.say
        if band is None:
            return say.gettext("below every band")
        adjust = self.percent(band["adjust"], signed=True)
        if "from" in band:
            return say.gettext(
                "from %(edge)s (%(adjust)s)", edge=self.percent(band["from"]), adjust=adjust
            )
        key = "up_to_s" if "up_to_s" in band else "up_to"
        if band[key] is None:
            return say.gettext("above every limit (%(adjust)s)", adjust=adjust)
        edge = (
            say.gettext("%(seconds)s s", seconds=self.count(int(Decimal(band[key]))))
            if key == "up_to_s"
            else self.percent(band[key])
        )
        return say.gettext("up to %(edge)s (%(adjust)s)", edge=edge, adjust=adjust)

    def kpi(self, basis: Basis) -> str:
        """Say why a service-level line pays what it pays (DESIGN 16)."""
        say, code = self.say, str(basis["kpi"])
        name = say.gettext(LABELS.get(code, code)).capitalize()
        reason = basis.get("reason")
        if reason == "no_calls":
            said = say.gettext("%(name)s: no offered calls in the month, nothing moves", name=name)
        elif reason == "no_responses":
            said = say.gettext("%(name)s: no survey answers in the month, nothing moves", name=name)
        elif reason == "min_responses":
            said = say.gettext(
                "%(name)s: %(count)s survey answers, fewer than the minimum of %(minimum)s,"
                " nothing moves",
                name=name,
                count=self.count(basis["denominator"]),
                minimum=self.count(basis["min_responses"]),
            )
        elif basis["rule"] == "linear":
            said = self.kpi_linear(name, basis)
        else:
            said = self.kpi_banded(name, basis)
        return said + self.reconciliation_note(basis)

    def kpi_banded(self, name: str, basis: Basis) -> str:
        say = self.say
        figure = self.kpi_figure(basis)
        if basis.get("evidence") == "confident" and basis.get("interval"):
            interval = say.gettext(
                "the 95%% Wilson interval %(low)s–%(high)s",
                low=self.percent(basis["interval"][0]),
                high=self.percent(basis["interval"][1]),
            )
            if basis.get("band") is None:
                return say.gettext(
                    "%(name)s %(figure)s: %(interval)s spans bands %(low)s to %(high)s; no side"
                    " is proven",
                    name=name,
                    figure=figure,
                    interval=interval,
                    low=self.kpi_band(basis.get("low_band")),
                    high=self.kpi_band(basis.get("high_band")),
                )
            return say.gettext(
                "%(name)s %(figure)s: %(interval)s proves band %(band)s",
                name=name,
                figure=figure,
                interval=interval,
                band=self.kpi_band(basis["band"]),
            )
        return say.gettext(
            "%(name)s %(figure)s: band %(band)s",
            name=name,
            figure=figure,
            band=self.kpi_band(basis.get("band")),
        )

    def kpi_linear(self, name: str, basis: Basis) -> str:
        say = self.say
        figure = self.kpi_figure(basis)
        target = self.percent(basis["target"])
        if not Decimal(basis["points"]):
            return say.gettext(
                "%(name)s %(figure)s: on the right side of the %(target)s target",
                name=name,
                figure=figure,
                target=target,
            )
        said = say.gettext(
            "%(name)s %(figure)s: %(points)s points past the %(target)s target at %(per_point)s"
            " of the volume fee a point",
            name=name,
            figure=figure,
            points=self.exact(Decimal(basis["points"]).normalize()),
            target=target,
            per_point=self.percent(basis["per_point"], signed=True),
        )
        if basis.get("capped"):
            said += say.gettext(", at most %(max)s", max=self.percent(basis["max"], signed=True))
        return said

    def reconciliation_note(self, basis: Basis) -> str:
        note, say = basis.get("reconciliation"), self.say
        if not note or note["status"] == "off":
            return ""
        if note["status"] == "incomplete":
            return say.gettext(
                "; not reconciled: the client counted %(counted)s of the month's %(days)s days",
                counted=self.count(note["client_days"]),
                days=self.count(note["days"]),
            )
        values = {
            "client": self.count(note["client"]),
            "log": self.count(note["log"]),
            "tolerance": self.percent(note["tolerance"]),
        }
        if note["status"] == "log_short":
            return say.gettext(
                "; the client counted %(client)s calls and the log holds %(log)s, short by more"
                " than %(tolerance)s: the %(missing)s missing calls count as abandoned",
                missing=self.count(note["missing"]),
                **values,
            )
        if note["status"] == "log_over":
            return say.gettext(
                "; the client counted %(client)s calls and the log holds %(log)s, more by over"
                " %(tolerance)s: the volume pays at most the client's count",
                **values,
            )
        return say.gettext(
            "; the client counted %(client)s calls and the log holds %(log)s, within %(tolerance)s",
            **values,
        )

    def prior(self, basis: Basis, amount: str) -> str:
        return self.say.gettext(
            "Prior period adjustment for %(period)s: recomputed with current data, the period"
            " pays %(amount)s against final statement %(statement)s",
            period=basis["period"],
            amount=self.money(amount, signed=True),
            statement=basis["statement_id"],
        )


class StoredReasons(Reasons):
    """The English reasons as a statement stores them, as each line's `description`.

    The words are the reasons'; the figures are written as stored descriptions have always
    written them, in no language's conventions: decimals as they are ("1234.50", "86.10"),
    counts and amounts grouped with commas ("7,740.00"), amounts without a currency symbol.
    The content hash covers them: a line said again reads byte for byte as it was stored.
    """

    def __init__(self, currency: str, terms: Basis | None = None) -> None:
        super().__init__("en", currency, terms)

    def count(self, value: int) -> str:
        return f"{value:,}"

    def exact(self, text: str | Decimal) -> str:
        return format(Decimal(str(text)), "f")

    def score(self, text: str | Decimal) -> str:
        return str(number_out(Decimal(str(text))))

    def percent(self, fraction: str | Decimal, *, signed: bool = False) -> str:
        return percent_out(Decimal(str(fraction)), signed=signed)

    def money(self, amount: str | Decimal, *, signed: bool = False) -> str:
        return format(Decimal(str(amount)), "+,f" if signed else ",f")


def stored_lines(statement: payout.Statement, terms: Terms) -> list[dict[str, Any]]:
    """Return a computed statement's lines as a statement stores them and the API shows them:
    JSON-able, amounts as strings, each with its English reason as its `description`."""
    reasons = StoredReasons(statement.currency, terms_document(terms))
    lines = []
    for line in statement.lines:
        stored = {"code": line.code, "amount": str(line.amount), "basis": dict(line.basis)}
        lines.append({"code": line.code, "description": reasons.of(stored)} | stored)
    return lines


def reasons_of(statement: Statement, language: str) -> list[str]:
    """Return the reason of each line of a statement, in a language."""
    terms = next(
        (
            v.document
            for v in statement.contract.terms_versions
            if v.id == statement.terms_version_id
        ),
        None,
    )
    reasons = Reasons(language, statement.currency, terms)
    return [reasons.of(line) for line in statement.lines]
