"""The promise at its edges (issue 10): each race window and fault forced deterministically, on moto plus the
simulated SageMaker lifecycle. Every test here failed on the code before the fix it names."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from conftest import CONFIG, ENDPOINT, TABLE, WAKE_SECONDS
from gateway_support import stack  # noqa: F401
from sleepwake.aws import clients as aws
from sleepwake.common.timefmt import iso
from sleepwake.gateway.lease import LeaseService
from sleepwake.handlers.manager import dispatch
from sleepwake.manager.activity import ActivityRecorder, EndpointGoingToSleep
from sleepwake.manager.events import Command

IDLE = 900  # the fixed policy's timeout in the test settings
GRACE = 300
OTHER = "other-endpoint"
TWO_ENDPOINTS = json.dumps(
    {
        ENDPOINT: {"endpoint_config_name": CONFIG, "instance_type": "ml.g4dn.xlarge"},
        OTHER: {"endpoint_config_name": CONFIG, "instance_type": "ml.g4dn.xlarge"},
    }
)


def throttled(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation)


def idle_until_the_sleep_is_due(platform) -> None:
    """Ready, then idle past the fixed timeout: the next tick sleeps it."""
    platform.wake_until_ready()
    platform.clock.advance(IDLE + 60)


def in_the_delete_window(platform, monkeypatch, action) -> list:
    """Run `action` once, after the sleep's commit and before its DeleteEndpoint (the window of items 2 and 3)."""
    real_delete = platform.endpoints.delete
    seen: list = []

    def delete(name):
        if not seen:
            seen.append(action())
        return real_delete(name)

    monkeypatch.setattr(platform.endpoints, "delete", delete)
    return seen


def tick_for(platform, minutes: int) -> dict:
    answer = {}
    for _ in range(minutes):
        platform.clock.advance(60)
        answer = platform.manager.tick()
    return answer


# ---- 1. never deleted under a running request ------------------------------------------------------------------
def test_a_request_running_across_the_planned_sleep_keeps_the_endpoint(stack):
    """A request arriving 10 s before the planned sleep and taking 30 s: the tick in between must not delete."""
    platform = stack.platform
    platform.wake_until_ready()
    ready_at = platform.clock.now()
    platform.clock.advance(IDLE - 10)
    during: list = []
    real_call = stack.runtime._call

    def slow_call(**kwargs):
        platform.clock.advance(10)
        during.append(platform.manager.tick()["results"][0])  # the planned sleep falls inside the request
        platform.clock.advance(20)
        return real_call(**kwargs)

    stack.runtime._call = slow_call
    answer = stack.call("POST", "/invoke", '{"inputs": "hi"}')
    assert answer.status == 200
    assert during[0]["state"] == "ready" and "in flight" in during[0]["message"]
    assert platform.endpoints.deletes == 0
    # Once it is over, the endpoint sleeps by the idle rule from the request's end, not before.
    record = platform.store.get(ENDPOINT)
    assert record.last_activity == pytest.approx(ready_at + IDLE + 20)
    assert platform.manager.status(ENDPOINT)["sleeps_at"] >= iso(record.busy_until)


def test_a_mark_landing_between_the_sleep_decision_and_its_commit_cancels_the_delete(platform, monkeypatch):
    idle_until_the_sleep_is_due(platform)
    recorder = ActivityRecorder(TABLE, clock=platform.clock)
    real_commit = platform.store.commit
    marked: list = []

    def commit(old, new, **kwargs):
        if kwargs.get("guard_activity") and not marked:
            recorder.begin(ENDPOINT, 60)  # an app's request starts exactly here
            marked.append(True)
        return real_commit(old, new, **kwargs)

    monkeypatch.setattr(platform.store, "commit", commit)
    answer = platform.manager.tick()["results"][0]
    assert marked and answer["state"] == "ready" and "in flight" in answer["message"]
    assert platform.endpoints.deletes == 0


