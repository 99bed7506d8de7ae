"""Invocation traces for the simulator: read, validate, and hand out one endpoint's requests at a time.

Two formats, recognised by the header line:

- Azure Functions 2019 per-minute counts (Shahrad et al., "Serverless in the Wild", USENIX ATC 2020), one row
  per endpoint: `HashFunction,HashOwner,HashApp,1,2,...,1440` (the minute columns may also be spelled
  `1_minute`, ...). Minute column i starts at `start + (i - 1) * 60`.
- A plain CSV of `timestamp,count` rows for one endpoint (any header names, exactly two columns). Timestamps
  are ISO 8601 (a time zone offset or `Z`; none means UTC) or epoch seconds, strictly increasing. Each row is
  a bin that starts at its timestamp; the bin width is the smallest step between rows (60 s for one row), and
  the trace ends one bin width after the last row.

Counts are whole numbers from 0 to MAX_COUNT; timestamps lie between MIN_TIMESTAMP and MAX_TIMESTAMP (years
1900 to 9000, so calendars such as keep-warm schedules can work on them). Anything else, a CSV field over
Python's field limit included, fails with `TraceError`, which names the file and line.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from sleepwake.domain.simulation import EndpointTrace

AZURE_KEY_COLUMNS = ("HashFunction", "HashOwner", "HashApp")
# A trillion requests in one bin is far beyond any real trace and far below what floats count exactly.
MAX_COUNT = 10**12
MIN_TIMESTAMP = -2208988800.0  # 1900-01-01T00:00:00Z
MAX_TIMESTAMP = 221845392000.0  # 9000-01-01T00:00:00Z
_MINUTE_COLUMN = re.compile(r"^(\d+)(?:_minute)?$")


class TraceError(ValueError):
    """A trace that cannot be read; the message names the file and line."""


def read_trace(path: str | Path, *, start: float = 0.0) -> list[EndpointTrace]:
    """All endpoints of the trace file at `path`; `start` is the epoch time of minute 1 of an Azure file."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(iter_trace(handle, source=str(path), start=start))
    except OSError as exc:
        raise TraceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise TraceError(f"{path}: not a UTF-8 text file ({exc.reason})") from None


def parse_trace(text: str, *, source: str = "<trace>", start: float = 0.0) -> list[EndpointTrace]:
    return list(iter_trace(io.StringIO(text), source=source, start=start))


class _Rows:
    """`csv.reader` whose errors (a field over the module's size limit, a NUL byte) are `TraceError`s with the
    line number."""

    def __init__(self, handle: TextIO, source: str) -> None:
        self._reader = csv.reader(handle)
        self._source = source

    @property
    def line_num(self) -> int:
        return self._reader.line_num

    def __iter__(self) -> "_Rows":
        return self

    def __next__(self) -> list[str]:
        try:
            return next(self._reader)
        except csv.Error as exc:
            raise TraceError(f"{self._source}:{self._reader.line_num}: not readable as CSV: {exc}") from None


def iter_trace(handle: TextIO, *, source: str = "<trace>", start: float = 0.0) -> Iterator[EndpointTrace]:
    reader = _Rows(handle, source)
    header: list[str] | None = None
    header_line = 0
    for row in reader:
        if row and any(cell.strip() for cell in row):
            header, header_line = [cell.strip() for cell in row], reader.line_num
            break
    if header is None:
        raise TraceError(f"{source}: empty trace: expected a header line")
    header[0] = header[0].lstrip("\ufeff")
    if tuple(header[:3]) == AZURE_KEY_COLUMNS:
        yield from _azure(reader, header, header_line, source, start)
    elif len(header) == 2:
        yield _plain(reader, header, source)
    else:
        raise TraceError(
            f"{source}:{header_line}: unrecognised header {','.join(header[:5])}{',...' if len(header) > 5 else ''}:"
            f" expected {','.join(AZURE_KEY_COLUMNS)},1,2,... (Azure Functions 2019) or timestamp,count"
        )


