"""Surveys and the client's count (DESIGN §16): written by the client (or an admin) only, the
customer's voice never coming from the party it pays; read by both parties."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.calls import normalize_call_ref
from contracts.periods import YEARS, Period
from service.agreements.models import Contract
from service.agreements.service import get_contract, lock_contracts
from service.calls.models import Call
from service.database.engine import utcnow
from service.edge.actors import Actor
from service.edge.errors import Conflict, Invalid, Location
from service.edge.paging import Page, page_of
from service.edge.schemas import unstorable
from service.surveys.models import ClientCount, ClientCountChange, SurveyAnswer

MAX_BATCH = 10_000
MAX_FILE_ROWS = 10_000  # blank lines count
MAX_LINE_LENGTH = 2_000
COLUMNS = ("call_ref", "answered_at", "csat", "resolved", "nps")
CONTENT = ("answered_at", "csat", "resolved", "nps")
TRUE_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def writable(session: Session, actor: Actor, contract_id: int) -> Contract:
    """Return a contract the caller writes surveys and counts of, locked: 404 outside it, and
    403 unless the caller is the client (or an admin)."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    actor.require("client")
    lock_contracts(session, [contract.id], "surveys")
    return contract


@dataclass(frozen=True, slots=True)
class Sent:
    """What a batch of surveys did: answers new, and answers held already the same."""

    created: int
    unchanged: int


def send_surveys(
    *, session: Session, actor: Actor, contract_id: int, surveys: Sequence[Any]
) -> Sent:
    """Store a batch of survey answers, all or nothing; each bad answer named by index."""
    contract = writable(session, actor, contract_id)
    return _store(session, actor, contract, list(enumerate(surveys)), from_text=False)


def upload_surveys(*, session: Session, actor: Actor, contract_id: int, stream: IO[bytes]) -> Sent:
    """Store a CSV file of survey answers (columns COLUMNS), all or nothing, by row number."""
    contract = writable(session, actor, contract_id)
    return _store(session, actor, contract, _rows(stream), from_text=True)


def _rows(stream: IO[bytes]) -> list[tuple[int, dict[str, str]]]:
    """Read a CSV file of surveys: rows numbered as a spreadsheet shows them (header 1)."""
    try:
        text = stream.read(MAX_FILE_ROWS * MAX_LINE_LENGTH + 1).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refused("the file is not UTF-8 text; save it as CSV UTF-8") from None
    lines = text.splitlines()
    if len(lines) > MAX_FILE_ROWS + 1:
        raise _refused(f"the file has more than {MAX_FILE_ROWS:,} rows (blank lines count)")
    if any(len(line) > MAX_LINE_LENGTH for line in lines) or "\x00" in text:
        raise _refused(f"a line is longer than {MAX_LINE_LENGTH:,} characters, or holds a NUL")
    try:
        records = list(csv.reader(lines, strict=True))
    except csv.Error as error:
        raise _refused(f"the file is not readable CSV: {error}") from None
    if not records:
        raise _refused("the file is empty: its first row names the columns")
    names = [name.strip() for name in records[0]]
    unknown = [name for name in names if name not in COLUMNS]
    missing = [name for name in ("call_ref", "answered_at", "csat") if name not in names]
    if unknown or missing or len(set(names)) != len(names):
        raise _refused(
            f"the header must name the columns {', '.join(COLUMNS)}"
            f" (unknown: {', '.join(unknown) or 'none'}; missing: {', '.join(missing) or 'none'})"
        )
    rows = [
        (number, dict(zip(names, cells, strict=False)))
        for number, cells in enumerate(records[1:], start=2)
        if cells
    ]
    if not rows:
        raise _refused("the file has no survey answers under its header")
    return rows


def _refused(said: str) -> Invalid:
    return Invalid(f"no survey answer was stored: {said}", {"file": [said]}, location="files")


@dataclass(frozen=True, slots=True)
class _Batch:
    """Where a batch's problems are reported: the JSON body's `surveys`, or the file's rows."""

    location: Location
    field: str

    def refuse(self, kind: type[Invalid] | type[Conflict], message: str, errors: Any) -> None:
        raise kind(f"no survey answer was stored: {message}", {self.field: errors},
                   location=self.location)  # fmt: skip


