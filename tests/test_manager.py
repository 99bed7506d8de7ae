"""The manager against moto: every action, every SageMaker status, races and safety rules."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError

from conftest import CONFIG, ENDPOINT, WAKE_SECONDS
from sleepwake.aws import clients as aws
from sleepwake.aws.store import StateStore


def test_wake_from_asleep_creates_the_endpoint_and_answers_at_once(platform):
    answer = platform.manager.wake(ENDPOINT)
    assert answer["ok"] is True
    assert answer["state"] == "waking"
    assert answer["sagemaker_status"] is None  # read before the create
    assert answer["retry_after_seconds"] == WAKE_SECONDS
    assert answer["actions"] == ["create"]
    assert platform.sagemaker_endpoints() == [ENDPOINT]
    described = aws.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert described["EndpointConfigName"] == CONFIG
    tags = {
        t["Key"]: t["Value"] for t in aws.client("sagemaker").list_tags(ResourceArn=described["EndpointArn"])["Tags"]
    }
    assert tags == {"team": "ml", "managed-by": "sagemaker-sleepwake"}
    assert platform.notifier.events() == ["wake"]


def test_wake_while_creating_waits_and_estimates_the_time_left(platform):
    platform.manager.wake(ENDPOINT)
    platform.clock.advance(180)
    answer = platform.manager.wake(ENDPOINT)
    assert (answer["state"], answer["sagemaker_status"]) == ("waking", "Creating")
    assert answer["retry_after_seconds"] == WAKE_SECONDS - 180
    assert answer["actions"] == []
    assert platform.endpoints.creates == 1


def test_ready_after_the_wake_delay_with_a_ready_notification(platform):
    platform.manager.wake(ENDPOINT)
    platform.clock.advance(WAKE_SECONDS)
    answer = platform.manager.wake(ENDPOINT)
    assert (answer["state"], answer["sagemaker_status"], answer["ok"]) == ("ready", "InService", True)
    assert platform.notifier.events() == ["wake", "ready"]
    assert platform.notifier.sent[-1]["wake_seconds"] == WAKE_SECONDS


def test_many_simultaneous_wakes_create_exactly_one_endpoint(platform, atomic_dynamodb):
    barrier = threading.Barrier(12)
    answers, errors = [], []

    def wake():
        try:
            barrier.wait()
            answers.append(platform.manager.wake(ENDPOINT))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=wake) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(answers) == 12
    assert {a["state"] for a in answers} == {"waking"}
    assert platform.endpoints.creates == 1
    assert sum(a["actions"] == ["create"] for a in answers) == 1
    assert platform.sagemaker_endpoints() == [ENDPOINT]
    assert platform.store.get(ENDPOINT).wakes == 1


def test_already_exists_from_sagemaker_is_success(platform, monkeypatch):
    # moto overwrites an existing endpoint silently; SageMaker answers like this:
    sm = aws.client("sagemaker")
    error = ClientError(
        {
            "Error": {
                "Code": "ValidationException",
                "Message": "Cannot create already existing "
                'endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/llm-endpoint".',
            }
        },
        "CreateEndpoint",
    )
    monkeypatch.setattr(sm, "create_endpoint", lambda **kw: (_ for _ in ()).throw(error))
    assert platform.endpoints.create(ENDPOINT, CONFIG, {}) is False  # no exception: another wake won
    answer = platform.manager.wake(ENDPOINT)
    assert (answer["ok"], answer["state"]) == (True, "waking")


def test_status_reports_idle_time_sleep_time_and_price_and_changes_nothing(platform):
    platform.wake_until_ready()
    platform.store.record_activity(ENDPOINT, platform.clock.now())
    platform.clock.advance(120)
    before = platform.store.get(ENDPOINT)
    answer = platform.manager.status(ENDPOINT)
    assert answer["state"] == "ready"
    assert answer["idle_seconds"] == 120
    assert answer["hourly_price_usd"] == pytest.approx(0.7364)
    assert answer["last_activity"].endswith("Z")
    assert answer["sleeps_at"] is not None
    assert platform.store.get(ENDPOINT) == before


def test_status_when_asleep(platform):
    answer = platform.manager.status(ENDPOINT)
    assert (answer["state"], answer["sagemaker_status"], answer["ok"]) == ("asleep", None, True)
    assert platform.sagemaker_endpoints() == []


def test_tick_sleeps_an_idle_endpoint_and_keeps_model_and_configuration(platform):
    platform.wake_until_ready()
    platform.clock.advance(900)
    answer = platform.manager.tick()["results"][0]
    assert answer["state"] == "sleeping"
    assert answer["actions"] == ["delete"]
    assert platform.sagemaker_endpoints() == []
    sm = aws.client("sagemaker")
    assert sm.describe_endpoint_config(EndpointConfigName=CONFIG)["EndpointConfigName"] == CONFIG
    assert sm.describe_model(ModelName="llm-model")["ModelName"] == "llm-model"
    sleep_note = platform.notifier.sent[-1]
    assert sleep_note["event"] == "sleep"
    assert sleep_note["awake_seconds"] == WAKE_SECONDS + 900
    assert sleep_note["cost_usd"] == pytest.approx((WAKE_SECONDS + 900) / 3600 * 0.7364, abs=1e-3)
    # while SageMaker deletes it: sleeping; once gone: asleep
    assert platform.manager.status(ENDPOINT)["state"] == "sleeping"
    platform.clock.advance(60)
    assert platform.manager.status(ENDPOINT)["state"] == "asleep"


def test_idle_endpoint_sleeps_within_one_tick_of_the_timeout(platform):
    requested_at = platform.clock.now()  # the wake request is the last use: the idle clock starts there
    platform.wake_until_ready()
    slept_at = None
    for _ in range(30):
        platform.clock.advance(60)
        if platform.manager.tick()["results"][0]["state"] == "sleeping":
            slept_at = platform.clock.now()
            break
    assert slept_at is not None
    assert 900 <= slept_at - requested_at <= 900 + 60  # the policy checks each minute; the tick comes within one


def test_recent_activity_keeps_the_endpoint(platform):
    platform.wake_until_ready()
    platform.clock.advance(800)
    platform.store.record_activity(ENDPOINT, platform.clock.now())
    platform.clock.advance(200)
    answer = platform.manager.tick()["results"][0]
    assert answer["state"] == "ready"
    assert platform.sagemaker_endpoints() == [ENDPOINT]


def test_grace_period_protects_a_freshly_ready_endpoint_even_from_an_explicit_sleep(platform):
    platform.with_settings(SLEEPWAKE_IDLE_TIMEOUT_SECONDS="60", SLEEPWAKE_MIN_IN_SERVICE_SECONDS="600")
    platform.wake_until_ready()
    platform.clock.advance(120)
    answer = platform.manager.sleep(ENDPOINT)
    assert answer["state"] == "ready"
    assert "grace period" in answer["message"]
    assert platform.sagemaker_endpoints() == [ENDPOINT]


def test_forced_sleep_skips_idle_and_grace(platform):
    platform.wake_until_ready()
    answer = platform.manager.sleep(ENDPOINT, force=True)
    assert answer["state"] == "sleeping"
    assert platform.sagemaker_endpoints() == []


def test_environment_protection_prevents_sleep(platform):
    platform.with_settings(SLEEPWAKE_PROTECTED="true")
    platform.wake_until_ready()
    platform.clock.advance(3600)
    assert platform.manager.tick()["results"][0]["message"] == "ready; protected from sleep"
    assert platform.manager.sleep(ENDPOINT, force=True)["state"] == "ready"
    assert platform.sagemaker_endpoints() == [ENDPOINT]


def test_protection_tag_prevents_sleep(platform):
    platform.wake_until_ready()
    arn = aws.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointArn"]
    aws.client("sagemaker").add_tags(ResourceArn=arn, Tags=[{"Key": "sleepwake:protected", "Value": "true"}])
    platform.clock.advance(3600)
    answer = platform.manager.tick()["results"][0]
    assert (answer["state"], answer["protected"]) == ("ready", True)
    assert platform.sagemaker_endpoints() == [ENDPOINT]


class ActivityBeforeCommit(StateStore):
    """Simulates an app recording activity after the manager read the record but before it commits."""

    def __init__(self, table_name, clock):
        super().__init__(table_name)
        self.clock = clock
        self.armed = True

    def commit(self, old, new, *, guard_activity=False):
        if guard_activity and self.armed:
            self.armed = False
            self.record_activity(old.endpoint_name, self.clock.now())
        return super().commit(old, new, guard_activity=guard_activity)


def test_activity_between_the_sleep_decision_and_the_delete_cancels_the_delete(platform):
    platform.wake_until_ready()
    platform.manager.store = ActivityBeforeCommit(platform.store.table_name, platform.clock)
    platform.clock.advance(1000)
    answer = platform.manager.tick()["results"][0]
    assert answer["state"] == "ready"  # decided again with the new activity
    assert answer["idle_seconds"] == 0
    assert platform.endpoints.deletes == 0
    assert platform.sagemaker_endpoints() == [ENDPOINT]


def test_a_lease_keeps_the_endpoint_awake_and_wakes_it(platform):
    lease_until = platform.clock.now() + 7200
    aws.client("dynamodb").update_item(
        TableName=platform.store.table_name,
        Key={"pk": {"S": f"endpoint#{ENDPOINT}"}},
        UpdateExpression="SET lease_until = :l",
        ExpressionAttributeValues={":l": {"N": str(lease_until)}},
    )
    answer = platform.manager.tick()["results"][0]
    assert (answer["state"], answer["actions"]) == ("waking", ["create"])
    platform.clock.advance(3600)
    answer = platform.manager.tick()["results"][0]
    assert answer["state"] == "ready" and "lease" in answer["message"]
    assert platform.manager.sleep(ENDPOINT, force=True)["state"] == "ready"
    platform.clock.advance(3600 + 900)
    assert platform.manager.tick()["results"][0]["state"] == "sleeping"


def test_sleep_never_deletes_while_creating(platform):
    platform.manager.wake(ENDPOINT)
    platform.clock.advance(60)
    answer = platform.manager.sleep(ENDPOINT, force=True)
    assert answer["state"] == "waking"
    assert "never deleted while Creating" in answer["message"]
    assert platform.endpoints.deletes == 0


@pytest.mark.parametrize("status", ["Updating", "SystemUpdating", "RollingBack"])
def test_serving_while_changing_is_ready_and_never_deleted(platform, status):
    platform.wake_until_ready()
    platform.endpoints.force_status(ENDPOINT, status)
    platform.clock.advance(7200)
    answer = platform.manager.tick()["results"][0]
    assert (answer["state"], answer["sagemaker_status"]) == ("ready", status)
    assert platform.manager.sleep(ENDPOINT, force=True)["state"] == "ready"
    assert platform.endpoints.deletes == 0


def test_wake_during_deleting_waits_then_creates_once_gone(platform):
    platform.wake_until_ready()
    platform.manager.sleep(ENDPOINT, force=True)
    answer = platform.manager.wake(ENDPOINT)
    assert (answer["state"], answer["sagemaker_status"]) == ("waking", "Deleting")
    assert answer["retry_after_seconds"] == WAKE_SECONDS + 60
    assert platform.endpoints.creates == 1
    platform.clock.advance(60)
    answer = platform.manager.tick()["results"][0]
    assert (answer["state"], answer["actions"]) == ("waking", ["create"])
    assert platform.endpoints.creates == 2


def test_failed_endpoint_is_deleted_and_recreated_with_backoff_then_given_up(platform):
    platform.endpoints.fail_next_create(ENDPOINT, "model container did not pass the ping health check", times=3)
    platform.manager.wake(ENDPOINT)
    platform.clock.advance(WAKE_SECONDS)
    answer = platform.manager.tick()["results"][0]
    assert (answer["state"], answer["sagemaker_status"], answer["ok"]) == ("failed", "Failed", False)
    assert answer["actions"] == ["delete"]
    assert "health check" in answer["error"]
    assert platform.notifier.sent[-1]["event"] == "failure"
    # no tight loop: ticks within the backoff do nothing
    creates = platform.endpoints.creates
    for _ in range(4):
        platform.clock.advance(60)
        answer = platform.manager.tick()["results"][0]
        assert answer["state"] == "failed" and answer["actions"] == []
    assert platform.endpoints.creates == creates
    platform.clock.advance(60)  # 300 s backoff elapsed
    assert platform.manager.tick()["results"][0]["actions"] == ["create"]
    platform.clock.advance(WAKE_SECONDS)
    assert platform.manager.tick()["results"][0]["actions"] == ["delete"]  # second failure, backoff 600 s
    platform.clock.advance(599)
    assert platform.manager.tick()["results"][0]["actions"] == []
    platform.clock.advance(1)
    assert platform.manager.tick()["results"][0]["actions"] == ["create"]
    platform.clock.advance(WAKE_SECONDS)
    answer = platform.manager.tick()["results"][0]  # third failure > 2 retries: give up
    assert answer["actions"] == ["delete"] and "giving up" in answer["message"]
    platform.clock.advance(3600)
    answer = platform.manager.wake(ENDPOINT)
    assert (answer["state"], answer["actions"]) == ("failed", [])
    assert "reset_failures" in answer["error"]
    answer = platform.manager.wake(ENDPOINT, reset_failures=True)
    assert answer["actions"] == ["create"]
    assert platform.notifier.events().count("failure") == 3


def test_create_refused_by_sagemaker_backs_off_instead_of_looping(platform, monkeypatch):
    platform.with_settings(
        SLEEPWAKE_ENDPOINTS='{"llm-endpoint": {"endpoint_config_name": "missing-config", '
        '"instance_type": "ml.g4dn.xlarge"}}'
    )
    answer = platform.manager.wake(ENDPOINT)
    assert (answer["state"], answer["ok"]) == ("failed", False)
    assert "CreateEndpoint refused" in answer["error"]
    record = platform.store.get(ENDPOINT)
    assert record.failures == 1 and record.next_retry_at == platform.clock.now() + 300
    platform.clock.advance(60)
    answer = platform.manager.wake(ENDPOINT)
    assert answer["state"] == "failed" and answer["actions"] == []


@pytest.mark.parametrize("status", ["OutOfService", "UpdateRollbackFailed"])
def test_troubled_statuses_get_explicit_answers_and_no_automatic_delete(platform, status):
    platform.wake_until_ready()
    platform.endpoints.force_status(ENDPOINT, status)
    platform.clock.advance(7200)
    answer = platform.manager.tick()["results"][0]
    assert (answer["state"], answer["sagemaker_status"], answer["ok"]) == ("failed", status, False)
    assert answer["actions"] == []
    assert platform.notifier.events()[-1] == "failure"
    platform.manager.tick()
    assert platform.notifier.events().count("failure") == 1  # once per transition
    answer = platform.manager.sleep(ENDPOINT, force=True)
    assert answer["actions"] == ["delete"]


def test_a_lost_create_claim_is_taken_over(platform):
    # A wake committed its claim and died before CreateEndpoint: the claim expires and a tick recreates.
    record = platform.store.get(ENDPOINT)
    from dataclasses import replace

    platform.store.commit(
        record,
        replace(record, desired="awake", create_claimed_at=platform.clock.now(), wake_started_at=platform.clock.now()),
    )
    assert platform.manager.tick()["results"][0]["actions"] == []
    platform.clock.advance(121)
    assert platform.manager.tick()["results"][0]["actions"] == ["create"]


def test_tick_keeps_going_when_one_endpoint_fails_and_reports_it(platform, monkeypatch):
    platform.with_settings(
        SLEEPWAKE_ENDPOINTS=(
            '{"llm-endpoint": {"endpoint_config_name": "llm-endpoint-config-0001", "instance_type": "ml.g4dn.xlarge"},'
            ' "other-endpoint": {"endpoint_config_name": "llm-endpoint-config-0001",'
            ' "instance_type": "ml.g4dn.xlarge"}}'
        )
    )
    real_run = platform.manager.run
    seen = []

    def run(intent, name, **kwargs):
        seen.append(name)
        if name == ENDPOINT:
            raise RuntimeError("throttled")
        return real_run(intent, name, **kwargs)

    monkeypatch.setattr(platform.manager, "run", run)
    answer = platform.manager.tick()
    assert "other-endpoint" in seen
    assert answer["ok"] is False
    assert answer["errors"] == [{"endpoint_name": ENDPOINT, "error": "throttled"}]
    assert [r["endpoint_name"] for r in answer["results"]] == ["other-endpoint"]
    # The scheduled invocation itself fails after the whole tick, so the manager's errors alarm fires.
    from sleepwake.handlers.manager import TickIncomplete, dispatch
    from sleepwake.manager.events import Command

    with pytest.raises(TickIncomplete, match="llm-endpoint: throttled"):
        dispatch(platform.manager, Command("tick"))


def test_an_endpoint_deleted_by_hand_closes_its_billing(platform):
    platform.wake_until_ready()
    aws.client("sagemaker").delete_endpoint(EndpointName=ENDPOINT)
    platform.clock.advance(60)
    platform.manager.tick()
    record = platform.store.get(ENDPOINT)
    assert record.wake_started_at is None
    assert record.billed_seconds == WAKE_SECONDS + 60
    assert platform.sagemaker_endpoints() == []  # not recreated against the operator's will
    assert platform.manager.status(ENDPOINT)["state"] == "asleep"
