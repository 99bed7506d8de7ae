"""The manager's decisions come from sleepwake.domain.policy: the default adaptive policy, wake-now acted on by the
tick, keep-warm windows for declared and fleet endpoints, and the policy's memory kept in the state table."""

from __future__ import annotations

import json
import time

import pytest

from conftest import CONFIG, ENDPOINT, TABLE, WAKE_SECONDS, Platform, manager_env
from sleepwake.aws import clients as aws
from sleepwake_sim.emulator import create_model_and_config, create_state_table

HOUR = 3600


@pytest.fixture
def adaptive(aws_mock, monkeypatch):
    env = manager_env(SLEEPWAKE_POLICY="adaptive", SLEEPWAKE_MIN_IN_SERVICE_SECONDS="120")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    create_state_table(TABLE)
    create_model_and_config("llm-model", CONFIG)
    platform = Platform(env)
    platform.clock.set(1_767_225_600)  # 2026-01-01 00:00 UTC, a Thursday
    return platform


def minute_ticks(platform, minutes: int, requests_at: set[int] = frozenset()) -> list[dict]:
    """Tick every minute; at the minutes in `requests_at` (counted from now) an app request comes first."""
    start = platform.clock.now()
    answers = []
    for minute in range(minutes):
        platform.clock.set(start + minute * 60)
        if minute in requests_at:
            platform.store.record_activity(ENDPOINT, platform.clock.now())
            platform.manager.wake(ENDPOINT)
        answers.append(platform.manager.tick()["results"][0])
    return answers


def test_the_default_policy_is_adaptive_and_a_fresh_endpoint_sleeps_soon_after_use(adaptive):
    adaptive.with_settings(SLEEPWAKE_POLICY="")
    assert adaptive.settings.policy == "adaptive"
    answers = minute_ticks(adaptive, 20, requests_at={0})
    slept = next(i for i, a in enumerate(answers) if a["actions"] == ["delete"])
    # ready at 8, grace until 10: nothing learnt yet, so it sleeps as soon as the rules allow
    assert slept == 10
    assert "sleep when ready" in answers[slept]["message"]


def test_the_tick_pre_warms_an_hourly_job_it_has_learnt(adaptive):
    # With its default prior the policy trusts a timer after about five gaps (sleepwake.domain.policy docstring).
    hourly = {60 * h for h in range(9)}  # and one more at 9 h, below
    answers = minute_ticks(adaptive, 9 * 60 + 1, requests_at=hourly | {9 * 60})
    prewarms = [i for i, a in enumerate(answers) if a["actions"] == ["create"] and i not in hourly]
    assert prewarms, "the tick never acted on the policy's wake-now"
    # a pre-warm wakes it so that it is ready by the next hour (and not long before), and the requests on
    # those hours find it ready
    wake = WAKE_SECONDS // 60
    for i in prewarms:
        hour = -(-i // 60) * 60
        assert hour - 15 <= i + wake <= hour, (i, hour)
        assert answers[hour]["state"] == "ready"
    assert len(prewarms) >= 2
    record = adaptive.store.get(ENDPOINT)
    assert [b[:2] for b in record.history["bins"]] == [[60, 9]]  # nine 60-minute gaps, kept in the table
    # the history is bounded and small enough for a DynamoDB item
    assert len(json.dumps(record.history)) < 4000


def test_status_never_pre_warms(adaptive):
    minute_ticks(adaptive, 3 * 60, requests_at={0, 60, 120})
    adaptive.clock.advance(45 * 60)
    creates = adaptive.endpoints.creates
    answer = adaptive.manager.status(ENDPOINT)
    assert answer["state"] == "asleep"
    assert adaptive.endpoints.creates == creates


def with_keep_warm(platform, schedule: str) -> None:
    platform.with_settings(
        SLEEPWAKE_ENDPOINTS=json.dumps(
            {ENDPOINT: {"endpoint_config_name": CONFIG, "instance_type": "ml.g4dn.xlarge", "keep_warm": schedule}}
        )
    )


def test_a_keep_warm_window_wakes_the_endpoint_w_before_it_opens_and_keeps_it_through(adaptive):
    with_keep_warm(adaptive, "Thu 09:00-11:00 UTC")
    answers = minute_ticks(adaptive, 12 * 60)  # from Thursday 00:00, no request at all
    creates = [i for i, a in enumerate(answers) if a["actions"] == ["create"]]
    assert creates == [9 * 60 - WAKE_SECONDS // 60]  # 08:52: ready at 09:00
    assert answers[9 * 60]["state"] == "ready"
    assert all(a["state"] == "ready" for a in answers[9 * 60 : 11 * 60])  # kept through the window, idle or not
    deletes = [i for i, a in enumerate(answers) if a["actions"] == ["delete"]]
    assert deletes and 11 * 60 <= deletes[0] <= 11 * 60 + 1  # and put to sleep when it closes


def test_an_invalid_keep_warm_tag_on_a_fleet_endpoint_is_reported_and_ignored(aws_mock, monkeypatch):
    env = manager_env(SLEEPWAKE_ENDPOINTS="{}", SLEEPWAKE_FLEET_TAG="auto-maintain=true")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    create_state_table(TABLE)
    platform = Platform(env)
    platform.clock.set(time.time() + 1)
    create_model_and_config("nb-model", "nb-config")
    aws.client("sagemaker").create_endpoint(
        EndpointName="nb-warm",
        EndpointConfigName="nb-config",
        Tags=[{"Key": "auto-maintain", "Value": "true"}, {"Key": "sleepwake:keep-warm", "Value": "weekdays 9-18"}],
    )
    platform.clock.advance(HOUR)
    listing = platform.manager.status_all()["endpoints"][0]
    assert listing["keep_warm"] == "weekdays 9-18"
    assert "ignored" in listing["keep_warm_error"]
    answer = platform.manager.tick()["results"][0]
    assert answer["actions"] == ["delete"]  # the bad schedule does not keep it awake


def test_a_valid_keep_warm_tag_keeps_a_fleet_endpoint_awake(aws_mock, monkeypatch):
    env = manager_env(SLEEPWAKE_ENDPOINTS="{}", SLEEPWAKE_FLEET_TAG="auto-maintain=true")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    create_state_table(TABLE)
    platform = Platform(env)
    platform.clock.set(time.time() + 1)
    create_model_and_config("nb-model", "nb-config")
    window = "daily 00:00-24:00 UTC"  # the tests run on the real clock here (moto stamps endpoints with it)
    aws.client("sagemaker").create_endpoint(
        EndpointName="nb-warm",
        EndpointConfigName="nb-config",
        Tags=[{"Key": "auto-maintain", "Value": "true"}, {"Key": "sleepwake:keep-warm", "Value": window}],
    )
    platform.clock.advance(HOUR)
    answer = platform.manager.tick()["results"][0]
    assert (answer["state"], answer["actions"]) == ("ready", [])
    assert "keep-warm" in answer["message"]
