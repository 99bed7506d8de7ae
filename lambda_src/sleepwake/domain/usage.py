"""What the manager remembers of an endpoint's recent use, for the savings report (sleepwake.domain.report).

Three compact logs on the endpoint's record, each a string of `a:b` pairs separated by commas (small in DynamoDB,
no number conversions), keeping yesterday and today (UTC) only:

- `activity_log`: `minute:requests`, the requests of each active minute (minute = its start, epoch seconds), as
  the tick folds them into the idle history: the per-minute trace the simulator replays;
- `periods_log`: `start:end`, closed billed periods (wake started -> deleted or gone);
- `wakes_log`: `start:seconds`, measured wakes (wake started -> InService).
"""

from __future__ import annotations

DAY = 86400.0
KEEP_DAYS = 2  # today and yesterday


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def parse(log: str | None) -> list[tuple[float, float]]:
    """The pairs of a log, in order. A malformed log raises ValueError (a corrupt record is reported)."""
    if not log:
        return []
    pairs = []
    for entry in log.split(","):
        a, sep, b = entry.partition(":")
        if not sep:
            raise ValueError(f"malformed usage log entry {entry[:40]!r}")
        pairs.append((float(a), float(b)))
    return pairs


def horizon(now: float) -> float:
    """Entries before this are dropped: the start of yesterday (UTC)."""
    return now - now % DAY - (KEEP_DAYS - 1) * DAY


def _write(pairs: list[tuple[float, float]]) -> str | None:
    return ",".join(f"{_num(a)}:{_num(b)}" for a, b in pairs) or None


def add_requests(log: str | None, at: float, requests: int, now: float) -> str | None:
    """Add `requests` to the minute of `at`; drop what is older than yesterday."""
    minute = at - at % 60
    pairs = [(a, b) for a, b in parse(log) if a >= horizon(now)]
    if pairs and pairs[-1][0] == minute:
        pairs[-1] = (minute, pairs[-1][1] + requests)
    else:
        pairs.append((minute, float(requests)))
        pairs.sort()
    return _write(pairs)


def add_pair(log: str | None, first: float, second: float, now: float, *, keep_by_end: bool = False) -> str | None:
    """Append (first, second); drop entries older than yesterday (by their end for periods)."""
    edge = horizon(now)
    pairs = [(a, b) for a, b in parse(log) if (b if keep_by_end else a) >= edge]
    pairs.append((first, second))
    return _write(pairs)
