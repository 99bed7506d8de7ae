"""Fleet mode against moto: opt-in by tag, activity from CloudWatch, safety re-reads, bounded API calls."""

from __future__ import annotations

import collections
import time
from datetime import UTC, datetime

import boto3
import pytest

from conftest import TABLE, Platform, manager_env
from sleepwake.aws import clients as aws
from sleepwake_sim.emulator import create_model_and_config, create_state_table

OPT_IN = {"auto-maintain": "true"}


@pytest.fixture
def fleet(aws_mock, monkeypatch):
    env = manager_env(SLEEPWAKE_ENDPOINTS="{}", SLEEPWAKE_FLEET_TAG="auto-maintain=true")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    create_state_table(TABLE)
    platform = Platform(env)
    platform.clock.set(time.time() + 1)  # moto stamps endpoints with the real time
    return platform


def notebook_endpoint(name: str, tags: dict[str, str], variant: str = "blue") -> str:
    """An endpoint a data scientist deployed from a notebook, outside Terraform."""
    config = f"{name}-config"
    create_model_and_config(f"{name}-model", config, variant_name=variant)
    aws.client("sagemaker").create_endpoint(
        EndpointName=name, EndpointConfigName=config, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
    )
    return config


def invocations(name: str, variant: str, at: float, count: float = 3.0) -> None:
    aws.client("cloudwatch").put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Value": count,
                "Unit": "None",
                "Timestamp": datetime.fromtimestamp(at, tz=UTC),
                "Dimensions": [{"Name": "EndpointName", "Value": name}, {"Name": "VariantName", "Value": variant}],
            }
        ],
    )


def tags_of(name: str) -> dict[str, str]:
    sm = aws.client("sagemaker")
    arn = sm.describe_endpoint(EndpointName=name)["EndpointArn"]
    return {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}


def results(answer: dict) -> dict[str, dict]:
    return {r["endpoint_name"]: r for r in answer["results"]}


def test_recent_invocations_on_a_variant_not_named_alltraffic_keep_it(fleet):
    notebook_endpoint("nb-busy", {**OPT_IN, "team": "search"}, variant="blue")
    fleet.clock.advance(3600)
    invocations("nb-busy", "blue", fleet.clock.now() - 120)
    answer = results(fleet.manager.tick())["nb-busy"]
    assert answer["state"] == "ready" and answer["fleet"] is True
    assert 100 <= answer["idle_seconds"] <= 180
    assert fleet.sagemaker_endpoints() == ["nb-busy"]


def test_an_idle_tagged_endpoint_is_deleted_and_its_configuration_kept(fleet):
    config = notebook_endpoint("nb-idle", OPT_IN)
    fleet.clock.advance(3600)
    answer = results(fleet.manager.tick())["nb-idle"]
    assert (answer["state"], answer["actions"]) == ("sleeping", ["delete"])
    assert fleet.sagemaker_endpoints() == []
    assert aws.client("sagemaker").describe_endpoint_config(EndpointConfigName=config)["EndpointConfigName"] == config
    record = fleet.store.get("nb-idle")
    assert (record.fleet, record.endpoint_config_name, record.tags) == (True, config, OPT_IN)


def test_an_untagged_endpoint_is_never_touched(fleet):
    notebook_endpoint("prod-untagged", {"team": "ads"})
    notebook_endpoint("wrong-value", {"auto-maintain": "false"})
    fleet.clock.advance(86400)
    assert fleet.manager.tick()["results"] == []
    assert sorted(fleet.sagemaker_endpoints()) == ["prod-untagged", "wrong-value"]
    assert aws.client("dynamodb").scan(TableName=TABLE)["Items"] == []
    with pytest.raises(Exception, match="not managed here"):
        fleet.manager.sleep("prod-untagged", force=True)


def test_a_tag_removed_between_decision_and_delete_prevents_the_delete(fleet, monkeypatch):
    notebook_endpoint("nb-untagged-late", OPT_IN)
    fleet.clock.advance(3600)
    real_tags = fleet.endpoints.tags

    def owner_removes_the_tag_first(name):
        sm = aws.client("sagemaker")
        sm.delete_tags(ResourceArn=sm.describe_endpoint(EndpointName=name)["EndpointArn"], TagKeys=["auto-maintain"])
        return real_tags(name)

    monkeypatch.setattr(fleet.endpoints, "tags", owner_removes_the_tag_first)
    answer = results(fleet.manager.tick())["nb-untagged-late"]
    assert answer["state"] == "ready"
    assert "no longer carries the opt-in tag" in answer["message"]
    assert fleet.sagemaker_endpoints() == ["nb-untagged-late"]