def test_no_request_starts_once_the_sleep_is_committed(platform, monkeypatch):
    idle_until_the_sleep_is_due(platform)
    recorder = ActivityRecorder(TABLE, clock=platform.clock)
    refused = in_the_delete_window(
        platform, monkeypatch, lambda: pytest.raises(EndpointGoingToSleep, recorder.begin, ENDPOINT, 60)
    )
    platform.manager.tick()
    assert refused and refused[0].type is EndpointGoingToSleep
    assert platform.endpoints.deletes == 1


# ---- 2. a wake newer than the sleep decision wins ------------------------------------------------------------------
def test_a_wake_between_the_sleep_commit_and_the_delete_brings_the_endpoint_back(platform, monkeypatch):
    idle_until_the_sleep_is_due(platform)
    woken = in_the_delete_window(platform, monkeypatch, lambda: platform.manager.wake(ENDPOINT))
    slept = platform.manager.tick()["results"][0]
    assert slept["state"] == "sleeping"
    assert woken[0]["state"] == "waking"  # not "ready": the endpoint is about to go
    assert woken[0]["retry_after_seconds"] > WAKE_SECONDS
    status = tick_for(platform, 2 + WAKE_SECONDS // 60 + 1)["results"][0]
    assert status["state"] == "ready", status
    assert platform.endpoints.creates == 2 and platform.endpoints.deletes == 1
    record = platform.store.get(ENDPOINT)
    assert (record.wakes, record.sleeps, record.deleting_since) == (2, 1, None)


def test_a_queued_request_accepted_in_the_delete_window_is_replayed(stack, monkeypatch):
    platform = stack.platform
    idle_until_the_sleep_is_due(platform)
    accepted = in_the_delete_window(
        platform,
        monkeypatch,
        lambda: stack.call(
            "POST",
            "/invoke",
            '{"inputs": "late"}',
            headers={"content-type": "application/json", "prefer": "respond-async"},
        ),
    )
    platform.manager.tick()
    assert accepted[0].status == 202
    tick_for(platform, 2 + WAKE_SECONDS // 60 + 1)
    assert platform.manager.status(ENDPOINT)["state"] == "ready"
    replayed, _ = stack.poll()
    assert replayed == 1
    request_id = accepted[0].json()["request_id"]
    assert stack.call("GET", f"/requests/{request_id}").json()["status"] == "done"


# ---- 3. one sleep is one delete, one notification, one billed period -----------------------------------------------
def test_an_overlapping_tick_in_the_delete_window_does_not_sleep_twice(platform, monkeypatch):
    idle_until_the_sleep_is_due(platform)
    awake = platform.clock.now() - platform.store.get(ENDPOINT).wake_started_at
    in_the_delete_window(platform, monkeypatch, lambda: platform.manager.tick())
    platform.manager.tick()
    tick_for(platform, 3)
    record = platform.store.get(ENDPOINT)
    assert record.sleeps == 1
    assert record.billed_seconds == pytest.approx(awake)
    assert platform.notifier.events().count("sleep") == 1
    assert platform.manager.status(ENDPOINT)["state"] == "asleep"


def test_a_throttled_delete_is_retried_next_tick_without_counting_a_second_sleep(platform, monkeypatch):
    idle_until_the_sleep_is_due(platform)
    awake = platform.clock.now() - platform.store.get(ENDPOINT).wake_started_at
    real_delete = platform.endpoints.delete
    calls: list = []

    def delete(name):
        calls.append(name)
        if len(calls) == 1:
            raise throttled("DeleteEndpoint")
        return real_delete(name)

    monkeypatch.setattr(platform.endpoints, "delete", delete)
    first = platform.manager.tick()
    assert first["ok"] is False and "Rate exceeded" in first["errors"][0]["error"]
    retried = tick_for(platform, 1)["results"][0]
    assert retried["state"] == "sleeping" and retried["actions"] == ["delete"]
    tick_for(platform, 2)
    record = platform.store.get(ENDPOINT)
    assert (record.sleeps, len(calls)) == (1, 2)
    assert record.billed_seconds == pytest.approx(awake)
    assert platform.notifier.events().count("sleep") == 1
    assert platform.sagemaker_endpoints() == []


# ---- 5. one failing call never stops the whole tick --------------------------------------------------------------
def leased_and_idle(platform) -> None:
    """ENDPOINT awake and idle (its sleep is due); OTHER asleep with an active lease (it must be created)."""
    platform.with_settings(SLEEPWAKE_ENDPOINTS=TWO_ENDPOINTS)
    idle_until_the_sleep_is_due(platform)
    LeaseService(platform.store, platform.clock, 240).extend(OTHER, 60, caller="token:app")


@pytest.mark.parametrize("failing", ["cloudwatch", "listing", "scan"])
def test_a_failing_batched_read_does_not_stop_the_tick(platform, monkeypatch, failing):
    leased_and_idle(platform)
    if failing == "cloudwatch":
        monkeypatch.setattr(
            platform.manager.activity, "latest", lambda *a, **k: (_ for _ in ()).throw(throttled("GetMetricData"))
        )
    elif failing == "listing":
        monkeypatch.setattr(platform.endpoints, "list_all", lambda: (_ for _ in ()).throw(throttled("ListEndpoints")))
    else:
        monkeypatch.setattr(platform.store, "scan_endpoints_checked", lambda: (_ for _ in ()).throw(throttled("Scan")))
    answer = platform.manager.tick()
    by_name = {r["endpoint_name"]: r for r in answer["results"]}
    assert by_name[OTHER]["actions"] == ["create"]  # the leased endpoint is created all the same
    assert answer["ok"] is False and "Rate exceeded" in answer["errors"][0]["error"]
    if failing == "cloudwatch":
        # Unknown activity is "not idle": no sleep this tick.
        assert by_name[ENDPOINT]["state"] == "ready" and "could not be read" in by_name[ENDPOINT]["message"]
        assert platform.endpoints.deletes == 0


def test_a_corrupt_record_is_reported_and_the_other_endpoints_go_on(platform):
    leased_and_idle(platform)
    aws.client("dynamodb").update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"endpoint#{ENDPOINT}"}},
        UpdateExpression="SET version = :v",
        ExpressionAttributeValues={":v": {"S": "three"}},
    )
    answer = platform.manager.tick()
    assert [r["endpoint_name"] for r in answer["results"]] == [OTHER]
    assert answer["results"][0]["actions"] == ["create"]
    assert answer["errors"][0]["endpoint_name"] == ENDPOINT and "corrupt record" in answer["errors"][0]["error"]
    assert platform.endpoints.deletes == 0  # nothing is done to an endpoint whose record cannot be read
    with pytest.raises(RuntimeError, match="corrupt record"):
        dispatch(platform.manager, Command("tick"))  # and the invocation fails, for the errors alarm


