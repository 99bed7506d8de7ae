"""Leases belong to their holder (a token's name, an IAM principal, or "anonymous"): extending and releasing act
on the caller's lease, the endpoint stays up while any lease is active, and every change is one conditional write
that keeps `lease_until` (what the manager reads) equal to the latest unexpired expiry."""

from __future__ import annotations

import json
import threading

from conftest import ENDPOINT, TABLE, WAKE_SECONDS
from gateway_support import http_event, proxy_answer, stack, state_items  # noqa: F401
from sleepwake.aws import clients as aws
from sleepwake.common.timefmt import iso
from sleepwake.handlers import gateway as gateway_entry


def lease(stack, minutes, who="app-a"):
    return stack.call("POST", "/lease", json.dumps({"minutes": minutes}), token_name=who)


def endpoint_item() -> dict:
    (item,) = state_items("endpoint#")
    return item


def test_another_holder_cannot_end_my_lease_and_the_endpoint_stays_awake(stack):
    assert lease(stack, 100, "app-a").status == 200
    a_until = stack.clock.now() + 6000
    assert lease(stack, 1, "app-b").json()["seconds_left"] == 60
    released = stack.call("DELETE", "/lease", token_name="app-b")
    assert released.status == 200 and released.json()["released"] is True
    assert released.json()["active"] is False  # B's own lease is over...
    assert released.json()["endpoint_lease"]["active"] is True  # ...A's is not
    mine = stack.call("GET", "/lease", token_name="app-a").json()
    assert mine["active"] is True and mine["expires_at"] == iso(a_until) and mine["seconds_left"] == 6000
    item = endpoint_item()
    assert item["lease_until"] == a_until and item["leases"] == {"token:app-a": a_until}
    # the manager keeps it awake well past the 15-minute idle timeout: A's lease still holds
    stack.clock.advance(WAKE_SECONDS)
    for _ in range(60):
        stack.clock.advance(60)
        assert stack.manager.tick()["results"][0]["state"] == "ready"
    assert stack.platform.endpoints.deletes == 0


def test_get_lease_shows_my_lease_and_the_endpoints_latest_expiry(stack):
    lease(stack, 100, "app-a")
    stack.clock.advance(60)
    lease(stack, 10, "app-b")
    answer = stack.call("GET", "/lease", token_name="app-b").json()
    assert answer["holder"] == "token:app-b"
    assert (answer["active"], answer["seconds_left"]) == (True, 600)
    assert answer["endpoint_lease"] == {
        "active": True,
        "expires_at": iso(stack.clock.now() + 6000 - 60),
        "seconds_left": 6000 - 60,
        "holders": 2,
    }
    # a caller without a lease sees only the endpoint's
    other = stack.call("GET", "/lease", token_name="app-c").json()
    assert other["active"] is False and other["endpoint_lease"]["holders"] == 2
    assert "token:app-a" not in json.dumps(other)  # other holders' names are not disclosed


def test_releasing_the_latest_lease_lowers_lease_until_to_the_next_one_and_the_last_removes_it(stack):
    now = stack.clock.now()
    lease(stack, 10, "app-a")
    lease(stack, 100, "app-b")
    assert endpoint_item()["lease_until"] == now + 6000
    assert stack.call("DELETE", "/lease", token_name="app-b").json()["released"] is True
    assert endpoint_item()["lease_until"] == now + 600
    assert stack.call("DELETE", "/lease", token_name="app-a").json()["released"] is True
    item = endpoint_item()
    assert "lease_until" not in item and "leases" not in item
    assert stack.call("DELETE", "/lease", token_name="app-a").json()["released"] is False


def test_extending_adds_to_my_own_lease_only(stack):
    lease(stack, 100, "app-a")
    body = lease(stack, 5, "app-b").json()
    assert body["seconds_left"] == 300 and body["capped"] is False  # not 100 min + 5
    assert body["endpoint_lease"]["seconds_left"] == 6000
    body = lease(stack, 5, "app-b").json()
    assert body["seconds_left"] == 600


