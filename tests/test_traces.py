"""Trace files: the Azure Functions 2019 per-minute format, timestamp,count CSVs, and clear errors."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest

from sleepwake_sim.traces import TraceError, parse_timestamp, parse_trace, read_trace, write_azure

DATA = Path(__file__).parent / "data" / "traces"
T0 = datetime.fromisoformat("2024-05-06T00:00:00+00:00").timestamp()


def test_azure_format_one_endpoint_per_row():
    traces = read_trace(DATA / "azure_small.csv")
    assert [t.name for t in traces] == ["fn-busy", "fn-idle", "fn-once"]
    busy, idle, once = traces
    assert busy.requests == ((0.0, 1), (60.0, 2), (540.0, 3))
    assert (busy.start, busy.end, busy.bin_seconds) == (0.0, 600.0, 60.0)
    assert idle.requests == () and idle.total_requests == 0
    assert once.requests == ((240.0, 5),)


def test_azure_minute_columns_may_be_plain_numbers_and_start_is_movable():
    text = "HashFunction,HashOwner,HashApp,1,2,3\nf,o,a,0,4,0\n"
    (trace,) = parse_trace(text, start=T0)
    assert trace.requests == ((T0 + 60, 4),)
    assert trace.end == T0 + 180


def test_azure_round_trip_through_write_azure():
    buffer = io.StringIO()
    write_azure(buffer, [("f1", "o", "a", [0, 1, 0]), ("f2", "o", "a", [2])])
    traces = parse_trace(buffer.getvalue())
    assert [t.requests for t in traces] == [((60.0, 1),), ((0.0, 2),)]
    assert traces[1].end == 180.0


def test_plain_csv_with_iso_timestamps():
    (trace,) = read_trace(DATA / "hourly_iso.csv")
    assert trace.name == "hourly_iso"
    assert trace.bin_seconds == 3540.0  # the smallest step: 09:00 -> 09:59
    assert trace.start == T0
    assert trace.requests[0] == (T0, 1) and trace.requests[-1] == (T0 + 9 * 3600, 1)
    assert len(trace.requests) == 10  # the zero row only marks the end
    assert trace.end == T0 + 9 * 3600 + 59 * 60 + 3540


def test_plain_csv_with_epoch_seconds_keeps_its_own_bins():
    (trace,) = read_trace(DATA / "epoch_30s.csv")
    assert trace.bin_seconds == 30.0
    assert trace.requests == ((1714953600.0, 2), (1714953660.0, 1), (1714953750.0, 4))
    assert trace.end == 1714953780.0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-05-06T00:00:00Z", T0),
        ("2024-05-06T02:00:00+02:00", T0),
        ("2024-05-06T00:00:00", T0),  # no offset = UTC
        ("2024-05-06 00:00:00z", T0),
        ("1714953600", T0),
        ("1714953600.5", T0 + 0.5),
    ],
)
def test_timestamps(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "name, message",
    [
        ("bad_missing_column.csv", ":3: 5 columns, the header has 6 (missing columns)"),
        ("bad_negative.csv", ":3: count: negative count -2"),
        ("bad_unsorted.csv", ":4: timestamp 2024-05-06T00:03:00Z is not after the previous row's"),
        ("bad_timestamp.csv", ":3: cannot parse timestamp 'yesterday at noon'"),
    ],
)
def test_bad_trace_files_name_the_line(name, message):
    with pytest.raises(TraceError) as error:
        read_trace(DATA / name)
    assert str(error.value).startswith(str(DATA / name))
    assert message in str(error.value)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty trace"),
        ("\n\n", "empty trace"),
        ("a,b,c\n1,2,3\n", ":1: unrecognised header"),
        ("timestamp,count\n", "no rows after the header"),
        ("timestamp,count\n2024-05-06T00:00:00Z,1,7\n", ":2: 3 columns, expected 2"),
        ("timestamp,count\n2024-05-06T00:00:00Z,1.5\n", ":2: count: '1.5' is not a whole number"),
        ("timestamp,count\n2024-05-06T00:00:00Z,many\n", ":2: count: 'many' is not a count"),
        ("timestamp,count\n2024-05-06T00:00:00Z,1\n2024-05-06T00:00:00Z,1\n", ":3: timestamp"),
        ("timestamp,count\nnan,1\n", ":2: timestamp 'nan' is not finite"),
        ("HashFunction,HashOwner,HashApp\n", ":1: no minute columns"),
        ("HashFunction,HashOwner,HashApp,1,3\nf,o,a,0,0\n", ":1: column 5 is '3'; expected minute 2"),
        ("HashFunction,HashOwner,HashApp,1,2\nf,o,a,0,x\n", ":2: minute 2: 'x' is not a count"),
        ("HashFunction,HashOwner,HashApp,1,2\nf,o,a,0,-1\n", ":2: minute 2: negative count -1"),
        ("HashFunction,HashOwner,HashApp,1,2\nf,o,a,0,0,0\n", ":2: 6 columns, the header has 5 (extra columns)"),
        ("HashFunction,HashOwner,HashApp,1\n,o,a,1\n", ":2: empty HashFunction"),
        ("HashFunction,HashOwner,HashApp,1,2\n", ":1: no rows after the header"),
        ("timestamp,count\n0,1\n60," + "1" * 131_073 + "\n", ":3: not readable as CSV"),
        ("timestamp,count\n0,1e308\n", ":2: count: count 1e308 is too large"),
        ("timestamp,count\n0," + "7" * 400 + "\n", ":2: count: count 7777"),
        ("timestamp,count\n1e15,1\n", ":2: timestamp '1e15' is out of range"),
        ("timestamp,count\n9999-12-31T00:00:00Z,1\n", ":2: timestamp '9999-12-31T00:00:00Z' is out of range"),
    ],
)
def test_bad_trace_text(text, message):
    with pytest.raises(TraceError, match=None) as error:
        parse_trace(text, source="t.csv")
    assert message in str(error.value)
    assert str(error.value).startswith("t.csv")


def test_missing_file_is_a_trace_error(tmp_path):
    with pytest.raises(TraceError, match="cannot read"):
        read_trace(tmp_path / "nope.csv")


def test_duplicate_function_names_stay_apart():
    text = "HashFunction,HashOwner,HashApp,1\nf,o,a,1\nf,o,b,2\n"
    names = [t.name for t in parse_trace(text)]
    assert len(set(names)) == 2 and names[0] == "f"