def test_activity_seen_at_the_last_moment_prevents_the_delete(fleet, monkeypatch):
    notebook_endpoint("nb-late-call", OPT_IN, variant="green")
    fleet.clock.advance(3600)
    real_tags = fleet.endpoints.tags

    def a_request_lands(name):
        invocations(name, "green", fleet.clock.now() - 30)
        return real_tags(name)

    monkeypatch.setattr(fleet.endpoints, "tags", a_request_lands)
    answer = results(fleet.manager.tick())["nb-late-call"]
    assert answer["state"] == "ready"
    assert fleet.endpoints.deletes == 0


def test_a_deleted_fleet_endpoint_comes_back_with_its_name_configuration_and_tags(fleet):
    tags = {**OPT_IN, "team": "search", "owner": "ana"}
    config = notebook_endpoint("nb-Return", tags)  # names are case-sensitive here, lower-case in ARNs
    fleet.clock.advance(3600)
    assert results(fleet.manager.tick())["nb-Return"]["actions"] == ["delete"]
    fleet.clock.advance(120)
    assert results(fleet.manager.tick())["nb-Return"]["state"] == "asleep"  # still managed while asleep
    answer = fleet.manager.wake("nb-Return")
    assert (answer["state"], answer["actions"]) == ("waking", ["create"])
    described = aws.client("sagemaker").describe_endpoint(EndpointName="nb-Return")
    assert described["EndpointConfigName"] == config
    assert tags_of("nb-Return") == tags


def test_nothing_created_per_endpoint_outlives_it(fleet):
    notebook_endpoint("nb-clean", OPT_IN)
    fleet.clock.advance(3600)
    fleet.manager.tick()
    fleet.clock.advance(120)
    fleet.manager.tick()
    assert fleet.sagemaker_endpoints() == []
    # The manager creates no per-endpoint alarms, rules or schedules at all (activity comes from one batched
    # metric read), so there is nothing to orphan; its only per-endpoint data is the record it needs to wake it.
    assert aws.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert aws.client("events").list_rules()["Rules"] == []
    assert boto3.client("scheduler", region_name="us-east-1").list_schedules()["Schedules"] == []
    pks = [i["pk"]["S"] for i in aws.client("dynamodb").scan(TableName=TABLE)["Items"]]
    assert pks == ["endpoint#nb-clean"]


def test_status_without_a_name_lists_the_fleet(fleet):
    notebook_endpoint("nb-a", OPT_IN)
    notebook_endpoint("nb-b", OPT_IN)
    fleet.clock.advance(60)
    answer = fleet.manager.status_all()
    assert answer["count"] == 2
    rows = {r["endpoint_name"]: r for r in answer["endpoints"]}
    assert set(rows) == {"nb-a", "nb-b"}
    for row in rows.values():
        assert row["state"] == "ready"
        assert row["instance_type"] is None or row["instance_type"].startswith("ml.")
        assert "idle_seconds" in row and "sleeps_at" in row and "cost_today_usd" in row


class CallCounter:
    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()

    def __call__(self, event_name: str, **_kwargs) -> None:
        # event_name: before-call.<service>.<Operation>
        self.calls[event_name.split(".", 1)[1]] += 1

    def attach(self) -> None:
        for service in ("sagemaker", "dynamodb", "cloudwatch", "resourcegroupstaggingapi", "sns"):
            aws.client(service).meta.events.register("before-call.*.*", self)


@pytest.mark.parametrize("fleet_size", [500])
def test_a_fleet_of_hundreds_costs_a_bounded_number_of_calls_per_tick(fleet, fleet_size):
    sm = aws.client("sagemaker")
    create_model_and_config("shared-model", "shared-config", variant_name="v1")
    for i in range(fleet_size):
        sm.create_endpoint(
            EndpointName=f"nb-{i:03d}",
            EndpointConfigName="shared-config",
            Tags=[{"Key": "auto-maintain", "Value": "true"}],
        )
    for i in range(0, fleet_size, 2):  # half of them busy
        invocations(f"nb-{i:03d}", "v1", fleet.clock.now() + 30)
    fleet.clock.advance(120)
    first = fleet.manager.tick()  # learns every endpoint once: one record write each
    assert len(first["results"]) == fleet_size
    counter = CallCounter()
    counter.attach()
    fleet.clock.advance(60)
    second = fleet.manager.tick()
    assert len(second["results"]) == fleet_size
    calls = counter.calls
    pages = -(-fleet_size // 100)
    assert calls["sagemaker.ListEndpoints"] == pages
    assert pages <= calls["resource-groups-tagging-api.GetResources"] <= pages + 1  # + a last, empty page
    assert calls["dynamodb.Scan"] <= 2
    assert calls["cloudwatch.ListMetrics"] <= 2
    assert calls["cloudwatch.GetMetricData"] <= 1 + fleet_size // 2 // 500
    assert calls["sagemaker.DescribeEndpoint"] == 0
    assert calls["dynamodb.UpdateItem"] == 0 and calls["dynamodb.GetItem"] == 0
    assert sum(calls.values()) <= 2 * pages + 6, calls  # 14 calls for 500 endpoints
