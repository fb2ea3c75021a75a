"""The call log's fast way (a native CSV COPYed raw and checked in SQL, PostgreSQL) answers
every file as the slow way (Python's csv and `check_call`) does: it stores the same calls,
and a file it does not pass goes the slow way, which says what is wrong with it."""

from __future__ import annotations

import gzip
import io
import itertools
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from service.calls import ingest
from service.calls.models import Call
from service.calls.rows import COLUMNS
from tests.api.test_calls import calls, csv_of
from tests.conftest import World, json_of

pytestmark = pytest.mark.postgresql

STORED = ("call_ref", "call_at", "agent_ref", "team", "queue", "direction", "duration_s",
          "outcome", "wait_s", "handle_s", "caller_ref", "period")  # fmt: skip


def upload(client: FlaskClient, world: World, content: bytes, key: str) -> Any:
    who = {"contract": "supplier", "other_contract": "other_supplier"}[key]
    return client.post(
        f"/api/v1/contracts/{world.ids[key]}/calls/upload",
        data={"file": (io.BytesIO(content), "calls.csv")},
        headers=world.headers(who),
    )


def stored(app: Flask, contract_id: int) -> list[tuple[Any, ...]]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        columns = [getattr(Call, name) for name in STORED]
        query = select(*columns).where(Call.contract_id == contract_id).order_by(Call.call_ref)
        return [tuple(row) for row in session.execute(query)]


class Ways:
    """Uploads a file both ways: the fast way to `contract`, the slow way (the fast way
    turned off) to `other_contract`, whose terms are the same; counts fast ways taken."""

    def __init__(self, app: Flask, client: FlaskClient, world: World, monkeypatch: Any) -> None:
        self.app, self.client, self.world = app, client, world
        self.fast = 0
        real = ingest.log_raw_file

        def counted(**arguments: Any) -> Any:
            if arguments["calendar"].contract.id != world.ids["contract"]:
                return None  # the slow way
            logged = real(**arguments)
            self.fast += logged is not None
            return logged

        monkeypatch.setattr(ingest, "log_raw_file", counted)

    def both(self, content: bytes) -> tuple[Any, Any]:
        fast = upload(self.client, self.world, content, "contract")
        slow = upload(self.client, self.world, content, "other_contract")
        return fast, slow

    def same(self, content: bytes) -> Any:
        """Upload `content` both ways; check the answers and the logs agree; return the fast
        way's answer."""
        fast, slow = self.both(content)
        assert (fast.status_code, json_of(fast)) == (slow.status_code, json_of(slow))
        assert stored(self.app, self.world.ids["contract"]) == stored(
            self.app, self.world.ids["other_contract"]
        )
        return fast


@pytest.fixture
def ways(app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch) -> Ways:
    return Ways(app, client, world, monkeypatch)


def test_a_good_file_goes_the_fast_way_and_stores_what_the_slow_way_stores(ways: Ways) -> None:
    records = calls(30)
    records[3] = records[3] | {"outcome": "abandoned", "agent_ref": "", "wait_s": 40}
    records[5] = records[5] | {"call_at": "2026-11-05T09:00:00.250Z", "caller_ref": "k-9f3a"}
    records[7] = records[7] | {"team": "", "queue": "", "direction": "", "handle_s": 0}
    answer = ways.same(csv_of(records))
    assert answer.status_code == 201 and json_of(answer)["created"] == 30
    again = ways.same(gzip.compress(csv_of(records)))  # the same calls again: unchanged
    assert json_of(again) == {"created": 0, "unchanged": 30, "rejected": []}
    assert ways.fast == 2


def test_a_file_in_quotes_with_its_columns_in_another_order_goes_the_fast_way(
    ways: Ways,
) -> None:
    names = ["agent_ref", "call_at", "call_ref", "duration_s"]
    lines = [",".join(f'"{name}"' if index else name for index, name in enumerate(names))]
    lines[0] = ",".join(names)
    for number in range(5):
        lines.append(f'"a-{number}","2026-11-04T10:0{number}:00+01:00","Q-{number}","{number}"')
    lines.append('"a ""quoted"" agent","2026-11-04T11:00:00+01:00","Q-9",""')
    answer = ways.same(("\r\n".join(lines) + "\r\n").encode())
    assert json_of(answer)["created"] == 6
    assert ways.fast == 1


