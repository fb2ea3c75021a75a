"""The human text of a notice, in its receiver's language; the notice's fields stay English.

Each notice carries `summary` (this text) and `language` beside the fields a program reads, so
a receiver that forwards notices to people (a mail, a chat) need not write its own words.
"""

from __future__ import annotations

from typing import Any

from service.language.formatting import money, month, number
from service.language.i18n import N_, Speech

# What each step of a dispute is called in a notice's text.
DISPUTE_STEPS = {
    "dispute.opened": N_("Dispute %(id)s of evaluation %(evaluation)s (%(month)s) is open."),
    "dispute.decided": N_(
        "Dispute %(id)s of evaluation %(evaluation)s (%(month)s) is decided: %(outcome)s."
    ),
    "dispute.escalated": N_(
        "Dispute %(id)s of evaluation %(evaluation)s (%(month)s) is escalated to an admin."
    ),
    "dispute.arbitrated": N_(
        "Dispute %(id)s of evaluation %(evaluation)s (%(month)s) is arbitrated: %(outcome)s."
    ),
    "dispute.withdrawn": N_(
        "Dispute %(id)s of evaluation %(evaluation)s (%(month)s) is withdrawn."
    ),
}
OUTCOMES = {
    "accepted": N_("accepted"),
    "partly_accepted": N_("partly accepted"),
    "rejected": N_("rejected"),
}


def summary(payload: dict[str, Any], language: str) -> str:
    """Say what a notice announces, in a language (its event, when no words are known)."""
    say, event = Speech(language), payload.get("event", "")
    if event == "statement.finalized":
        currency = payload["currency"]
        return say.gettext(
            "Statement %(id)s of %(month)s is final: it pays %(total)s (%(volume)s on volume"
            " alone).",
            id=payload["statement_id"],
            month=month(payload["period"], say.language),
            total=money(payload["total"], currency, say.language),
            volume=money(payload["volume_only"], currency, say.language),
        )
    if event in DISPUTE_STEPS:
        outcome = OUTCOMES.get(payload.get("outcome") or "")
        return say.gettext(
            DISPUTE_STEPS[event],
            id=payload["dispute_id"],
            evaluation=payload["evaluation_id"],
            month=month(payload["period"], say.language),
            outcome=say.gettext(outcome) if outcome else "–",
        )
    if event == "sample.committed":
        return _committed(say, payload)
    if event in ("calibration.opened", "calibration.closed"):
        return _calibration(say, payload)
    if event == "evaluation.amended":
        values = {"call": payload["call_ref"], "revision": payload["revision"]}
        if payload.get("retracted"):
            return say.gettext(
                "The audit of call %(call)s is retracted (revision %(revision)s).", **values
            )
        return say.gettext(
            "The audit of call %(call)s is amended: revision %(revision)s scores %(score)s.",
            score=number(payload.get("score"), 2, say.language),
            **values,
        )
    return str(event)


def _calibration(say: Speech, payload: dict[str, Any]) -> str:
    """Say that a calibration session opened, or closed and with what alpha (never a score)."""
    values = {"id": payload["session_id"], "title": payload["title"]}
    if payload["event"] == "calibration.opened":
        return say.gettext(
            "Calibration session %(id)s (“%(title)s”) is open: %(calls)s calls, each scored"
            " blind by %(participants)s participants.",
            calls=number(payload["calls"], 0, say.language),
            participants=number(payload["participants"], 0, say.language),
            **values,
        )
    if payload.get("alpha") is None:
        return say.gettext(
            "Calibration session %(id)s (“%(title)s”) is closed: its alpha is undefined.",
            **values,
        )
    return say.gettext(
        "Calibration session %(id)s (“%(title)s”) is closed: alpha %(alpha)s.",
        alpha=number(payload["alpha"], 3, say.language),
        **values,
    )


def _committed(say: Speech, payload: dict[str, Any]) -> str:
    """Say that a month's seeds are committed, with their SHA-256, and whether it was late."""
    commitments = payload["commitments"]
    values = {
        "contract": payload["contract_id"],
        "month": month(payload["period"], say.language),
        "own": commitments["self"],
        "audit": commitments["audit"],
    }
    if payload.get("late"):
        return say.gettext(
            "The samples of contract %(contract)s for %(month)s are committed late, after the"
            " month began: SHA-256 %(own)s (self-assessment) and %(audit)s (audit).",
            **values,
        )
    return say.gettext(
        "The samples of contract %(contract)s for %(month)s are committed before the month:"
        " SHA-256 %(own)s (self-assessment) and %(audit)s (audit).",
        **values,
    )