def _store(
    session: Session,
    actor: Actor,
    contract: Contract,
    records: Sequence[tuple[int, Any]],
    *,
    from_text: bool,
) -> Sent:
    batch = _Batch("files", "file") if from_text else _Batch("json", "surveys")
    checked = _checked(batch, records, from_text)
    refs = [answer["call_ref"] for _, answer in checked]
    calls = _calls(session, contract.id, refs)
    stored = {
        answer.call_ref: answer
        for answer in session.scalars(
            select(SurveyAnswer).where(
                SurveyAnswer.contract_id == contract.id, SurveyAnswer.call_ref.in_(refs)
            )
        )
    }
    errors: dict[int, dict[str, list[str]]] = {}
    clashes: dict[int, dict[str, list[str]]] = {}
    new: list[SurveyAnswer] = []
    for where, answer in checked:
        call = calls.get(answer["call_ref"])
        problem = _against_the_log(call, answer)
        held = stored.get(answer["call_ref"])
        if problem is not None:
            errors[where] = problem
        elif held is None:
            assert call is not None
            new.append(SurveyAnswer(contract_id=contract.id, period=call.period, **answer,
                                    created_by=actor.recorded_user_id))  # fmt: skip
        elif any(getattr(held, name) != answer[name] for name in CONTENT):
            clashes[where] = {"call_ref": [
                f"call {answer['call_ref']!r} has a survey answer with other content (answer"
                f" {held.id}); one answer per call"
            ]}  # fmt: skip
    if errors:
        batch.refuse(Invalid, "fix every answer listed", errors)
    if clashes:
        batch.refuse(Conflict, "these calls have answers with other content", clashes)
    session.add_all(new)
    session.flush()
    return Sent(len(new), len(checked) - len(new))


def _checked(
    batch: _Batch, records: Sequence[tuple[int, Any]], from_text: bool
) -> list[tuple[int, dict[str, Any]]]:
    """Check every answer's fields, and that no call is rated twice in the batch."""
    errors: dict[int, dict[str, list[str]]] = {}
    checked: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for where, record in records:
        answer, problems = _check(record, from_text)
        if answer is not None and answer["call_ref"] in seen:
            problems["call_ref"] = [f"repeats {seen[answer['call_ref']]} of this batch"]
        if problems:
            errors[where] = problems
        elif answer is not None:
            seen[answer["call_ref"]] = where
            checked.append((where, answer))
    if errors:
        batch.refuse(Invalid, "fix every answer listed", errors)
    return checked


def _calls(session: Session, contract_id: int, refs: list[str]) -> dict[str, Call]:
    """Return the logged calls of some references (the earliest, where one is logged twice)."""
    found: dict[str, Call] = {}
    query = select(Call).where(Call.contract_id == contract_id, Call.call_ref.in_(refs))
    for call in session.scalars(query.order_by(Call.call_at)):
        found.setdefault(call.call_ref, call)
    return found


def _against_the_log(call: Call | None, answer: Mapping[str, Any]) -> dict[str, list[str]] | None:
    if call is None:
        return {"call_ref": ["is not in the call log: a survey rates a logged call"]}
    if call.outcome != "answered":
        return {"call_ref": [f"the call was {call.outcome}, not answered: nobody served it"]}
    if answer["answered_at"] < call.call_at:
        return {"answered_at": [f"is before the call, at {call.call_at.isoformat()}"]}
    return None


def _check(record: Any, from_text: bool) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """Check one answer's fields; return them, or the problems by field."""
    if not isinstance(record, Mapping):
        return None, {"_schema": ["must be an object"]}
    problems: dict[str, list[str]] = {}
    for name in record:
        if name not in COLUMNS:
            problems[str(name)] = ["unknown field"]
    call_ref = _call_ref(record.get("call_ref"), problems)
    answered_at = _instant(record.get("answered_at"), problems)
    csat = _number(record.get("csat"), "csat", 1, 5, problems, from_text, required=True)
    nps = _number(record.get("nps"), "nps", 0, 10, problems, from_text, required=False)
    resolved = _flag(record.get("resolved"), problems, from_text)
    if problems:
        return None, problems
    return {"call_ref": call_ref, "answered_at": answered_at, "csat": csat,
            "resolved": resolved, "nps": nps}, problems  # fmt: skip


