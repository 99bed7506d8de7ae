"""The replay switch: the SQS event source mapping flows only while the endpoint serves; handler and settings."""

from __future__ import annotations

import json

import pytest

from conftest import ENDPOINT, WAKE_SECONDS, load_event
from gateway_support import create_replay_mapping, stack  # noqa: F401
from sleepwake.common.errors import SettingsError
from sleepwake.gateway.replay import ReplayControl, ReplaySwitch, backoff_seconds
from sleepwake.gateway.settings import (
    DEFAULT_MAX_BODY_BYTES,
    load_authorizer_settings,
    load_gateway_settings,
    load_replay_control_settings,
)
from sleepwake.handlers import replay as replay_entry
from sleepwake.handlers import replay_control as control_entry


@pytest.fixture
def control(stack, monkeypatch):
    uuid = create_replay_mapping(stack.resources)
    monkeypatch.setenv("SLEEPWAKE_REPLAY_MAPPING_UUID", uuid)
    built = ReplayControl(ENDPOINT, ReplaySwitch(uuid), stack.platform.endpoints)
    monkeypatch.setattr(control_entry, "_control", lambda: built)
    return built


def mapping_state(control: ReplayControl) -> str:
    return control.switch.state()


def state_change(status: str) -> dict:
    event = load_event("state_change_inservice.json")
    event["detail"]["EndpointStatus"] = status
    return event


def test_the_switch_follows_the_endpoint(stack, control):
    assert mapping_state(control) == "Disabled"
    stack.manager.wake(ENDPOINT)
    answer = control_entry.handler(load_event("state_change_creating.json"), None)
    assert (answer["replay"], answer["changed"], answer["sagemaker_status"]) == ("disabled", False, "Creating")
    assert mapping_state(control) == "Disabled"
    stack.clock.advance(WAKE_SECONDS)
    answer = control_entry.handler(load_event("state_change_inservice.json"), None)
    assert (answer["replay"], answer["changed"]) == ("enabled", True)
    assert mapping_state(control) == "Enabled"
    assert control_entry.handler(load_event("state_change_inservice.json"), None)["changed"] is False
    stack.manager.sleep(ENDPOINT, force=True)
    answer = control_entry.handler(load_event("state_change_deleting.json"), None)
    assert (answer["replay"], answer["changed"], answer["sagemaker_status"]) == ("disabled", True, "Deleting")
    assert mapping_state(control) == "Disabled"


def test_a_late_event_cannot_switch_against_the_fresh_status(stack, control):
    # An IN_SERVICE event that arrives after the endpoint was deleted: the fresh read wins.
    answer = control_entry.handler(load_event("state_change_inservice.json"), None)
    assert answer["replay"] == "disabled" and mapping_state(control) == "Disabled"


def test_the_schedule_repairs_a_missed_event(stack, control):
    stack.platform.wake_until_ready()
    assert mapping_state(control) == "Disabled"  # the InService event was lost
    answer = control_entry.handler(load_event("scheduled.json"), None)
    assert (answer["replay"], answer["changed"], answer["reason"]) == ("enabled", True, "schedule")


def test_events_for_other_endpoints_and_wrong_events_are_ignored_or_refused(stack, control):
    event = load_event("state_change_inservice.json")
    event["detail"]["EndpointName"] = "someone-elses"
    assert control_entry.handler(event, None)["ignored"] is True
    answer = control_entry.handler({"action": "wake"}, None)
    assert answer["ok"] is False and "takes SageMaker state-change and scheduled events" in answer["error"]
    assert control_entry.handler({"hello": 1}, None)["ok"] is False
    assert mapping_state(control) == "Disabled"


def test_the_replay_handler_refuses_events_that_are_not_sqs(stack):
    with pytest.raises(replay_entry.BadEvent, match="takes SQS events"):
        replay_entry.handler({"action": "wake"}, None)
    with pytest.raises(replay_entry.BadEvent, match="every record must be an SQS message"):
        replay_entry.handler({"Records": [{"eventSource": "aws:s3"}]}, None)


def test_unreadable_messages_are_retried_towards_the_dead_letter_queue(stack):
    event = load_event("sqs_replay.json")
    event["Records"][0]["body"] = "not json"
    assert replay_entry.handler(event, None) == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]
    }
    event["Records"][0]["body"] = json.dumps(
        {
            "v": 1,
            "request_id": "a" * 32,
            "endpoint_name": "other",
            "content_type": "application/json",
            "received_at": 1,
            "body_base64": "",
        }
    )
    assert len(replay_entry.handler(event, None)["batchItemFailures"]) == 1