def _azure(
    reader: Iterable[list[str]], header: list[str], header_line: int, source: str, start: float
) -> Iterator[EndpointTrace]:
    minute_columns = header[3:]
    if not minute_columns:
        raise TraceError(f"{source}:{header_line}: no minute columns after {','.join(AZURE_KEY_COLUMNS)}")
    for index, column in enumerate(minute_columns, start=1):
        match = _MINUTE_COLUMN.match(column)
        if not match or int(match.group(1)) != index:
            raise TraceError(
                f"{source}:{header_line}: column {index + 3} is {column!r}; expected minute {index}"
                f" ({index} or {index}_minute)"
            )
    width = len(header)
    minutes = len(minute_columns)
    end = start + minutes * 60.0
    if not (start >= MIN_TIMESTAMP and end <= MAX_TIMESTAMP):
        raise TraceError(
            f"{source}:{header_line}: the trace would run from {start:g} to {end:g} (epoch seconds),"
            f" outside years 1900-9000"
        )
    rows = 0
    seen: set[str] = set()
    line_num = getattr(reader, "line_num", 0)
    for row in reader:
        line_num = getattr(reader, "line_num", line_num + 1)
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            raise TraceError(
                f"{source}:{line_num}: {len(row)} columns, the header has {width}"
                f" ({'missing' if len(row) < width else 'extra'} columns)"
            )
        name = row[0].strip()
        if not name:
            raise TraceError(f"{source}:{line_num}: empty HashFunction")
        if name in seen:
            name = f"{name}#{line_num}"
        seen.add(name)
        requests = []
        for index, cell in enumerate(row[3:]):
            if cell == "0":
                continue
            count = _count(cell, source, line_num, f"minute {index + 1}")
            if count:
                requests.append((start + index * 60.0, count))
        rows += 1
        yield EndpointTrace(name=name, start=start, end=end, bin_seconds=60.0, requests=tuple(requests))
    if not rows:
        raise TraceError(
            f"{source}:{header_line}: no rows after the header (an Azure-format trace needs one row per endpoint)"
        )


def _plain(reader: Iterable[list[str]], header: list[str], source: str) -> EndpointTrace:
    rows: list[tuple[float, int]] = []
    line_num = 0
    previous: float | None = None
    min_step = math.inf
    for row in reader:
        line_num = getattr(reader, "line_num", line_num + 1)
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            raise TraceError(f"{source}:{line_num}: {len(row)} columns, expected 2 (timestamp,count)")
        when = parse_timestamp(row[0], source, line_num)
        count = _count(row[1], source, line_num, "count")
        if previous is not None:
            if when <= previous:
                raise TraceError(
                    f"{source}:{line_num}: timestamp {row[0].strip()} is not after the previous row's;"
                    " rows must be sorted by time, without repeats"
                )
            min_step = min(min_step, when - previous)
        previous = when
        rows.append((when, count))
    if not rows:
        raise TraceError(f"{source}: no rows after the header")
    bin_seconds = 60.0 if min_step == math.inf else min_step
    name = Path(source).stem if source and not source.startswith("<") else "endpoint"
    return EndpointTrace(
        name=name,
        start=rows[0][0],
        end=rows[-1][0] + bin_seconds,
        bin_seconds=bin_seconds,
        requests=tuple((when, count) for when, count in rows if count),
    )


def parse_timestamp(text: str, source: str = "<trace>", line_num: int = 0) -> float:
    """Epoch seconds from ISO 8601 (no offset = UTC) or a number of epoch seconds."""
    raw = text.strip()
    try:
        value = float(raw)
    except ValueError:
        pass
    else:
        if not math.isfinite(value):
            raise TraceError(f"{source}:{line_num}: timestamp {raw!r} is not finite")
        return _in_range(value, raw, source, line_num)
    iso = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise TraceError(
            f"{source}:{line_num}: cannot parse timestamp {raw!r}: expected ISO 8601"
            " (2024-05-01T09:30:00Z) or epoch seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _in_range(moment.timestamp(), raw, source, line_num)


def _in_range(value: float, raw: str, source: str, line_num: int) -> float:
    if not MIN_TIMESTAMP <= value <= MAX_TIMESTAMP:
        raise TraceError(
            f"{source}:{line_num}: timestamp {raw[:40]!r} is out of range: expected a time between"
            " the years 1900 and 9000"
        )
    return value


def _count(cell: str, source: str, line_num: int, what: str) -> int:
    raw = cell.strip()
    try:
        count = int(raw)
    except ValueError:
        try:
            number = float(raw)
        except ValueError:
            raise TraceError(f"{source}:{line_num}: {what}: {raw[:40]!r} is not a count") from None
        if not math.isfinite(number) or number != int(number):
            raise TraceError(f"{source}:{line_num}: {what}: {raw[:40]!r} is not a whole number") from None
        count = int(number)
    if count < 0:
        raise TraceError(f"{source}:{line_num}: {what}: negative count {raw[:40]}")
    if count > MAX_COUNT:
        raise TraceError(
            f"{source}:{line_num}: {what}: count {raw[:40]}{'...' if len(raw) > 40 else ''} is too"
            f" large (at most {MAX_COUNT:,} requests a bin)"
        )
    return count


def write_azure(handle: TextIO, traces: list[tuple[str, str, str, list[int]]], *, minute_suffix: str = "") -> None:
    """Write rows (function, owner, app, per-minute counts) in the Azure Functions 2019 column format; the
    published files name their minute columns `1_minute`, ... (`minute_suffix="_minute"`)."""
    minutes = max((len(counts) for *_, counts in traces), default=0)
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow([*AZURE_KEY_COLUMNS, *(f"{i}{minute_suffix}" for i in range(1, minutes + 1))])
    for function, owner, app, counts in traces:
        writer.writerow([function, owner, app, *counts, *([0] * (minutes - len(counts)))])
