"""Settings parsing and the coalesced activity recorder."""

from __future__ import annotations

import pytest

from conftest import ENDPOINT, manager_env
from sleepwake.common.errors import SettingsError
from sleepwake.common.observability import setup_tracing, tracing_enabled
from sleepwake.domain.settings import load_settings
from sleepwake.manager.activity import ActivityRecorder
from sleepwake_sim.doubles import FakeClock


def test_settings_parse_the_terraform_environment():
    settings = load_settings(manager_env())
    spec = settings.endpoints[ENDPOINT]
    assert (spec.endpoint_config_name, spec.instance_type, spec.instance_count) == (
        "llm-endpoint-config-0001",
        "ml.g4dn.xlarge",
        1,
    )
    assert settings.idle_timeout_seconds == 900 and settings.protected is False


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SLEEPWAKE_TABLE_NAME": ""}, "SLEEPWAKE_TABLE_NAME is not set"),
        ({"SLEEPWAKE_ENDPOINTS": "{"}, "SLEEPWAKE_ENDPOINTS is not valid JSON"),
        ({"SLEEPWAKE_ENDPOINTS": "[]"}, "SLEEPWAKE_ENDPOINTS must be a JSON object keyed by endpoint name"),
        ({"SLEEPWAKE_ENDPOINTS": '{"bad_name": {}}'}, "'bad_name' is not a valid SageMaker endpoint name"),
        (
            {"SLEEPWAKE_ENDPOINTS": '{"e": {"endpoint_config_name": "c", "instance_type": "g5.xlarge"}}'},
            "instance_type must be an ml.* instance type",
        ),
        (
            {
                "SLEEPWAKE_ENDPOINTS": '{"e": {"endpoint_config_name": "c", "instance_type": "ml.g5.xlarge", '
                '"instance_count": 0}}'
            },
            "instance_count must be a whole number >= 1",
        ),
        (
            {
                "SLEEPWAKE_ENDPOINTS": '{"e": {"endpoint_config_name": "c", "instance_type": "ml.g5.xlarge", '
                '"colour": "red"}}'
            },
            "unknown field(s): colour",
        ),
        ({"SLEEPWAKE_IDLE_TIMEOUT_SECONDS": "30"}, "SLEEPWAKE_IDLE_TIMEOUT_SECONDS must be >= 60, got 30"),
        ({"SLEEPWAKE_PROTECTED": "maybe"}, "SLEEPWAKE_PROTECTED must be true or false"),
        ({"SLEEPWAKE_MAX_FAILURE_RETRIES": "99"}, "SLEEPWAKE_MAX_FAILURE_RETRIES must be between 0 and 20"),
    ],
)
def test_bad_settings_name_the_variable(overrides, message):
    with pytest.raises(SettingsError, match=None) as caught:
        load_settings(manager_env(**overrides))
    assert message in str(caught.value)


def test_activity_writes_are_coalesced(platform):
    clock = FakeClock(platform.clock.now())
    recorder = ActivityRecorder(platform.store.table_name, coalesce_seconds=30, clock=clock)
    assert recorder.record(ENDPOINT) is True
    written = [recorder.record(ENDPOINT) for _ in range(100)]
    assert written == [False] * 100
    assert platform.store.get(ENDPOINT).last_activity == clock.now()
    clock.advance(30)
    assert recorder.record(ENDPOINT) is True
    assert platform.store.get(ENDPOINT).last_activity == clock.now()


def test_activity_never_moves_back_and_never_bumps_the_version(platform):
    store = platform.store
    assert store.record_activity(ENDPOINT, 2000.0) is True
    assert store.record_activity(ENDPOINT, 1000.0) is False
    record = store.get(ENDPOINT)
    assert (record.last_activity, record.version) == (2000.0, 0)


def test_tracing_is_off_outside_lambda(monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("AWS_XRAY_SDK_ENABLED", raising=False)
    assert tracing_enabled() is False
    assert setup_tracing() is False
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.setenv("AWS_XRAY_SDK_ENABLED", "false")
    assert tracing_enabled() is False
    monkeypatch.setenv("AWS_XRAY_SDK_ENABLED", "true")
    assert tracing_enabled() is True


def test_the_idle_history_is_stored_as_one_json_string_and_the_older_map_is_still_read(platform):
    from sleepwake.aws import clients as aws
    from sleepwake.aws.store import endpoint_key
    from sleepwake.domain.policy import IdleHistory

    platform.wake_until_ready()
    platform.clock.advance(600)
    platform.manager.tick()
    db = aws.client("dynamodb")
    item = db.get_item(TableName=platform.store.table_name, Key=endpoint_key(ENDPOINT))["Item"]
    assert set(item["history"]) == {"S"}  # one attribute, not a map of hundreds of numbers
    learnt = platform.store.get(ENDPOINT).history
    assert IdleHistory.from_item(learnt).to_item() == learnt
    # a record written by an earlier version (the history as a map) reads the same
    from sleepwake.aws.store import to_dynamo

    db.update_item(
        TableName=platform.store.table_name,
        Key=endpoint_key(ENDPOINT),
        UpdateExpression="SET #h = :h",
        ExpressionAttributeNames={"#h": "history"},
        ExpressionAttributeValues={":h": to_dynamo(learnt)},
    )
    assert platform.store.get(ENDPOINT).history == learnt
