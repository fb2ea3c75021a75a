"""Twilio's Call resource as exported: a CSV with the resource's field names as its header,
or the resources as JSON (lines or an array)."""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import IO

from service.calls.formats.reading import (
    Mapped,
    Pick,
    Profile,
    Record,
    csv_records,
    json_records,
    offset_instant,
    text,
    whole_seconds,
)

COLUMNS = ("sid", "account_sid", "parent_call_sid", "date_created", "date_updated", "to",
           "to_formatted", "from", "from_formatted", "phone_number_sid", "status",
           "start_time", "end_time", "duration", "price", "price_unit", "direction",
           "answered_by", "forwarded_from", "group_sid", "caller_name", "queue_time",
           "trunk_sid", "uri", "api_version", "annotation")  # fmt: skip
# A call a Twilio Client or a SIP endpoint answered names it in `to`: client:anna is anna.
DEFAULT_AGENT = Pick("to", re.compile(r"^(?:client:|sip:)([^@;]+)"))
DIRECTIONS = {"inbound": "inbound", "outbound-api": "outbound", "outbound-dial": "outbound"}
NOT_ANSWERED = {"no-answer": "no_answer", "busy": "busy", "failed": "failed",
                "canceled": "no_answer"}  # fmt: skip
SOURCES = {"call_ref": "sid", "call_at": "start_time", "direction": "direction",
           "duration_s": "duration", "outcome": "status", "wait_s": "queue_time",
           "handle_s": "duration"}  # fmt: skip


def records(stream: IO[bytes], max_bytes: int | None) -> Iterator[tuple[int, Record]]:
    """Yield (row, record): JSON when the file starts with `[` or `{`, else CSV."""
    head = stream.read(4096)
    stream.seek(0)
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=stream) as unpacked:
                head = unpacked.read(4096)
        except (OSError, EOFError, zlib.error):
            head = b""  # reading it as CSV says the file is not readable gzip
        stream.seek(0)
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start in (b"[", b"{"):
        return json_records(stream, max_bytes)
    return csv_records(stream, max_bytes)


def _start(said: str) -> datetime | str:
    """Read `start_time`: RFC 2822 as the API writes it, or ISO 8601 with an offset."""
    try:
        instant = parsedate_to_datetime(said)
    except (TypeError, ValueError):
        return offset_instant(said)
    if instant.tzinfo is None:
        return "must be a time with an offset, such as Tue, 03 Nov 2026 08:30:00 +0000"
    return instant


def convert(record: Record, profile: Profile) -> Mapped:
    """Map one Call resource onto the log's fields."""
    problems: dict[str, list[str]] = {}
    said = text(record.get("direction"))
    direction = DIRECTIONS.get(said)
    if direction is None:
        problems["direction"] = [f"must be one of {', '.join(DIRECTIONS)}"]
    started = _start(text(record.get("start_time")))
    if isinstance(started, str):
        problems["start_time"] = [started]
    status = text(record.get("status"))
    if status == "completed":
        outcome = "answered"
    elif status in NOT_ANSWERED:
        outcome = NOT_ANSWERED[status] if direction == "outbound" else "abandoned"
    else:
        outcome = ""
        problems["status"] = [
            f"must be completed, {', '.join(NOT_ANSWERED)} (a call {status or 'without one'}"
            " has not ended)"
        ]
    agent = profile.agent(record) or ""
    if outcome == "answered" and not agent:
        problems.setdefault(profile.agent.field, []).append(
            f"no agent found by the pattern {profile.agent.pattern.pattern!r}"
        )
    duration = whole_seconds(record.get("duration"))
    wait = whole_seconds(record.get("queue_time"), scale=1000)  # milliseconds
    for name, value in (("duration", duration), ("queue_time", wait)):
        if value is None:
            problems[name] = ["must be a whole number"]
    if problems:
        return {}, problems
    assert isinstance(started, datetime)
    queue = (profile.queue(record) or "") if profile.queue is not None else ""
    return {
        "call_ref": text(record.get("sid")),
        "call_at": started.isoformat(),
        "agent_ref": "" if outcome == "abandoned" else agent,
        "queue": queue,
        "direction": direction or "",
        "duration_s": duration or "",
        "outcome": outcome,
        "wait_s": wait or "",
        "handle_s": (duration or "") if outcome == "answered" else "",
    }, {}