@pytest.mark.parametrize(
    "content",
    [
        b'call_ref,call_at,agent_ref\nab"c,2026-11-04T10:00:00+01:00,a-1\n',  # a quote inside
        b"call_ref,call_at,agent_ref\nB-1,2026-11-04T10:00:00+01:00,a-1\n\nB-2,"
        b"2026-11-04T10:00:00+01:00,a-1\n",  # a blank line counts as a row
        b"call_ref,call_at,agent_ref\nB-1,2026-11-04T10:00:00+01:00,a-1\n\\.\n"
        b"B-2,2026-11-04T10:00:00+01:00,a-1\n",  # COPY's end-of-data marker
        b"call_ref,call_at,agent_ref\nB-1,2026-02-30T10:00:00+01:00,a-1\n",  # no such day
        b"call_ref,call_at,agent_ref\nB-1,2036-11-04T10:00:00+01:00,a-1\n",  # in the future
        b"call_ref,call_at,agent_ref\nB-1,2026-06-04T10:00:00+02:00,a-1\n",  # before the terms
        b"call_ref,call_at,agent_ref\nB-1,2026-11-04T10:00:00+01:00\n",  # a field short
        b"call_ref,call_at,agent_ref\nB-1,2026-11-04T10:00:00+01:00,a-1,x\n",  # one too many
        b"call_ref,call_at,agent_ref\nB-1,2026-11-04T10:00:00+01:00,a-1\nB-1,"
        b"2026-11-04T10:00:00+01:00,a-1\n",  # a call twice
        b"call_ref,call_at,agent_ref\n\xef\xbc\xa3-1,2026-11-04T10:00:00+01:00,a-1\n",  # NFKC
        b"call_ref,call_at,agent_ref\n C-1 ,2026-11-04T10:00:00+01:00,a-1\n",  # trimmed
        b"call_ref,call_at,agent_ref\nB-1,2026-11-04T10:00:00+01:00,a-1\r\nB-2,"
        b"2026-11-04T10:00:00+01:00,a-1\n",  # two kinds of line break
        b"call_ref,call_at,agent_ref,caller_ref\nB-1,2026-11-04T10:00:00+01:00,a-1,"
        b"\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6\xd9\xa7\n",  # Arabic-Indic digits
        b"call_ref,call_at,agent_ref\n",  # no call
        b"call_ref,call_at,agent_ref\nB-1,2026-11-04T10:00:00+01:00,a-1\x00\n",  # a NUL
        b"call_ref,call_at,agent_ref\nB-1,2026-11-04T10:00:00+01:00,\xff\n",  # not UTF-8
    ],
)
def test_a_file_the_fast_way_does_not_pass_is_answered_as_the_slow_way_answers(
    ways: Ways, content: bytes
) -> None:
    ways.same(content)


def test_a_file_past_the_row_limit_is_refused_the_slow_way(
    ways: Ways, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.calls import rows

    monkeypatch.setattr(rows, "MAX_FILE_ROWS", 5)
    answer = ways.same(csv_of(calls(6)))
    assert answer.status_code == 422 and ways.fast == 0


TRICKY = {
    "call_ref": ["R", " R", "R ", "", "\uff32", "R\u00e9", "r" * 199],
    "call_at": [
        "2026-11-03T10:00:00+01:00", "2026-11-03T10:00:00Z", "2026-11-03 10:00:00+01:00",
        "2026-11-03T10:00+01:00", "2026-11-03T10:00:00.123+01:00", "2026-11-03T10:00:00",
        "2026-11-03T10:00:00.5+01:00", "2026-11-30T23:30:00-01:00", "1999-12-31T23:00:00Z",
        "2026-11-03T10:00:00+0100", "2026-11-03T24:00:00+01:00", "",
    ],
    "agent_ref": ["a-1", "", " ", "x" * 201, "agent, one"],
    "team": ["t", "", "t" * 201],
    "direction": ["", "inbound", "outbound", "Inbound"],
    "outcome": ["", "answered", "abandoned", "busy", "no_answer", "lost"],
    "duration_s": ["0", "", "120", "604800", "604801", "-1", "1.5", "\uff11", "0001234567"],
    "queue": ["q", "", "billing, east"],
    "wait_s": ["12", ""],
    "handle_s": ["30", "", "x"],
    "caller_ref": ["c-1", "", "1234567", "c-123456", "c\u0661\u0662"],
}  # fmt: skip
serial = itertools.count()


def field(value: str) -> str:
    """Write a CSV field as an exporter would: in quotes where it must be."""
    if any(mark in value for mark in ',"\r\n') or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def files(draw: st.DrawFn) -> bytes:
    names = ["call_ref", "call_at", "agent_ref", *draw(st.sets(st.sampled_from(COLUMNS[3:])))]
    lines = [",".join(names)]
    for _ in range(draw(st.integers(1, 4))):
        # Mostly good values (each list's first), so that many files pass the fast way.
        values = {
            name: draw(st.sampled_from(TRICKY[name])) if draw(st.booleans()) else TRICKY[name][0]
            for name in names
        }
        if values["call_ref"].strip():
            values["call_ref"] += f"-{next(serial)}"  # unique, unless the test repeats one
        lines.append(",".join(field(values[name]) for name in names))
    return ("\n".join(lines) + "\n").encode()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=files())
def test_any_file_is_answered_the_same_either_way(ways: Ways, content: bytes) -> None:
    ways.same(content)
