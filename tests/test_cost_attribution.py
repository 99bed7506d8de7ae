"""Cost you can attribute and correct (issue 15): the endpoint the manager creates carries the environment's tags
(from SLEEPWAKE_ENDPOINTS) plus managed-by, and SLEEPWAKE_HOURLY_PRICE_OVERRIDES prices status and notifications;
a bad override map stops the settings with the entry named."""

from __future__ import annotations

import json

import pytest

from conftest import CONFIG, ENDPOINT, manager_env
from sleepwake.aws import clients as aws
from sleepwake.common.errors import SettingsError
from sleepwake.domain.settings import load_settings

ENV_TAGS = {"Project": "sagemaker-sleepwake", "Environment": "dev", "cost-center": "ml-42"}


def _tags_of(name: str) -> dict[str, str]:
    sm = aws.client("sagemaker")
    arn = sm.describe_endpoint(EndpointName=name)["EndpointArn"]
    return {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}


def test_the_created_endpoint_carries_the_environment_tags_and_managed_by(platform):
    endpoints = {ENDPOINT: {"endpoint_config_name": CONFIG, "instance_type": "ml.g4dn.xlarge", "tags": ENV_TAGS}}
    platform.with_settings(SLEEPWAKE_ENDPOINTS=json.dumps(endpoints))
    platform.manager.wake(ENDPOINT)
    assert _tags_of(ENDPOINT) == {**ENV_TAGS, "managed-by": "sagemaker-sleepwake"}


def test_price_overrides_price_status_and_notifications(platform, monkeypatch):
    monkeypatch.setenv("SLEEPWAKE_HOURLY_PRICE_OVERRIDES", '{"ml.g4dn.xlarge": 0.5}')
    platform.with_settings(SLEEPWAKE_HOURLY_PRICE_OVERRIDES='{"ml.g4dn.xlarge": 0.5}')
    answer = platform.wake_until_ready()
    assert answer["hourly_price_usd"] == 0.5
    assert answer["cost_today_usd"] == round(480 / 3600 * 0.5, 4)
    assert platform.notifier.sent[0]["hourly_price_usd"] == 0.5


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"g5.xlarge": 1.0}', "'g5.xlarge' is not an instance type"),
        ('{"ml.g5.xlarge": -1}', "['ml.g5.xlarge'] must be a price in USD per hour >= 0, got -1"),
        ('{"ml.g5.xlarge": "1.0"}', "must be a price"),
        ('{"ml.g5.xlarge": true}', "must be a price"),
    ],
)
def test_a_bad_override_map_is_refused_with_the_entry_named(raw, problem):
    with pytest.raises(SettingsError) as error:
        load_settings(manager_env(SLEEPWAKE_HOURLY_PRICE_OVERRIDES=raw))
    assert "SLEEPWAKE_HOURLY_PRICE_OVERRIDES" in str(error.value) and problem in str(error.value)


def test_good_overrides_load():
    settings = load_settings(manager_env(SLEEPWAKE_HOURLY_PRICE_OVERRIDES='{"ml.g5.xlarge": 1.01, "ml.g6.xlarge": 0}'))
    assert settings.hourly_price_overrides == (("ml.g5.xlarge", 1.01), ("ml.g6.xlarge", 0.0))
