"""Asterisk's Master.csv, as the `cdr_csv` module writes it: no header, one call a line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO

from service.calls.formats.reading import (
    WIDTH,
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

FIELDS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
          "lastdata", "start", "answer", "end", "duration", "billsec", "disposition",
          "amaflags")  # fmt: skip
COLUMNS = (*FIELDS, "uniqueid", "userfield")
# The agent is the device of the channel that answered: SIP/1001-0000002a is agent 1001.
DEFAULT_AGENT = Pick("dstchannel", re.compile(r"^[^/]+/([^-@;/]+)"))
SOURCES = {"call_ref": "uniqueid", "call_at": "start", "direction": "dcontext",
           "duration_s": "duration", "outcome": "disposition", "wait_s": "answer",
           "handle_s": "billsec", "queue": "lastdata", "team": "accountcode",
           "caller_ref": "userfield"}  # fmt: skip
NOT_ANSWERED = {"NO ANSWER": "no_answer", "BUSY": "busy", "FAILED": "failed",
                "CONGESTION": "failed"}  # fmt: skip
NO_UNIQUEID = (
    "the file has no uniqueid column ({width} fields a line): set loguniqueid=yes in cdr.conf "
    "so that every call has its reference"
)
# A uniqueid is the epoch second the channel was made, then a sequence: 1793500200.42
EPOCH = re.compile(r"(?:^|-)(\d{9,11})\.\d+$")


def records(stream: IO[bytes], max_bytes: int | None) -> Iterator[tuple[int, Record]]:
    """Yield (line, record) of a Master.csv; a file logged without `uniqueid` is refused."""
    for number, record in csv_records(stream, max_bytes, names=list(COLUMNS)):
        width = len(record) - (WIDTH in record)
        if number == 1 and width == len(FIELDS):
            raise Refused(NO_UNIQUEID.format(width=width))
        if width == len(COLUMNS) - 1:  # uniqueid without userfield: loguserfield is off
            record = {name: value for name, value in record.items() if name != WIDTH}
        yield number, record


def convert(record: Record, profile: Profile) -> Mapped:
    """Map one CDR onto the log's fields."""
    problems: dict[str, list[str]] = {}
    if "uniqueid" not in record:
        problems["uniqueid"] = [NO_UNIQUEID.format(width=len(record) - 1)]
        return {}, problems
    epoch = EPOCH.search(text(record.get("uniqueid")))
    near = datetime.fromtimestamp(int(epoch.group(1)), UTC) if epoch else None
    start = local_instant(text(record.get("start")), profile.zone, near)
    if isinstance(start, str):
        problems["start"] = [start]
    direction, outcome = _direction_and_outcome(record, profile, problems)
    agent = profile.agent(record) or ""
    if outcome == "answered" and not agent:
        problems.setdefault(profile.agent.field, []).append(
            f"no agent found by the pattern {profile.agent.pattern.pattern!r}"
        )
    if outcome == "abandoned":
        agent = ""  # the log's convention: an abandoned call has no agent
    duration, billsec = whole_seconds(record.get("duration")), whole_seconds(record.get("billsec"))
    for name, value in (("duration", duration), ("billsec", billsec)):
        if not value:
            problems[name] = ["must be a whole number of seconds"]
    if problems:
        return {}, problems
    assert isinstance(start, datetime) and duration and billsec
    wait = _wait(record, profile, start, outcome, int(duration) - int(billsec))
    if isinstance(wait, str):
        return {}, {"answer": [wait]}
    return {
        "call_ref": text(record.get("uniqueid")),
        "call_at": start.isoformat(),
        "agent_ref": agent,
        "queue": _queue(record, profile),
        "direction": direction,
        "duration_s": duration,
        "outcome": outcome,
        "wait_s": str(wait),
        "handle_s": billsec if outcome == "answered" else "",
    }, {}


def _wait(
    record: Record, profile: Profile, start: datetime, outcome: str, unanswered: int
) -> int | str:
    """Return the wait: `answer` - `start` for an answered call, else `duration` - `billsec`."""
    answer = text(record.get("answer")).strip()
    wait = unanswered
    if outcome == "answered" and answer:
        answered = local_instant(answer, profile.zone, start)
        if isinstance(answered, str):
            return answered
        wait = int((answered - start).total_seconds())
    return wait if wait >= 0 else "is before start"


def _direction_and_outcome(
    record: Record, profile: Profile, problems: dict[str, list[str]]
) -> tuple[str, str]:
    """Return a CDR's direction (by the profile's map of `dcontext`) and how it ended."""
    context = text(record.get("dcontext"))
    direction = ""
    if profile.directions is not None:
        direction = profile.directions.get(context, "")
        if not direction:
            known = ", ".join(sorted(profile.directions))
            problems["dcontext"] = [f"{context!r} is not in the profile's directions ({known})"]
    disposition = text(record.get("disposition")).strip().upper()
    if disposition == "ANSWERED":
        return direction, "answered"
    if disposition in NOT_ANSWERED:
        return direction, NOT_ANSWERED[disposition] if direction == "outbound" else "abandoned"
    problems["disposition"] = ["must be ANSWERED, NO ANSWER, BUSY, FAILED or CONGESTION"]
    return direction, ""


def _queue(record: Record, profile: Profile) -> str:
    """Return the queue: the profile's pick, else the queue a `Queue` application named."""
    if profile.queue is not None:
        return profile.queue(record) or ""
    if text(record.get("lastapp")) == "Queue":
        return text(record.get("lastdata")).split(",")[0]
    return ""
