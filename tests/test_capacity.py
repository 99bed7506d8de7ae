"""Capacity-aware wake (issue 15): an ordered list of instance types, the first preferred. A wake that fails for
capacity or an account limit moves to the next type; any other failure does not; the next wake starts again at
the preferred type. Forced with the emulator: a CreateEndpoint refused with ResourceLimitExceeded, and an endpoint
that goes Failed with SageMaker's insufficient-capacity reason."""

from __future__ import annotations

import json

import pytest
from tests.conftest import CONFIG, ENDPOINT, WAKE_SECONDS, manager_env

from sleepwake.aws import clients as aws
from sleepwake.common.errors import SettingsError
from sleepwake.domain.lifecycle import is_capacity_failure
from sleepwake.domain.settings import load_settings

SECOND = "llm-endpoint-config-g4dn-2xl"
CAPACITY_REASON = "Unable to provision requested ML compute capacity. Please retry using a different ML instance type."
LIMIT = "The account-level service limit 'ml.g4dn.xlarge for endpoint usage' is 0 Instances"


def _endpoints(configs=None) -> str:
    configs = (
        configs
        if configs is not None
        else [
            {"endpoint_config_name": CONFIG, "instance_type": "ml.g4dn.xlarge"},
            {"endpoint_config_name": SECOND, "instance_type": "ml.g4dn.2xlarge"},
        ]
    )
    return json.dumps(
        {
            ENDPOINT: {
                "endpoint_config_name": CONFIG,
                "instance_type": "ml.g4dn.xlarge",
                "instance_count": 1,
                "configs": configs,
            }
        }
    )


@pytest.fixture
def two_types(platform):
    aws.client("sagemaker").create_endpoint_config(
        EndpointConfigName=SECOND,
        ProductionVariants=[
            {
                "VariantName": "primary",
                "ModelName": "llm-model",
                "InstanceType": "ml.g4dn.2xlarge",
                "InitialInstanceCount": 1,
            }
        ],
    )
    return platform.with_settings(SLEEPWAKE_ENDPOINTS=_endpoints())


def _config_of_endpoint() -> str:
    return aws.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]


def test_create_refused_for_an_account_limit_wakes_on_the_second_type_in_the_same_call(two_types):
    p = two_types
    p.endpoints.refuse_config(CONFIG, "ResourceLimitExceeded", LIMIT)
    answer = p.manager.wake(ENDPOINT)
    assert (answer["ok"], answer["state"], answer["actions"]) == (True, "waking", ["create"])
    assert _config_of_endpoint() == SECOND
    assert answer["instance_type"] == "ml.g4dn.2xlarge"
    assert answer["hourly_price_usd"] == 1.0528  # pricing follows the serving type
    assert (
        "no capacity for ml.g4dn.xlarge" in answer["serving_reason"]
        and "ResourceLimitExceeded" in answer["serving_reason"]
    )
    record = p.store.get(ENDPOINT)
    assert (record.failures, record.next_retry_at, record.wakes) == (0, None, 1)  # no failure, no backoff
    assert p.notifier.events() == ["capacity-fallback", "wake"]
    assert p.notifier.sent[0]["hourly_price_usd"] == 1.0528
    wake = p.notifier.sent[1]
    assert wake["instance_type"] == "ml.g4dn.2xlarge" and "no capacity for ml.g4dn.xlarge" in wake["serving_reason"]
    p.clock.advance(WAKE_SECONDS)
    status = p.manager.tick()["results"][0]
    assert (status["state"], status["instance_type"]) == ("ready", "ml.g4dn.2xlarge")
    assert status["instance_types"] == ["ml.g4dn.xlarge", "ml.g4dn.2xlarge"]


def test_endpoint_failed_for_capacity_is_recreated_on_the_second_type_without_backoff(two_types):
    p = two_types
    p.endpoints.fail_next_create(ENDPOINT, CAPACITY_REASON)
    p.manager.wake(ENDPOINT)
    assert _config_of_endpoint() == CONFIG
    p.clock.advance(WAKE_SECONDS)
    answer = p.manager.tick()["results"][0]
    assert (answer["state"], answer["actions"]) == ("waking", ["delete"])
    assert answer["instance_type"] == "ml.g4dn.2xlarge"
    assert p.store.get(ENDPOINT).failures == 0
    assert p.notifier.events()[-1] == "capacity-fallback"
    p.clock.advance(60)  # the failed endpoint is gone
    answer = p.manager.tick()["results"][0]
    assert answer["actions"] == ["create"]
    assert _config_of_endpoint() == SECOND
    p.clock.advance(WAKE_SECONDS)
    answer = p.manager.tick()["results"][0]
    assert (answer["state"], answer["instance_type"]) == ("ready", "ml.g4dn.2xlarge")
    assert "Unable to provision" in answer["serving_reason"]