# ---- 9. teardown only deletes what the manager manages -----------------------------------------------------------
def test_teardown_never_deletes_an_endpoint_it_does_not_manage(platform):
    aws.client("sagemaker").create_endpoint(EndpointName="other-team", EndpointConfigName=CONFIG)
    platform.wake_until_ready()
    answer = dispatch(platform.manager, Command("teardown", endpoint_names=(ENDPOINT, "other-team")))
    results = {r["endpoint_name"]: r["result"] for r in answer["endpoints"]}
    assert results == {ENDPOINT: "deleting", "other-team": "not-managed"}
    assert platform.sagemaker_endpoints() == ["other-team"]


def test_teardown_in_fleet_mode_keeps_protected_and_leased_fleet_endpoints(platform):
    platform.with_settings(SLEEPWAKE_FLEET_TAG="auto-maintain=true")
    sm = aws.client("sagemaker")
    for name, extra in (
        ("fleet-free", []),
        ("fleet-protected", [{"Key": "sleepwake:protected", "Value": "true"}]),
        ("fleet-leased", []),
    ):
        sm.create_endpoint(
            EndpointName=name, EndpointConfigName=CONFIG, Tags=[{"Key": "auto-maintain", "Value": "true"}, *extra]
        )
    LeaseService(platform.store, platform.clock, 240).extend("fleet-leased", 10, caller="token:app")
    answer = platform.manager.teardown(["fleet-free", "fleet-protected", "fleet-leased"])
    results = {r["endpoint_name"]: (r["result"], r.get("reason")) for r in answer["endpoints"]}
    assert results == {
        "fleet-free": ("deleting", None),
        "fleet-protected": ("kept", "protected by its tag"),
        "fleet-leased": ("kept", "a lease is active"),
    }
    assert sorted(platform.sagemaker_endpoints()) == ["fleet-leased", "fleet-protected"]


