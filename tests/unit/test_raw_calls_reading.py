"""What sends a calls file the slow way before COPY reads it (service/calls/raw.py)."""

import io

import pytest

from service.calls import raw

HEADER = b"call_ref,call_at,agent_ref\n"
ROW = b"C-1,2026-11-04T10:00:00+01:00,a-1\n"


def read_all(content: bytes) -> bytes:
    return b"".join(raw._chunks(io.BytesIO(content), None))


def test_good_lines_pass_whole_whatever_the_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(raw, "CHUNK", 7)
    content = HEADER + ROW * 5 + b'"C-2","2026-11-04T10:00:00+01:00","a ""one"", two"\n'
    assert read_all(content) == content


@pytest.mark.parametrize("size", [7, 16, len(HEADER + ROW)])
def test_a_blank_line_is_found_wherever_the_chunks_cut(
    monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    monkeypatch.setattr(raw, "CHUNK", size)
    for blank in (b"\n", b"\r\n"):
        with pytest.raises(raw.NotFast, match="blank line"):
            read_all(HEADER + ROW + blank + ROW)


@pytest.mark.parametrize(
    "line", [b'ab"c,2026-11-04T10:00:00+01:00,a-1\n', b'"C-1"x,2026-11-04T10:00:00+01:00,a\n']
)
def test_a_quote_inside_a_field_goes_the_slow_way(line: bytes) -> None:
    with pytest.raises(raw.NotFast, match="quote"):
        read_all(HEADER + line)


def test_copys_end_of_data_marker_goes_the_slow_way() -> None:
    with pytest.raises(raw.NotFast, match="end-of-data"):
        read_all(HEADER + ROW + b"\\.\n" + ROW)


def test_a_line_longer_than_the_slow_way_reads_stops_the_reading_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(raw, "CHUNK", 1 << 16)
    endless = io.BytesIO(HEADER + b"a" * (64 << 20))  # no line break: 64 MB of one line
    chunks = raw._chunks(endless, None)
    with pytest.raises(raw.NotFast, match="longer"):
        for _ in chunks:
            pass
    assert endless.tell() <= raw.LONGEST_LINE + (2 << 16)  # read no further than needed


def test_a_file_past_its_size_goes_the_slow_way_which_refuses_it() -> None:
    with pytest.raises(raw.NotFast, match="too large"):
        b"".join(raw._chunks(io.BytesIO(HEADER + ROW * 100), 1000))
