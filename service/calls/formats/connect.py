"""Amazon Connect contact records: one JSON object per line (as Kinesis Firehose writes them)
or a JSON array. A record repeats as the contact is updated: the latest
`LastUpdateTimestamp` of a `ContactId` is the one read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import IO

from service.calls.formats.reading import (
    Mapped,
    Pick,
    Profile,
    Record,
    json_records,
    offset_instant,
    text,
    value_at,
    whole_seconds,
)

COLUMNS = ("ContactId", "Channel", "InitiationMethod", "InitiationTimestamp",
           "DisconnectTimestamp", "LastUpdateTimestamp", "Agent.Username", "Agent.ARN",
           "Agent.RoutingProfile.Name", "Agent.HierarchyGroups.Level1.GroupName",
           "Agent.HierarchyGroups.Level2.GroupName", "Agent.AgentInteractionDuration",
           "Agent.AfterContactWorkDuration", "Queue.Name", "Queue.ARN", "Queue.Duration",
           "SystemEndpoint.Address", "DisconnectReason")  # fmt: skip
# A contact attribute set by the flow may carry the agent or the queue too.
ATTRIBUTES = "Attributes."
DEFAULT_AGENT = Pick("Agent.Username", re.compile(r"^(.+)$"))
DEFAULT_QUEUE = Pick("Queue.Name", re.compile(r"^(.+)$"))
DIRECTIONS = {"INBOUND": "inbound", "OUTBOUND": "outbound"}
SOURCES = {"call_ref": "ContactId", "call_at": "InitiationTimestamp",
           "direction": "InitiationMethod", "duration_s": "DisconnectTimestamp",
           "outcome": "Agent", "wait_s": "Queue.Duration",
           "handle_s": "Agent.AgentInteractionDuration"}  # fmt: skip


def known_column(name: str) -> bool:
    return name in COLUMNS or (name.startswith(ATTRIBUTES) and len(name) > len(ATTRIBUTES))


def _updated(record: Record) -> datetime | None:
    instant = offset_instant(record.get("LastUpdateTimestamp"))
    return instant if isinstance(instant, datetime) else None


def records(stream: IO[bytes], max_bytes: int | None) -> Iterator[tuple[int, Record]]:
    """Yield (record number, record) of each contact's latest record.

    The file is read twice: once to find each contact's latest record (ties: the later one in
    the file), once to yield those.
    """
    latest: dict[str, tuple[datetime | None, int]] = {}
    for number, record in json_records(stream, max_bytes):
        contact = text(record.get("ContactId"))
        updated = _updated(record)
        kept = latest.get(contact)
        if kept is None or kept[0] is None or (updated is not None and updated >= kept[0]):
            latest[contact] = (updated, number)
    stream.seek(0)
    for number, record in json_records(stream, max_bytes):
        if latest.get(text(record.get("ContactId")), (None, number))[1] == number:
            yield number, record


def _duration(started: datetime | str, said: object, problems: dict[str, list[str]]) -> str:
    """Return the seconds from the contact's start to its end, when both are known."""
    ended = offset_instant(said)
    if not (isinstance(started, datetime) and isinstance(ended, datetime)):
        return ""
    if ended < started:
        problems["DisconnectTimestamp"] = ["is before InitiationTimestamp"]
        return ""
    return str(int((ended - started).total_seconds() + 0.5))


def _agent_and_outcome(
    record: Record, profile: Profile, direction: str | None, problems: dict[str, list[str]]
) -> tuple[str, str]:
    """Return the agent and how the contact ended: answered when an agent took it,
    abandoned when it was queued and none did."""
    if isinstance(record.get("Agent"), dict):
        agent = profile.agent(record) or ""
        if not agent:
            problems.setdefault(profile.agent.field, []).append(
                f"no agent found by the pattern {profile.agent.pattern.pattern!r}"
            )
        return agent, "answered"
    if direction == "outbound":
        return "", "no_answer"
    if isinstance(record.get("Queue"), dict):
        return "", "abandoned"
    problems["Queue"] = ["the contact reached no queue and no agent: it is not a call offered"]
    return "", ""


def convert(record: Record, profile: Profile) -> Mapped:
    """Map one contact record onto the log's fields."""
    problems: dict[str, list[str]] = {}
    channel = text(record.get("Channel"))
    if channel not in ("", "VOICE"):
        problems["Channel"] = [f"is {channel}: only VOICE contacts are calls"]
    method = text(record.get("InitiationMethod"))
    direction = DIRECTIONS.get(method)
    if direction is None:
        problems["InitiationMethod"] = [
            f"must be INBOUND or OUTBOUND ({method or 'nothing'} is not logged)"
        ]
    started = offset_instant(record.get("InitiationTimestamp"))
    if isinstance(started, str):
        problems["InitiationTimestamp"] = [started]
    duration = _duration(started, record.get("DisconnectTimestamp"), problems)
    agent, outcome = _agent_and_outcome(record, profile, direction, problems)
    wait = whole_seconds(value_at(record, "Queue.Duration"))
    talk = whole_seconds(value_at(record, "Agent.AgentInteractionDuration"))
    after = whole_seconds(value_at(record, "Agent.AfterContactWorkDuration"))
    for name, value in (("Queue.Duration", wait), ("Agent.AgentInteractionDuration", talk),
                        ("Agent.AfterContactWorkDuration", after)):  # fmt: skip
        if value is None:
            problems[name] = ["must be a number of seconds"]
    if problems:
        return {}, problems
    assert isinstance(started, datetime) and direction is not None
    handle = ""
    if outcome == "answered" and (talk or after):
        handle = str(int(talk or 0) + int(after or 0))
    queue_pick = profile.queue or DEFAULT_QUEUE
    return {
        "call_ref": text(record.get("ContactId")),
        "call_at": started.isoformat(),
        "agent_ref": agent,
        "queue": queue_pick(record) or "",
        "direction": direction,
        "duration_s": duration,
        "outcome": outcome,
        "wait_s": wait or "",
        "handle_s": handle,
    }, {}
