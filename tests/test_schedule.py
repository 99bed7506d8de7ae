"""Keep-warm schedules: grammar, windows in local time, DST days and overnight windows."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from sleepwake.domain.schedule import INVALID_EXAMPLES, KEEP_WARM_PATTERN, VALID_EXAMPLES, KeepWarm


def at(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch).astimezone().isoformat()


# ------------------------------------------------------------------------------------------------- grammar
@pytest.mark.parametrize("text", VALID_EXAMPLES)
def test_valid_examples_parse_and_match_the_published_pattern(text):
    KeepWarm.parse(text)
    assert re.search(KEEP_WARM_PATTERN, text)


@pytest.mark.parametrize("text", INVALID_EXAMPLES)
def test_invalid_examples_fail_and_do_not_match_the_published_pattern(text):
    with pytest.raises(ValueError):
        KeepWarm.parse(text)
    assert not re.search(KEEP_WARM_PATTERN, text)


@pytest.mark.parametrize(
    "text, named",
    [
        ("Mon-Fry 09:00-18:00", "'Fry'"),
        ("Mon-Fri 9:00-18:00", "'9:00-18:00'"),
        ("Mon-Fri 09:00-18:00 Mars/Olympus", "'Mars/Olympus'"),
        ("Mon 09:00-10:00;; Tue 09:00-10:00", "window 2 is empty"),
        ("Mon, Fri 09:00-18:00", "'Mon,'"),
    ],
)
def test_errors_name_the_bad_part(text, named):
    with pytest.raises(ValueError, match=re.escape(named)):
        KeepWarm.parse(text)


def test_days_ranges_lists_daily_and_wrapping():
    assert KeepWarm.parse("Mon-Fri 09:00-10:00").windows[0].days == frozenset(range(5))
    assert KeepWarm.parse("Sat,Sun 09:00-10:00").windows[0].days == frozenset({5, 6})
    assert KeepWarm.parse("mon,WED-fri 09:00-10:00").windows[0].days == frozenset({0, 2, 3, 4})
    assert KeepWarm.parse("Fri-Mon 09:00-10:00").windows[0].days == frozenset({4, 5, 6, 0})
    assert KeepWarm.parse("daily 09:00-10:00").windows[0].days == frozenset(range(7))
    assert KeepWarm.parse("Mon 09:00-10:00").windows[0].zone == "UTC"


# ------------------------------------------------------------------------------------------ plain weekdays
def test_office_hours_in_paris():
    schedule = KeepWarm.parse("Mon-Fri 09:00-18:00 Europe/Paris; Sat 10:00-12:00 Europe/Paris")
    # Wednesday 2024-05-15, CEST (UTC+2)
    assert not schedule.active(at("2024-05-15T08:59:59+02:00"))
    assert schedule.active(at("2024-05-15T09:00:00+02:00"))
    assert schedule.active(at("2024-05-15T17:59:59+02:00"))
    assert not schedule.active(at("2024-05-15T18:00:00+02:00"))
    assert schedule.current_end(at("2024-05-15T12:00:00+02:00")) == at("2024-05-15T18:00:00+02:00")
    assert schedule.current_end(at("2024-05-15T19:00:00+02:00")) is None
    assert schedule.next_start(at("2024-05-15T19:00:00+02:00")) == at("2024-05-16T09:00:00+02:00")
    # Friday evening -> Saturday's short window; Saturday noon -> Monday
    assert schedule.next_start(at("2024-05-17T18:00:00+02:00")) == at("2024-05-18T10:00:00+02:00")
    assert schedule.next_start(at("2024-05-18T12:00:00+02:00")) == at("2024-05-20T09:00:00+02:00")
    # a window that starts exactly now counts as the next start
    assert schedule.next_start(at("2024-05-20T09:00:00+02:00")) == at("2024-05-20T09:00:00+02:00")


# -------------------------------------------------------------------------------------------------- DST
def test_spring_forward_day_is_shorter_in_real_time():
    # Europe/Paris 2024-03-31: 02:00 CET -> 03:00 CEST
    schedule = KeepWarm.parse("daily 01:00-04:00 Europe/Paris")
    start = at("2024-03-31T01:00:00+01:00")
    assert schedule.next_start(start - 3600) == start
    assert schedule.current_end(start) == at("2024-03-31T04:00:00+02:00")
    assert schedule.current_end(start) - start == 2 * 3600
    # the next day is back to three hours
    next_start = schedule.next_start(start + 12 * 3600)
    assert next_start == at("2024-04-01T01:00:00+02:00")
    assert schedule.current_end(next_start) - next_start == 3 * 3600


def test_fall_back_day_is_longer_in_real_time():
    # Europe/Paris 2024-10-27: 03:00 CEST -> 02:00 CET
    schedule = KeepWarm.parse("daily 01:00-04:00 Europe/Paris")
    start = at("2024-10-27T01:00:00+02:00")
    assert schedule.current_end(start) == at("2024-10-27T04:00:00+01:00")
    assert schedule.current_end(start) - start == 4 * 3600
    assert schedule.active(at("2024-10-27T02:30:00+02:00")) and schedule.active(at("2024-10-27T02:30:00+01:00"))


def test_a_start_in_the_spring_gap_moves_past_it_and_an_ambiguous_one_is_the_first():
    gap = KeepWarm.parse("Sun 02:30-05:00 Europe/Paris")
    assert gap.next_start(at("2024-03-30T00:00:00+00:00")) == at("2024-03-31T03:30:00+02:00")
    ambiguous = KeepWarm.parse("Sun 02:30-05:00 Europe/Paris")
    assert ambiguous.next_start(at("2024-10-26T00:00:00+00:00")) == at("2024-10-27T02:30:00+02:00")


def test_new_york_office_hours_follow_dst():
    schedule = KeepWarm.parse("Mon-Fri 09:00-17:00 America/New_York")
    assert schedule.next_start(at("2024-03-08T18:00:00-05:00")) == at("2024-03-11T09:00:00-04:00")  # EST -> EDT
    assert schedule.active(at("2024-03-11T13:30:00+00:00"))  # 09:30 EDT
    assert not schedule.active(at("2024-03-08T13:30:00+00:00"))  # 08:30 EST


# --------------------------------------------------------------------------------------------- overnight
def test_overnight_window_belongs_to_the_day_it_starts():
    schedule = KeepWarm.parse("Fri 22:00-02:00")
    assert schedule.active(at("2024-05-03T22:00:00+00:00"))  # Friday
    assert schedule.active(at("2024-05-04T01:59:00+00:00"))  # Saturday morning
    assert not schedule.active(at("2024-05-04T02:00:00+00:00"))
    assert not schedule.active(at("2024-05-03T01:00:00+00:00"))  # Friday morning: Thursday has no window
    assert schedule.current_end(at("2024-05-04T01:00:00+00:00")) == at("2024-05-04T02:00:00+00:00")
    assert schedule.next_start(at("2024-05-04T03:00:00+00:00")) == at("2024-05-10T22:00:00+00:00")


def test_overnight_window_across_a_dst_change():
    # Saturday 2024-03-30 23:00 CET to Sunday 03:00 CEST: three wall hours, two real ones
    schedule = KeepWarm.parse("Sat 23:00-03:00 Europe/Paris")
    start = at("2024-03-30T23:00:00+01:00")
    assert schedule.current_end(start) == at("2024-03-31T03:00:00+02:00")
    assert schedule.current_end(start) - start == 3 * 3600


def test_full_day_24_hour_and_same_time_windows():
    def end(text: str, when: str) -> float | None:
        return KeepWarm.parse(text).current_end(at(when))

    assert end("Mon 00:00-24:00", "2024-05-06T12:00:00+00:00") == at("2024-05-07T00:00:00+00:00")
    assert end("Mon 09:00-09:00", "2024-05-07T08:00:00+00:00") == at("2024-05-07T09:00:00+00:00")  # 24 hours
    assert end("Tue 23:00-00:00", "2024-05-07T23:30:00+00:00") == at("2024-05-08T00:00:00+00:00")


def test_touching_windows_merge_and_always_on_is_bounded():
    schedule = KeepWarm.parse("Mon 09:00-12:00; Mon 12:00-18:00")
    assert schedule.current_end(at("2024-05-06T10:00:00+00:00")) == at("2024-05-06T18:00:00+00:00")
    always = KeepWarm.parse("daily 00:00-24:00")
    now = at("2024-05-06T10:00:00+00:00")
    assert always.active(now)
    assert always.current_end(now) > now + 7 * 86400  # follows the windows a week ahead, then stops
    assert always.next_start(now) is None  # merged windows: no start ahead while this one runs on