# ---- 11. the blast-radius cap ------------------------------------------------------------------------------------
def test_at_most_the_cap_of_deletes_per_tick_and_the_rest_wait(platform):
    platform.with_settings(SLEEPWAKE_ENDPOINTS=TWO_ENDPOINTS, SLEEPWAKE_MAX_DELETES_PER_TICK="1")
    platform.manager.wake(ENDPOINT)
    platform.manager.wake(OTHER)
    platform.clock.advance(WAKE_SECONDS)
    platform.manager.tick()
    platform.clock.advance(IDLE + 60)
    first = {r["endpoint_name"]: r for r in platform.manager.tick()["results"]}
    assert [n for n, r in first.items() if r["actions"] == ["delete"]] == [ENDPOINT]
    assert "waits for the next tick" in first[OTHER]["message"]
    assert platform.endpoints.deletes == 1
    second = {r["endpoint_name"]: r for r in tick_for(platform, 1)["results"]}
    assert second[OTHER]["actions"] == ["delete"] and platform.endpoints.deletes == 2


# ---- 12. status that agrees with itself ---------------------------------------------------------------------------
def test_a_long_lease_never_gives_a_negative_idle_time(platform):
    platform.wake_until_ready()
    LeaseService(platform.store, platform.clock, 240).extend(ENDPOINT, 240, caller="token:app")
    platform.clock.advance(60)
    status = platform.manager.status(ENDPOINT)
    assert status["idle_seconds"] == 0
    assert status["sleeps_at"] >= iso(platform.clock.now() + 239 * 60)


def test_sleeps_at_respects_the_grace_period_and_the_in_flight_guard(platform):
    platform.with_settings(SLEEPWAKE_POLICY="adaptive")  # no history yet: the policy alone would sleep at once
    platform.wake_until_ready()
    platform.clock.advance(19)
    record = platform.store.get(ENDPOINT)
    status = platform.manager.status(ENDPOINT)
    assert status["sleeps_at"] is not None
    assert status["sleeps_at"] >= iso(record.in_service_since + GRACE)
    platform.store.record_activity(ENDPOINT, platform.clock.now())
    assert platform.manager.status(ENDPOINT)["sleeps_at"] >= iso(platform.clock.now() + 60)


# ---- 4. one bad message never fails the whole replay batch ---------------------------------------------------------
def test_one_bad_message_fails_only_itself(stack, monkeypatch):
    platform = stack.platform
    platform.wake_until_ready()
    for i in range(4):
        assert (
            stack.call(
                "POST",
                "/invoke",
                json.dumps({"inputs": i}),
                headers={"content-type": "application/json", "prefer": "respond-async"},
            ).status
            == 202
        )
    sqs = aws.client("sqs")
    nested = "[" * 100_000 + "]" * 100_000
    sqs.send_message(QueueUrl=stack.resources.queue_url, MessageBody=nested)
    messages = sqs.receive_message(QueueUrl=stack.resources.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])[
        "Messages"
    ]
    assert len(messages) == 5
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m["Attributes"],
            "eventSource": "aws:sqs",
        }
        for m in messages
    ]
    real_update = stack.replayer.requests.update
    failed_once: list = []

    def update(request_id, **fields):
        if fields.get("status") == "done" and not failed_once:
            failed_once.append(request_id)
            raise throttled("UpdateItem")  # a DynamoDB error outside the per-request try
        return real_update(request_id, **fields)

    monkeypatch.setattr(stack.replayer.requests, "update", update)
    answer = stack.replayer.process(records)
    bad_ids = {r["messageId"] for r in records if r["body"] == nested}
    retried = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    assert bad_ids <= retried and len(retried) == 2  # the nested body and the one hit by the DynamoDB error
    statuses = [
        stack.call("GET", f"/requests/{json.loads(r['body'])['request_id']}").json()["status"]
        for r in records
        if r["body"] != nested
    ]
    assert statuses.count("done") == 3
