"""Keep-warm schedules: windows of local time in which an endpoint stays awake whatever its traffic.

Grammar (case-insensitive except for the zone; windows separated by ";"):

    schedule := window (";" window)*
    window   := days " " HH:MM "-" HH:MM [" " zone]
    days     := "daily" | day-item ("," day-item)*        e.g. Mon-Fri | Sat,Sun | Mon,Wed-Fri | daily
    day-item := day | day "-" day                          Mon Tue Wed Thu Fri Sat Sun; ranges wrap (Fri-Mon)
    HH:MM    := 00:00 .. 23:59 (two digits each); the end may also be 24:00
    zone     := an IANA time zone name (Europe/Paris, America/New_York, UTC); default UTC

    "Mon-Fri 09:00-18:00 Europe/Paris; Sat 10:00-12:00 Europe/Paris"

A window belongs to the day it starts. An end that is not after the start runs into the next day: "Fri
22:00-02:00" is Friday 22:00 to Saturday 02:00, and "Mon 09:00-09:00" lasts 24 hours. Times are wall-clock times
in the window's zone, so windows follow daylight saving time. On a spring-forward day a time that does not exist
(02:30 in Europe/Paris) falls after the gap, by as much as the clock jumped (03:30). On a fall-back day an
ambiguous time means its first occurrence. Overlapping or touching windows merge.

`KEEP_WARM_PATTERN` is the same grammar as one regular expression (RE2-compatible, for plan-time validation in
Terraform); it cannot know which zone names exist, which `KeepWarm.parse` checks as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = r"(?:mon|tue|wed|thu|fri|sat|sun)"
_DAYS = rf"(?:daily|{_DAY}(?:-{_DAY})?(?:,{_DAY}(?:-{_DAY})?)*)"
_START = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"
_END = r"(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)"
_ZONE = r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*"
_WINDOW = rf"{_DAYS}\s+{_START}-{_END}(?:\s+{_ZONE})?"
KEEP_WARM_PATTERN = rf"(?i)^\s*{_WINDOW}(?:\s*;\s*{_WINDOW})*\s*$"
_TIME_RANGE = re.compile(rf"^({_START})-({_END})$")
_ZONE_NAME = re.compile(rf"^{_ZONE}$")

VALID_EXAMPLES = (
    "Mon-Fri 09:00-18:00 Europe/Paris",
    "Mon-Fri 09:00-18:00 Europe/Paris; Sat 10:00-12:00 Europe/Paris",
    "daily 00:00-24:00",
    "DAILY 07:30-08:00 UTC",
    "Sat,Sun 10:00-16:00 America/New_York",
    "Mon,Wed-Fri 08:00-12:00 Asia/Tokyo",
    "Fri-Mon 22:00-02:00 Europe/London",
    "mon 09:00-09:00",
    "Tue 23:00-00:00 America/Argentina/Buenos_Aires",
    "  Mon 09:00-17:00 Etc/GMT+5 ;Tue 09:00-17:00  ",
)
INVALID_EXAMPLES = (
    "",
    "Mon-Fri",
    "09:00-18:00",
    "Mon-Fri 9:00-18:00",
    "Mon-Fri 09:00-18:60",
    "Mon-Fri 24:00-02:00",
    "Mon-Fri 09:00-24:30",
    "Monday 09:00-18:00",
    "Mon-Fry 09:00-18:00",
    "Mon--Fri 09:00-18:00",
    "Mon, Fri 09:00-18:00",
    "Mon-Fri 09:00 18:00",
    "Mon-Fri 09:00-18:00 Europe/Paris extra",
    "Mon 09:00-10:00;",
    "Mon 09:00-10:00;; Tue 09:00-10:00",
    "weekdays 09:00-18:00",
)
# How far current_end follows windows that touch one another ("daily 00:00-24:00" never ends).
MAX_MERGE_DAYS = 8


@dataclass(frozen=True)
class Window:
    days: frozenset[int]  # 0 = Monday
    start_minute: int  # 0..1439
    end_minute: int  # 0..1440; <= start_minute means it ends on the next day
    zone: str

    @property
    def overnight(self) -> bool:
        """Ends on the next day (an end not after the start; 24:00 is the end of the same day)."""
        return self.end_minute <= self.start_minute

    def intervals(self, first: date, last: date) -> list[tuple[float, float]]:
        """[start, end) in epoch seconds of the windows starting on local dates first..last."""
        zone = ZoneInfo(self.zone)
        out = []
        day = first
        while day <= last:
            if day.weekday() in self.days:
                start = _epoch(day, self.start_minute, zone)
                end = _epoch(day + timedelta(days=1) if self.overnight else day, self.end_minute, zone)
                if end > start:
                    out.append((start, end))
            day += timedelta(days=1)
        return out


def _epoch(day: date, minute: int, zone: ZoneInfo) -> float:
    if minute >= 1440:
        day, minute = day + timedelta(days=1), minute - 1440
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    # A wall time that does not exist (spring forward): zoneinfo reads it with the offset from before the jump,
    # which lands after the gap; the round trip below makes that explicit and stable.
    return local.astimezone(UTC).timestamp()


@dataclass(frozen=True)
class KeepWarm:
    windows: tuple[Window, ...]
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> "KeepWarm":
        if not isinstance(text, str) or not text.strip():
            raise ValueError('keep-warm schedule is empty; expected e.g. "Mon-Fri 09:00-18:00 Europe/Paris"')
        windows = []
        for number, part in enumerate(text.split(";"), start=1):
            if not part.strip():
                raise ValueError(f'keep-warm schedule {text.strip()!r}: window {number} is empty (a stray ";"?)')
            windows.append(_parse_window(part.strip()))
        return cls(windows=tuple(windows), text=text.strip())

    def __str__(self) -> str:
        return self.text

    def _merged(self, at: float, days_before: int, days_after: int) -> list[tuple[float, float]]:
        intervals: list[tuple[float, float]] = []
        for window in self.windows:
            local_day = datetime.fromtimestamp(at, ZoneInfo(window.zone)).date()
            intervals.extend(
                window.intervals(local_day - timedelta(days=days_before), local_day + timedelta(days=days_after))
            )
        intervals.sort()
        merged: list[list[float]] = []
        for start, end in intervals:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return [(start, end) for start, end in merged]

    def active(self, at: float) -> bool:
        """Inside a window at `at` (start inclusive, end exclusive)?"""
        return any(start <= at < end for start, end in self._merged(at, 2, 1))

    def next_start(self, after: float) -> float | None:
        """The earliest window start at or after `after` (one that is already running does not count)."""
        for start, _end in self._merged(after, 2, 8):
            if start >= after:
                return start
        return None

    def current_end(self, at: float) -> float | None:
        """When the window running at `at` ends (following windows that touch it), or None if none is running."""
        merged = self._merged(at, 2, MAX_MERGE_DAYS)
        for start, end in merged:
            if start <= at < end:
                return end
        return None


def _parse_window(part: str) -> Window:
    tokens = part.split()
    if len(tokens) not in (2, 3):
        raise ValueError(
            f'keep-warm window {part!r}: expected DAYS HH:MM-HH:MM [ZONE], e.g. "Mon-Fri 09:00-18:00 Europe/Paris"'
        )
    days = _parse_days(tokens[0], part)
    start, end = _parse_times(tokens[1], part)
    zone = tokens[2] if len(tokens) == 3 else "UTC"
    try:
        if not _ZONE_NAME.match(zone):
            raise ValueError(zone)
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"keep-warm window {part!r}: unknown time zone {zone!r} (an IANA name such as Europe/Paris or UTC)"
        ) from None
    return Window(days=days, start_minute=start, end_minute=end, zone=zone)


def _parse_days(text: str, part: str) -> frozenset[int]:
    if text.lower() == "daily":
        return frozenset(range(7))
    days: set[int] = set()
    for item in text.split(","):
        bounds = item.split("-")
        if len(bounds) > 2 or not all(bounds):
            raise ValueError(
                f"keep-warm window {part!r}: bad days {text!r}; use Mon..Sun, ranges (Mon-Fri), "
                "lists without spaces (Sat,Sun) or daily"
            )
        indexes = []
        for bound in bounds:
            if bound.lower() not in DAYS:
                raise ValueError(
                    f"keep-warm window {part!r}: unknown day {bound!r}; use Mon Tue Wed Thu Fri Sat Sun or daily"
                )
            indexes.append(DAYS.index(bound.lower()))
        day, last = indexes[0], indexes[-1]
        days.add(day)
        while day != last:  # a range, wrapping past Sunday if need be
            day = (day + 1) % 7
            days.add(day)
    return frozenset(days)


def _parse_times(text: str, part: str) -> tuple[int, int]:
    match = _TIME_RANGE.match(text)
    if not match:
        raise ValueError(
            f"keep-warm window {part!r}: bad time range {text!r}; expected HH:MM-HH:MM with two-digit"
            " hours and minutes, 00:00 to 23:59 (the end may be 24:00), e.g. 09:00-18:00"
        )
    start_text, end_text = match.groups()
    start = int(start_text[:2]) * 60 + int(start_text[3:])
    end = int(end_text[:2]) * 60 + int(end_text[3:])
    return start, end