def test_the_sample_sqs_event_replays(stack):
    stack.platform.wake_until_ready()
    answer = replay_entry.handler(load_event("sqs_replay.json"), None)
    assert answer == {"batchItemFailures": []}
    record = stack.gateway.requests.get("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    assert record["status"] == "done"


def test_backoff_doubles_and_is_capped():
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 5, 6)] == [30, 60, 120, 240, 480, 900]
    assert backoff_seconds(50) == 900


# ---- settings ---------------------------------------------------------------------------------------------
GOOD = {
    "SLEEPWAKE_GATEWAY_ENDPOINT": ENDPOINT,
    "SLEEPWAKE_REQUEST_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/sleepwake-dev-requests",
    "SLEEPWAKE_REQUEST_BUCKET": "sleepwake-dev-requests-123456789012",
    "SLEEPWAKE_REPLAY_MAPPING_UUID": "d7ce9375-60e0-45ab-ae73-f6c9e4f12060",
    "SLEEPWAKE_TOKENS_TABLE": "sleepwake-dev-tokens",
}


def test_gateway_settings_defaults():
    settings = load_gateway_settings(GOOD, {ENDPOINT: object()})
    assert settings.max_body_bytes == DEFAULT_MAX_BODY_BYTES == (6_291_456 - 65_536) // 4 * 3
    assert (settings.max_lease_minutes, settings.max_receive_count, settings.invoke_timeout_seconds) == (240, 5, 25)
    assert load_replay_control_settings(GOOD).mapping_uuid == GOOD["SLEEPWAKE_REPLAY_MAPPING_UUID"]
    assert load_authorizer_settings(GOOD).tokens_table == "sleepwake-dev-tokens"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SLEEPWAKE_GATEWAY_ENDPOINT": ""}, "SLEEPWAKE_GATEWAY_ENDPOINT is not set"),
        ({"SLEEPWAKE_GATEWAY_ENDPOINT": "bad_name"}, "SLEEPWAKE_GATEWAY_ENDPOINT must be a SageMaker endpoint name"),
        ({"SLEEPWAKE_GATEWAY_ENDPOINT": "other"}, "SLEEPWAKE_GATEWAY_ENDPOINT 'other' is not in SLEEPWAKE_ENDPOINTS"),
        ({"SLEEPWAKE_REQUEST_QUEUE_URL": "my-queue"}, "SLEEPWAKE_REQUEST_QUEUE_URL must be an SQS queue URL"),
        ({"SLEEPWAKE_REQUEST_BUCKET": "Bad_Bucket"}, "SLEEPWAKE_REQUEST_BUCKET must be an S3 bucket name"),
        ({"SLEEPWAKE_MAX_LEASE_MINUTES": "0"}, "SLEEPWAKE_MAX_LEASE_MINUTES must be between 1 and 10080, got 0"),
        ({"SLEEPWAKE_MAX_LEASE_MINUTES": "1h"}, "SLEEPWAKE_MAX_LEASE_MINUTES must be a whole number"),
        ({"SLEEPWAKE_MAX_BODY_BYTES": "7000000"}, "SLEEPWAKE_MAX_BODY_BYTES must be between 1 and 6291456"),
        ({"SLEEPWAKE_REQUEST_RETENTION_DAYS": "15"}, "SLEEPWAKE_REQUEST_RETENTION_DAYS must be between 1 and 14"),
    ],
)
def test_bad_gateway_settings_name_the_variable(overrides, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        load_gateway_settings({**GOOD, **overrides}, {ENDPOINT: object()})


@pytest.mark.parametrize(
    ("loader", "overrides", "message"),
    [
        (
            load_replay_control_settings,
            {"SLEEPWAKE_REPLAY_MAPPING_UUID": ""},
            "SLEEPWAKE_REPLAY_MAPPING_UUID is not set",
        ),
        (
            load_replay_control_settings,
            {"SLEEPWAKE_REPLAY_MAPPING_UUID": "x"},
            "SLEEPWAKE_REPLAY_MAPPING_UUID must be an event source mapping UUID",
        ),
        (load_authorizer_settings, {"SLEEPWAKE_TOKENS_TABLE": ""}, "SLEEPWAKE_TOKENS_TABLE is not set"),
    ],
)
def test_bad_control_and_authorizer_settings_name_the_variable(loader, overrides, message):
    with pytest.raises(SettingsError, match=message):
        loader({**GOOD, **overrides})
