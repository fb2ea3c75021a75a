"""VICIdial's inbound closer log and outbound log, as exported: a header row, tab- or
comma-separated. The closer log (it has `closecallid`) is inbound, the outbound log outbound."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO

from service.calls.formats.reading import (
    Mapped,
    Pick,
    Profile,
    Record,
    csv_records,
    local_instant,
    text,
    whole_seconds,
)
from service.calls.rows import Refused

CLOSER = ("closecallid", "lead_id", "list_id", "campaign_id", "call_date", "start_epoch",
          "end_epoch", "length_in_sec", "status", "phone_code", "phone_number", "user",
          "comments", "processed", "queue_seconds", "user_group", "xfercallid", "term_reason",
          "uniqueid", "agent_only", "queue_position", "called_count")  # fmt: skip
OUTBOUND = ("uniqueid", "lead_id", "list_id", "campaign_id", "call_date", "start_epoch",
            "end_epoch", "length_in_sec", "status", "phone_code", "phone_number", "user",
            "comments", "processed", "user_group", "term_reason", "alt_dial",
            "called_count")  # fmt: skip
COLUMNS = tuple(dict.fromkeys((*CLOSER, *OUTBOUND)))
MAX_EPOCH = 10**11  # the year 5138: a larger one is no time
NEEDED = ("call_date", "length_in_sec", "user", "term_reason")
# VDCL and VDAD stand in the user column for a call no agent took.
NO_AGENT = frozenset(("", "VDCL", "VDAD"))
DEFAULT_AGENT = Pick("user", re.compile(r"^(.+)$"))
ABANDONED = frozenset(("ABANDON", "QUEUETIMEOUT"))
# The outbound log's statuses that say nobody was reached.
OUTBOUND_OUTCOMES = {"NA": "no_answer", "AA": "no_answer", "AM": "no_answer", "AL": "no_answer",
                     "B": "busy", "AB": "busy", "DC": "failed", "ADC": "failed",
                     "DROP": "failed", "PDROP": "failed", "XDROP": "failed"}  # fmt: skip
SOURCES = {"call_ref": "closecallid", "call_at": "call_date", "duration_s": "length_in_sec",
           "outcome": "term_reason", "wait_s": "queue_seconds", "handle_s": "length_in_sec",
           "queue": "campaign_id", "team": "user_group"}  # fmt: skip


def _header(names: list[str]) -> list[str]:
    key = "closecallid" if "closecallid" in names else "uniqueid"
    missing = [name for name in (key, *NEEDED) if name not in names]
    if missing:
        raise Refused(
            "the header is not a VICIdial closer log or outbound log: missing columns "
            + ", ".join(missing)
        )
    return names


def records(stream: IO[bytes], max_bytes: int | None) -> Iterator[tuple[int, Record]]:
    """Yield (line, record) of a closer log or an outbound log."""
    return csv_records(stream, max_bytes, check_header=_header)


def _outcome(record: Record, inbound: bool, agent: str) -> str:
    """Return how a closer-log or outbound-log call ended."""
    term = text(record.get("term_reason")).strip().upper()
    if inbound:
        # A call no agent took was offered and not answered, whatever ended it.
        return "abandoned" if term in ABANDONED or not agent else "answered"
    if term in ABANDONED:
        return "failed"  # dropped: answered by the customer, no agent free
    return OUTBOUND_OUTCOMES.get(text(record.get("status")).strip().upper(), "answered")


def convert(record: Record, profile: Profile) -> Mapped:
    """Map one closer-log or outbound-log row onto the log's fields."""
    problems: dict[str, list[str]] = {}
    inbound = "closecallid" in record
    key = "closecallid" if inbound else "uniqueid"
    epoch = text(record.get("start_epoch")).strip()
    started: datetime | str
    if epoch.isdigit() and 0 < int(epoch) < MAX_EPOCH:
        started = datetime.fromtimestamp(int(epoch), UTC)
    else:
        started = local_instant(text(record.get("call_date")), profile.zone)
    if isinstance(started, str):
        problems["call_date"] = [started]
    length = whole_seconds(record.get("length_in_sec"))
    if not length:
        problems["length_in_sec"] = ["must be a whole number of seconds"]
    wait = whole_seconds(record.get("queue_seconds")) if inbound else ""
    if wait is None:
        problems["queue_seconds"] = ["must be a number of seconds"]
    agent = "" if text(record.get("user")).strip() in NO_AGENT else (profile.agent(record) or "")
    outcome = _outcome(record, inbound, agent)
    if outcome == "answered" and not agent:
        problems.setdefault(profile.agent.field, []).append(
            f"no agent found by the pattern {profile.agent.pattern.pattern!r}"
        )
    if problems:
        return {}, problems
    assert isinstance(started, datetime) and length is not None and wait is not None
    handle = ""
    if outcome == "answered":
        handle = str(max(int(length) - int(wait or 0), 0))  # the closer log counts the queue
    if profile.queue is not None:
        queue = profile.queue(record) or ""
    else:
        queue = text(record.get("campaign_id"))
    return {
        "call_ref": text(record.get(key)),
        "call_at": started.isoformat(),
        "agent_ref": "" if outcome == "abandoned" else agent,
        "team": text(record.get("user_group")) if agent else "",
        "queue": queue,
        "direction": "inbound" if inbound else "outbound",
        "duration_s": length,
        "outcome": outcome,
        "wait_s": wait,
        "handle_s": handle,
    }, {}