def test_a_non_capacity_failure_does_not_fall_back(two_types):
    p = two_types
    p.endpoints.fail_next_create(ENDPOINT, "The primary container did not pass the ping health check")
    p.manager.wake(ENDPOINT)
    p.clock.advance(WAKE_SECONDS)
    answer = p.manager.tick()["results"][0]
    assert (answer["state"], answer["ok"], answer["actions"]) == ("failed", False, ["delete"])
    assert "health check" in answer["error"] and "recreating in 300 s" in answer["error"]
    assert answer["instance_type"] == "ml.g4dn.xlarge"
    assert p.store.get(ENDPOINT).failures == 1
    assert "capacity-fallback" not in p.notifier.events()
    p.clock.advance(300)  # backoff elapsed: recreated on the preferred type, not the second
    assert p.manager.tick()["results"][0]["actions"] == ["create"]
    assert _config_of_endpoint() == CONFIG


def test_create_refused_for_another_reason_does_not_fall_back(two_types):
    p = two_types
    p.endpoints.refuse_config(CONFIG, "ValidationException", "Could not find model data")
    answer = p.manager.wake(ENDPOINT)
    assert (answer["state"], answer["ok"]) == ("failed", False)
    assert "CreateEndpoint refused" in answer["error"]
    assert p.endpoints.creates == 0 and p.store.get(ENDPOINT).config_index == 0


def test_the_next_wake_prefers_the_first_type_again(two_types):
    p = two_types
    p.endpoints.refuse_config(CONFIG, "ResourceLimitExceeded", LIMIT)
    p.manager.wake(ENDPOINT)
    p.clock.advance(WAKE_SECONDS)
    p.manager.tick()
    assert _config_of_endpoint() == SECOND
    p.endpoints.refuse_config(CONFIG, None)  # capacity is back
    answer = p.manager.sleep(ENDPOINT, force=True)
    assert answer["state"] == "sleeping"
    assert p.notifier.sent[-1]["event"] == "sleep" and p.notifier.sent[-1]["hourly_price_usd"] == 1.0528
    p.clock.advance(60)
    answer = p.manager.tick()["results"][0]
    assert (answer["state"], answer["instance_type"]) == ("asleep", "ml.g4dn.xlarge")
    answer = p.manager.wake(ENDPOINT)
    assert answer["actions"] == ["create"] and _config_of_endpoint() == CONFIG
    assert answer["serving_reason"] == "preferred instance type"


def test_capacity_on_every_type_is_a_failure_with_backoff_that_restarts_at_the_preferred_type(two_types):
    p = two_types
    p.endpoints.refuse_config(CONFIG, "ResourceLimitExceeded", LIMIT)
    p.endpoints.refuse_config(SECOND, "ResourceLimitExceeded", LIMIT)
    answer = p.manager.wake(ENDPOINT)
    assert (answer["state"], answer["ok"]) == ("failed", False)
    record = p.store.get(ENDPOINT)
    assert (record.failures, record.config_index) == (1, 0)
    assert p.notifier.events() == ["capacity-fallback", "failure"]


@pytest.mark.parametrize(
    ("code", "message", "capacity"),
    [
        ("ResourceLimitExceeded", LIMIT, True),
        ("InsufficientInstanceCapacity", "", True),
        (None, CAPACITY_REASON, True),
        (None, "We currently do not have sufficient capacity for ml.p4d.24xlarge in the region you requested", True),
        (None, "The primary container for production variant primary did not pass the ping health check", False),
        ("ValidationException", "Could not find model data at s3://bucket/model.tar.gz", False),
        (None, None, False),
    ],
)
def test_capacity_classification(code, message, capacity):
    assert is_capacity_failure(code, message) is capacity


@pytest.mark.parametrize(
    ("configs", "problem"),
    [
        ([], "non-empty list"),
        ([{"endpoint_config_name": "other", "instance_type": "ml.g4dn.xlarge"}], "configs[0] must be the preferred"),
        (
            [
                {"endpoint_config_name": CONFIG, "instance_type": "ml.g4dn.xlarge"},
                {"endpoint_config_name": "b", "instance_type": "ml.g4dn.xlarge"},
            ],
            "instance type ml.g4dn.xlarge more than once",
        ),
        (
            [
                {"endpoint_config_name": CONFIG, "instance_type": "ml.g4dn.xlarge"},
                {"endpoint_config_name": "b", "instance_type": "g5.xlarge"},
            ],
            "configs[1].instance_type must be an ml.* instance type",
        ),
        ([{"endpoint_config_name": CONFIG}], "exactly endpoint_config_name and instance_type"),
    ],
)
def test_a_bad_instance_type_list_is_refused_with_its_problem_named(configs, problem):
    with pytest.raises(SettingsError) as error:
        load_settings(manager_env(SLEEPWAKE_ENDPOINTS=_endpoints(configs)))
    assert problem in str(error.value)
