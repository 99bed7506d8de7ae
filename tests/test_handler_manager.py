"""The manager Lambda's entry point: event shapes, answers, and bad input that changes nothing."""

from __future__ import annotations

import json

import pytest

from conftest import ENDPOINT, load_event
from sleepwake.aws import clients as aws
from sleepwake.common.errors import SettingsError
from sleepwake.handlers import manager as entry


@pytest.fixture
def handler(platform):
    entry.reset()
    yield entry.handler
    entry.reset()


def snapshot():
    items = aws.client("dynamodb").scan(TableName="sleepwake-test-state")["Items"]
    return items, aws.client("sagemaker").list_endpoints()["Endpoints"]


def test_wake_then_status_through_the_handler(handler, lambda_context):
    answer = handler(load_event("wake.json"), lambda_context)
    assert answer["ok"] is True and answer["endpoint_name"] == ENDPOINT
    assert answer["state"] == "waking" and answer["retry_after_seconds"] > 0
    json.dumps(answer)  # the answer is JSON
    answer = handler({"action": "status"}, lambda_context)  # the only endpoint is the default
    assert answer["state"] in ("waking", "ready")
    assert set(answer) >= {
        "ok",
        "endpoint_name",
        "state",
        "sagemaker_status",
        "message",
        "idle_seconds",
        "sleeps_at",
        "hourly_price_usd",
        "last_activity",
    }


def test_scheduled_event_ticks_every_endpoint(handler, lambda_context):
    answer = handler(load_event("scheduled.json"), lambda_context)
    assert answer["ok"] is True
    assert [r["endpoint_name"] for r in answer["results"]] == [ENDPOINT]
    assert answer["results"][0]["state"] == "asleep"


def test_state_change_event_reconciles_from_a_fresh_read(handler, lambda_context):
    handler(load_event("wake.json"), lambda_context)
    answer = handler(load_event("state_change_inservice.json"), lambda_context)
    assert answer["ok"] is True
    assert answer["reported_status"] == "IN_SERVICE"
    assert answer["sagemaker_status"] == "InService"  # moto: InService at once


def test_state_change_for_an_unmanaged_endpoint_is_ignored(handler, lambda_context):
    event = load_event("state_change_inservice.json")
    event["detail"]["EndpointName"] = "someone-elses-endpoint"
    before = snapshot()
    answer = handler(event, lambda_context)
    assert answer["ignored"] is True
    assert snapshot() == before


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ("not an object", "the event must be a JSON object, got str"),
        ([], "the event must be a JSON object, got list"),
        ({"action": "reboot"}, "unknown action 'reboot': expected one of wake, sleep, status"),
        ({"action": "wake", "endpoint": "x"}, "unknown field(s) for action 'wake': endpoint"),
        ({"action": "wake", "endpoint_name": 7}, "endpoint_name must be a non-empty string"),
        ({"action": "wake", "endpoint_name": "nope"}, "endpoint 'nope' is not managed here (declared: llm-endpoint)"),
        ({"action": "sleep", "force": "yes"}, "force must be true or false"),
        ({"action": "wake", "force": True}, "force applies to the sleep action only"),
        ({"action": "sleep", "reset_failures": True}, "reset_failures applies to the wake action only"),
        ({"source": "aws.s3", "detail-type": "Object Created"}, "unknown event: source 'aws.s3'"),
        (
            {"source": "aws.sagemaker", "detail-type": "SageMaker Endpoint State Change", "detail": {}},
            "SageMaker state-change event without detail.EndpointName",
        ),
        ({"hello": "world"}, 'unknown event: expected an "action"'),
    ],
)
def test_bad_events_get_a_named_error_and_change_nothing(handler, lambda_context, event, error):
    before = snapshot()
    answer = handler(event, lambda_context)
    assert answer["ok"] is False
    assert error in answer["error"]
    assert snapshot() == before


def test_bad_configuration_fails_the_invocation_naming_the_variable(handler, lambda_context, monkeypatch):
    # raised, not answered: a misconfigured manager must trip the Lambda errors alarm
    monkeypatch.setenv("SLEEPWAKE_IDLE_TIMEOUT_SECONDS", "soon")
    entry.reset()
    before = snapshot()
    with pytest.raises(SettingsError, match="SLEEPWAKE_IDLE_TIMEOUT_SECONDS must be a whole number, got 'soon'"):
        handler(load_event("scheduled.json"), lambda_context)
    assert snapshot() == before


def test_logs_are_json_with_the_endpoint_name_and_request_id(handler, lambda_context, capsys):
    handler(load_event("wake.json"), lambda_context)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    decisions = [line for line in lines if line["message"] == "decision"]
    assert decisions, lines
    assert decisions[0]["endpoint_name"] == ENDPOINT
    assert decisions[0]["request_id"] == lambda_context.aws_request_id
    assert decisions[0]["state"] == "waking"