def _absent(value: Any) -> bool:
    return value is None or value == ""


def _call_ref(value: Any, problems: dict[str, list[str]]) -> str | None:
    if _absent(value) or not isinstance(value, str) or not normalize_call_ref(value):
        problems["call_ref"] = ["is required, as text"]
        return None
    ref = normalize_call_ref(value)
    why = unstorable(ref) or ("must be at most 200 characters" if len(ref) > 200 else None)
    if why is not None:
        problems["call_ref"] = [why]
        return None
    return ref


def _instant(value: Any, problems: dict[str, list[str]]) -> datetime | None:
    said = "must be an ISO 8601 time with an offset, such as 2026-10-14T10:30:00+02:00"
    try:
        instant = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None or instant.year not in YEARS:
        problems["answered_at"] = ["is required" if _absent(value) else said]
        return None
    return instant


def _number(
    value: Any, name: str, low: int, high: int, problems: dict[str, list[str]],
    from_text: bool, *, required: bool,
) -> int | None:  # fmt: skip
    if _absent(value):
        if required:
            problems[name] = ["is required"]
        return None
    if from_text and isinstance(value, str):
        number = int(value) if value.strip().isascii() and value.strip().isdigit() else None
    else:
        number = value if type(value) is int else None
    if number is None or not low <= number <= high:
        problems[name] = [f"must be a whole number from {low} to {high}"]
        return None
    return number


def _flag(value: Any, problems: dict[str, list[str]], from_text: bool) -> bool | None:
    if _absent(value):
        return None
    if from_text and isinstance(value, str) and value.strip().lower() in TRUE_WORDS:
        return TRUE_WORDS[value.strip().lower()]
    if isinstance(value, bool):
        return value
    problems["resolved"] = ["must be true or false"]
    return None


def surveys_page(
    *, session: Session, actor: Actor, contract_id: int, number: int, size: int,
    period: Period | None = None,
) -> Page[SurveyAnswer]:  # fmt: skip
    """Return page `number` of a contract's survey answers (of one month's calls)."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    query = select(SurveyAnswer).where(SurveyAnswer.contract_id == contract.id)
    if period is not None:
        query = query.where(SurveyAnswer.period == period)
    return page_of(session, query, number, size, SurveyAnswer.answered_at, SurveyAnswer.id)


# The client's count --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counts:
    contract_id: int
    period: Period | None
    offered: int
    days: list[ClientCount]
    changes: list[ClientCountChange]


def put_count(
    *, session: Session, actor: Actor, contract_id: int, day: date, offered: int
) -> tuple[ClientCount, bool]:
    """Set the client's count of calls offered on a day; keep the change. Return the day and
    whether it changed."""
    contract = writable(session, actor, contract_id)
    row = session.scalar(
        select(ClientCount).where(ClientCount.contract_id == contract.id, ClientCount.day == day)
    )
    if row is not None and row.offered == offered:
        return row, False
    now = utcnow()
    session.add(
        ClientCountChange(
            contract_id=contract.id, day=day, previous=None if row is None else row.offered,
            offered=offered, changed_at=now, changed_by=actor.recorded_user_id,
        )
    )  # fmt: skip
    if row is None:
        row = ClientCount(contract_id=contract.id, day=day)
        session.add(row)
    row.offered, row.updated_at, row.updated_by = offered, now, actor.recorded_user_id
    session.flush()
    return row, True


def read_counts(
    *, session: Session, actor: Actor, contract_id: int, period: Period | None = None
) -> Counts:
    """Return the client's daily counts (of one month, or all) and their history."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    days = select(ClientCount).where(ClientCount.contract_id == contract.id)
    changes = select(ClientCountChange).where(ClientCountChange.contract_id == contract.id)
    if period is not None:
        days = days.where(ClientCount.day >= period.first_day, ClientCount.day < period.end_day)
        changes = changes.where(
            ClientCountChange.day >= period.first_day, ClientCountChange.day < period.end_day
        )
    listed = list(session.scalars(days.order_by(ClientCount.day)))
    return Counts(
        contract.id, period, sum(row.offered for row in listed), listed,
        list(session.scalars(changes.order_by(ClientCountChange.id))),
    )  # fmt: skip
