"""The savings report (issue 15): the manager's `report` action from what it records per endpoint (per-minute
requests, billed periods, measured wakes), bad report requests refused with the problem named and nothing changed,
and the daily notification sent once by the first tick of a day when a topic is set. (The report's policy figures
against the simulator on real traffic: tests/test_demo.py.)"""

from __future__ import annotations

import pytest

from conftest import ENDPOINT, TABLE, WAKE_SECONDS
from sleepwake.aws import clients as aws
from sleepwake.domain.lifecycle import utc_day
from sleepwake.domain.policy import ALL_PRESETS
from sleepwake.handlers import manager as entry
from sleepwake.manager.events import parse

TICK = {"source": "aws.events", "detail-type": "Scheduled Event"}


def _request(p, count: int = 1) -> None:
    p.store.record_activity(ENDPOINT, p.clock.now())
    p.store.add_requests(ENDPOINT, count)
    p.manager.wake(ENDPOINT)


def _cycle(p) -> None:
    """A tick, three requests that wake the endpoint, ready after the wake, then forced asleep."""
    p.manager.tick()
    p.clock.advance(60)
    _request(p, 3)
    p.manager.tick()
    p.clock.advance(120)
    _request(p, 2)  # arrives while it wakes: waits 360 s
    p.manager.tick()
    p.clock.advance(WAKE_SECONDS - 120)
    p.manager.tick()  # ready
    p.clock.advance(600)
    p.manager.sleep(ENDPOINT, force=True)
    p.clock.advance(60)
    p.manager.tick()


def test_the_report_action_gives_the_days_figures_from_what_the_manager_recorded(platform):
    p = platform
    _cycle(p)
    answer = entry.dispatch(p.manager, parse({"action": "report"}))
    assert answer["ok"] and answer["day"] == utc_day(p.clock.now()) and answer["endpoint_name"] == ENDPOINT
    assert answer["requests"] == 5
    assert answer["wakes"] == 1 and answer["wake_seconds"] == [WAKE_SECONDS]
    assert answer["awake_hours"] == round((WAKE_SECONDS + 600) / 3600, 4)
    assert answer["cost_usd"] == round((WAKE_SECONDS + 600) / 3600 * 0.7364, 4)
    assert answer["always_on_usd"] == round((answer["to"] - answer["from"]) / 3600 * 0.7364, 4)
    # 3 requests waited the whole wake, 2 came 120 s into it
    assert answer["requests_waited"] == 5
    assert (answer["wait_p50_seconds"], answer["wait_p95_seconds"]) == (WAKE_SECONDS, WAKE_SECONDS)
    assert set(answer["policies"]) == set(ALL_PRESETS) and answer["cheapest_policy"] in ALL_PRESETS
    assert "cheapest" in answer["text"]
    # every endpoint, no name
    assert entry.dispatch(p.manager, parse({"action": "report", "day": answer["day"]}))["endpoint_name"] == ENDPOINT


def _snapshot():
    return sorted(str(i) for i in aws.client("dynamodb").scan(TableName=TABLE)["Items"])


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"action": "report", "day": "yesterday"}, "day must be a UTC date YYYY-MM-DD"),
        ({"action": "report", "day": 20231114}, "day must be a UTC date YYYY-MM-DD"),
        ({"action": "report", "day": "2023-02-30"}, "is not a calendar date"),
        ({"action": "report", "day": "2099-01-01"}, "has not begun yet"),
        ({"action": "report", "day": "2023-11-01"}, "too old: the manager keeps per-minute history"),
        ({"action": "status", "day": "2023-11-14"}, "day applies to the report action only"),
        ({"action": "report", "days": 2}, "unknown field(s) for action 'report': days"),
        ({"action": "report", "endpoint_name": "not-managed"}, "is not managed here"),
    ],
)
def test_a_bad_report_request_is_refused_with_its_problem_named_and_changes_nothing(
    platform, monkeypatch, lambda_context, event, problem
):
    _cycle(platform)
    monkeypatch.setattr(entry, "_manager", lambda: platform.manager)
    before = _snapshot()
    answer = entry.handler(event, lambda_context)
    assert answer["ok"] is False and problem in answer["error"], answer
    assert _snapshot() == before


def test_the_first_tick_of_a_day_notifies_yesterdays_report_once(platform):
    p = platform.with_settings(SLEEPWAKE_NOTIFY_TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:ops")
    _cycle(p)
    assert "daily-report" not in p.notifier.events()
    yesterday = utc_day(p.clock.now())
    p.clock.advance(86400 - p.clock.now() % 86400 + 30)  # 00:00:30 the next day
    answer = p.manager.tick()
    assert answer["reports_sent"] == 1
    [report] = [m for m in p.notifier.sent if m["event"] == "daily-report"]
    assert report["day"] == yesterday and report["endpoint_name"] == ENDPOINT
    assert report["wakes"] == 1 and report["requests_waited"] == 5 and report["cheapest_policy"] in ALL_PRESETS
    p.clock.advance(60)
    assert "reports_sent" not in p.manager.tick()
    assert p.notifier.events().count("daily-report") == 1


def test_without_a_topic_no_daily_report(platform):
    _cycle(platform)
    platform.clock.advance(86400)
    assert "reports_sent" not in platform.manager.tick()
    assert "daily-report" not in platform.notifier.events()