def test_expired_leases_are_dropped_on_the_next_write(stack):
    lease(stack, 10, "app-a")
    stack.clock.advance(1200)
    lease(stack, 5, "app-b")
    item = endpoint_item()
    assert item["leases"] == {"token:app-b": stack.clock.now() + 300}
    assert item["lease_until"] == stack.clock.now() + 300


def test_callers_without_identity_share_the_anonymous_holder_and_iam_principals_hold_their_own(stack):
    assert lease(stack, 5, None).json()["holder"] == "anonymous"
    event = http_event(
        "POST", "/lease", json.dumps({"minutes": 7}), headers={"content-type": "application/json"}, token_name=None
    )
    event["requestContext"]["authorizer"] = {"iam": {"userArn": "arn:aws:iam::123456789012:role/app"}}
    answer = proxy_answer(gateway_entry.handler(event, None)).json()
    assert answer["holder"] == "iam:arn:aws:iam::123456789012:role/app" and answer["seconds_left"] == 420
    assert set(endpoint_item()["leases"]) == {"anonymous", "iam:arn:aws:iam::123456789012:role/app"}


def test_a_lease_written_before_leases_had_holders_is_kept_until_it_expires(stack):
    until = stack.clock.now() + 3000
    aws.client("dynamodb").update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"endpoint#{ENDPOINT}"}},
        UpdateExpression="SET lease_until = :l",
        ExpressionAttributeValues={":l": {"N": str(until)}},
    )
    seen = stack.call("GET", "/lease", token_name="app-b").json()
    assert seen["active"] is False and seen["endpoint_lease"]["seconds_left"] == 3000
    assert stack.call("DELETE", "/lease", token_name="app-b").json()["released"] is False
    assert endpoint_item()["lease_until"] == until  # nobody can end it but time
    lease(stack, 5, "app-b")
    item = endpoint_item()
    assert item["leases"] == {"unattributed": until, "token:app-b": stack.clock.now() + 300}
    assert item["lease_until"] == until


def test_the_number_of_holders_is_bounded_with_a_clear_409(stack, monkeypatch):
    monkeypatch.setattr("sleepwake.gateway.lease.MAX_HOLDERS", 3)
    for who in ("a", "b", "c"):
        assert lease(stack, 5, who).status == 200
    before = stack.snapshot()
    refused = lease(stack, 5, "d")
    assert refused.status == 409 and "already has 3 active leases" in refused.json()["error"]
    assert stack.snapshot() == before
    assert lease(stack, 5, "a").status == 200  # an existing holder still extends its own


def test_fifty_parallel_extensions_by_different_holders_all_count(stack, atomic_dynamodb):
    barrier = threading.Barrier(50)
    statuses: dict[int, int] = {}
    errors = []

    def extend(i):
        try:
            barrier.wait()
            statuses[i] = lease(stack, i + 1, f"app-{i}").status
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=extend, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sorted(statuses.values()) == [200] * 50
    item = endpoint_item()
    now = stack.clock.now()
    assert item["leases"] == {f"token:app-{i}": now + (i + 1) * 60 for i in range(50)}
    assert item["lease_until"] == now + 50 * 60
    assert item["lease_version"] == 50  # one conditional write each, no lost update
    assert stack.platform.endpoints.creates == 1


def test_a_lease_written_between_a_sleep_decision_and_its_commit_cancels_the_delete(stack, monkeypatch):
    stack.platform.wake_until_ready()
    stack.clock.advance(3600)  # idle long past the timeout: the next tick decides to sleep
    store = stack.platform.store
    original = store.commit

    def lease_lands_first(old, new, **kwargs):
        if kwargs.get("guard_activity"):
            stack.gateway.leases.extend(ENDPOINT, 30, "token:late-app")
        return original(old, new, **kwargs)

    monkeypatch.setattr(store, "commit", lease_lands_first)
    answer = stack.manager.tick()["results"][0]
    assert answer["state"] == "ready" and "lease" in answer["message"]
    assert stack.platform.endpoints.deletes == 0
