"""The gateway handler against moto: invoke, wake, respond-async, leases, and bad input that changes nothing."""

from __future__ import annotations

import json
import threading

import pytest

from conftest import ENDPOINT, WAKE_SECONDS
from gateway_support import BUCKET, MAX_RECEIVE_COUNT, queue_depth, set_model_results, stack, state_items  # noqa: F401
from sleepwake.aws import clients as aws
from sleepwake.common.timefmt import iso
from sleepwake.gateway.settings import DEFAULT_MAX_BODY_BYTES

HELLO = '{"inputs": "hello"}'


# ---- POST /invoke ---------------------------------------------------------------------------------------------
def test_request_to_a_sleeping_endpoint_gets_503_retry_after_and_starts_one_wake(stack):
    answer = stack.call("POST", "/invoke", HELLO)
    assert answer.status == 503
    assert answer.headers["retry-after"] == str(WAKE_SECONDS)
    body = answer.json()
    assert (body["state"], body["retry_after_seconds"]) == ("waking", WAKE_SECONDS)
    assert "Prefer: respond-async" in body["error"]
    assert stack.platform.endpoints.creates == 1
    assert stack.platform.sagemaker_endpoints() == [ENDPOINT]
    # while it wakes, more requests wait for the same wake
    stack.clock.advance(200)
    again = stack.call("POST", "/invoke", HELLO)
    assert again.status == 503 and again.headers["retry-after"] == str(WAKE_SECONDS - 200)
    assert stack.platform.endpoints.creates == 1


def test_concurrent_requests_to_a_sleeping_endpoint_start_exactly_one_wake(stack, atomic_dynamodb):
    barrier = threading.Barrier(10)
    statuses, errors = [], []

    def request():
        try:
            barrier.wait()
            statuses.append(stack.call("POST", "/invoke", HELLO).status)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=request) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and statuses == [503] * 10
    assert stack.platform.endpoints.creates == 1
    assert stack.platform.store.get(ENDPOINT).wakes == 1


def test_in_service_endpoint_answers_with_the_model_body_and_records_activity(stack):
    stack.platform.wake_until_ready()
    set_model_results(('{"generated_text": "hi"}', "application/json"))
    stack.clock.advance(60)
    answer = stack.call("POST", "/invoke", HELLO)
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"generated_text": "hi"}
    assert stack.platform.store.get(ENDPOINT).last_activity == stack.clock.now()


def test_binary_model_answers_are_returned_base64_encoded(stack):
    stack.platform.wake_until_ready()
    set_model_results(("\u00ff\u00fe binary-ish", "application/octet-stream"))
    event_answer = stack.call(
        "POST", "/invoke", b"\x00\x01", headers={"content-type": "application/octet-stream"}, binary=True
    )
    assert event_answer.status == 200
    assert event_answer.headers["content-type"] == "application/octet-stream"


def test_endpoint_deleted_between_check_and_invoke_gives_503_and_a_wake_not_a_5xx(stack):
    stack.platform.wake_until_ready()
    # Someone deletes it behind the manager's back; SageMaker now answers "Endpoint ... not found".
    aws.client("sagemaker").delete_endpoint(EndpointName=ENDPOINT)
    stack.platform.endpoints.timelines.pop(ENDPOINT)
    answer = stack.call("POST", "/invoke", HELLO)
    assert answer.status == 503 and int(answer.headers["retry-after"]) > 0
    assert answer.json()["state"] == "waking"
    assert stack.platform.endpoints.creates == 2


def test_a_request_sagemaker_rejects_while_serving_is_a_400(stack, monkeypatch):
    from botocore.exceptions import ClientError

    stack.platform.wake_until_ready()

    def reject(**kwargs):
        raise ClientError({"Error": {"Code": "ValidationError", "Message": "Invalid ContentType"}}, "InvokeEndpoint")

    monkeypatch.setattr("sleepwake.aws.runtime.EndpointRuntime._call", lambda self, **kw: reject(**kw))
    answer = stack.call("POST", "/invoke", HELLO)
    assert answer.status == 400 and "Invalid ContentType" in answer.json()["error"]


def test_model_errors_are_502_with_the_model_status(stack):
    stack.platform.wake_until_ready()
    stack.runtime.fail_next(status=500, message="CUDA error: out of memory")
    answer = stack.call("POST", "/invoke", HELLO)
    assert answer.status == 502
    assert answer.json()["original_status_code"] == 500 and "out of memory" in answer.json()["error"]


def test_throttling_is_429_with_retry_after(stack, monkeypatch):
    from sleepwake.aws.runtime import Busy

    stack.platform.wake_until_ready()

    def throttled(self, *args, **kwargs):
        raise Busy("SageMaker throttled the call", 429, 1)

    monkeypatch.setattr("sleepwake.aws.runtime.EndpointRuntime.invoke", throttled)
    answer = stack.call("POST", "/invoke", HELLO)
    assert (answer.status, answer.headers["retry-after"]) == (429, "1")


def test_model_answers_too_large_to_return_inline_are_stored_and_redirected(stack, monkeypatch):
    monkeypatch.setattr("sleepwake.gateway.service.MAX_INLINE_RESPONSE_BYTES", 10)
    stack.platform.wake_until_ready()
    set_model_results(('{"generated_text": "a long answer"}', "application/json"))
    answer = stack.call("POST", "/invoke", HELLO)
    assert answer.status == 303
    assert answer.headers["location"] == answer.json()["result_url"]
    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("results/")
    stored = aws.client("s3").get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    assert json.loads(stored) == {"generated_text": "a long answer"}


def test_status_route_is_the_managers_status(stack):
    answer = stack.call("GET", "/status")
    assert answer.status == 200
    assert (answer.json()["state"], answer.json()["endpoint_name"]) == ("asleep", ENDPOINT)


# ---- respond-async ----------------------------------------------------------------------------------------------
def submit(stack, body=HELLO, token_name="test-app"):
    answer = stack.call(
        "POST",
        "/invoke",
        body,
        headers={"content-type": "application/json", "prefer": "respond-async"},
        token_name=token_name,
    )
    assert answer.status == 202, answer.body
    return answer


def test_respond_async_to_a_sleeping_endpoint_is_queued_replayed_after_in_service_and_readable(stack):
    answer = submit(stack)
    body = answer.json()
    request_id = body["request_id"]
    assert len(request_id) == 32 and body["status"] == "queued" and body["state"] == "waking"
    assert answer.headers["location"] == f"/requests/{request_id}" == body["status_url"]
    assert answer.headers["preference-applied"] == "respond-async"
    assert stack.platform.endpoints.creates == 1
    assert queue_depth(stack.resources.queue_url) == 1
    assert stack.call("GET", f"/requests/{request_id}").json()["status"] == "queued"

    stack.clock.advance(WAKE_SECONDS)  # InService; the replay switch lets the queue flow now
    set_model_results(('{"generated_text": "replayed"}', "application/json"))
    assert stack.poll() == (1, [])
    assert queue_depth(stack.resources.queue_url) == 0

    done = stack.call("GET", f"/requests/{request_id}").json()
    assert done["status"] == "done" and done["attempts"] == 1
    assert json.loads(done["result"]) == {"generated_text": "replayed"}
    assert done["result_content_type"] == "application/json"
    assert done["result_url"].startswith("https://") and f"results/{request_id}" in done["result_url"]
    assert done["result_url_expires_at"] == iso(stack.clock.now() + 3600)
    # the replay counts as use of the endpoint
    assert stack.platform.store.get(ENDPOINT).last_activity == stack.clock.now()


def test_a_queued_request_keeps_the_endpoint_awake_until_it_is_replayed(stack):
    submit(stack)
    stack.clock.advance(WAKE_SECONDS)
    assert stack.manager.tick()["results"][0]["state"] == "ready"
    # the wake request and the queued request count as use: no sleep within the idle timeout (900 s), which
    # counts from the submission, W = 480 s before the endpoint became ready
    for _ in range((900 - WAKE_SECONDS) // 60 - 1):
        stack.clock.advance(60)
        assert stack.manager.tick()["results"][0]["state"] == "ready"
    assert stack.poll() == (1, [])


def test_duplicate_delivery_does_not_invoke_the_model_twice(stack):
    request_id = submit(stack).json()["request_id"]
    stack.clock.advance(WAKE_SECONDS)
    sqs = aws.client("sqs")
    message = sqs.receive_message(QueueUrl=stack.resources.queue_url, MessageSystemAttributeNames=["All"])
    from gateway_support import sqs_event

    event = sqs_event(message["Messages"], stack.resources.queue_arn)
    from sleepwake.handlers import replay as replay_entry

    assert replay_entry.handler(event, None) == {"batchItemFailures": []}
    calls = len(stack.runtime.calls)
    assert replay_entry.handler(event, None) == {"batchItemFailures": []}  # delivered again
    assert len(stack.runtime.calls) == calls
    assert stack.call("GET", f"/requests/{request_id}").json()["status"] == "done"


def test_large_async_bodies_go_through_s3_and_are_removed_after_the_replay(stack):
    big = json.dumps({"inputs": "x" * 300_000})
    request_id = submit(stack, big).json()["request_id"]
    s3 = aws.client("s3")
    assert s3.get_object(Bucket=BUCKET, Key=f"requests/{request_id}")["Body"].read() == big.encode()
    message = json.loads(aws.client("sqs").receive_message(QueueUrl=stack.resources.queue_url)["Messages"][0]["Body"])
    assert message["body_key"] == f"requests/{request_id}" and "body_base64" not in message
    aws.client("sqs").purge_queue(QueueUrl=stack.resources.queue_url)
    aws.client("sqs").send_message(QueueUrl=stack.resources.queue_url, MessageBody=json.dumps(message))
    stack.clock.advance(WAKE_SECONDS)
    assert stack.poll() == (1, [])
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys == [f"results/{request_id}"]


def test_a_replay_that_keeps_failing_is_retried_then_dead_lettered_not_lost(stack):
    request_id = submit(stack).json()["request_id"]
    stack.clock.advance(WAKE_SECONDS)
    stack.runtime.fail_next(times=10, status=500)
    for attempt in range(1, MAX_RECEIVE_COUNT + 1):
        received, failed = stack.poll()
        assert (received, len(failed)) == (1, 1), attempt
        record = stack.call("GET", f"/requests/{request_id}").json()
        assert record["attempts"] == attempt
        assert record["status"] == ("failed" if attempt == MAX_RECEIVE_COUNT else "queued")
    assert record["dead_lettered"] is True and "dead-letter queue" in record["error"]
    # the next receive moves it to the dead-letter queue (SQS's redrive policy): nothing is lost
    assert stack.poll() == (0, [])
    dead = aws.client("sqs").receive_message(QueueUrl=stack.resources.dlq_url)["Messages"]
    assert json.loads(dead[0]["Body"])["request_id"] == request_id
    # a redrive replays it
    aws.client("sqs").send_message(QueueUrl=stack.resources.queue_url, MessageBody=dead[0]["Body"])
    stack.runtime._failures.clear()
    assert stack.poll() == (1, [])
    record = stack.call("GET", f"/requests/{request_id}").json()
    assert record["status"] == "done" and "dead_lettered" not in record and "error" not in record


def test_endpoint_going_to_sleep_mid_replay_keeps_the_message_and_wakes_it_again(stack):
    request_id = submit(stack).json()["request_id"]
    stack.clock.advance(WAKE_SECONDS)
    stack.manager.tick()
    stack.manager.sleep(ENDPOINT, force=True)  # gone before the replay ran
    received, failed = stack.poll()
    assert (received, len(failed)) == (1, 1)
    record = stack.call("GET", f"/requests/{request_id}").json()
    assert record["status"] == "queued" and "woke it" in record["error"]
    assert queue_depth(stack.resources.queue_url) == 1
    # the replay asked for a wake: once SageMaker has deleted it, the next tick creates it again
    stack.clock.advance(60)
    stack.manager.tick()
    stack.clock.advance(WAKE_SECONDS)
    assert stack.manager.tick()["results"][0]["state"] == "ready"
    assert stack.poll() == (1, [])
    assert stack.call("GET", f"/requests/{request_id}").json()["status"] == "done"


def test_input_the_model_rejects_is_a_final_failed_answer_with_the_models_message(stack):
    request_id = submit(stack).json()["request_id"]
    stack.clock.advance(WAKE_SECONDS)
    stack.runtime.fail_next(status=422, message="inputs must be a string")
    assert stack.poll() == (1, [])  # not retried: the same input would fail again
    record = stack.call("GET", f"/requests/{request_id}").json()
    assert record["status"] == "failed" and record["original_status_code"] == 422
    assert record["result"] == "inputs must be a string"
    assert queue_depth(stack.resources.queue_url) == 0
    # delivered again (SQS is at least once): the answer stands, the model is not asked twice
    calls = len(stack.runtime.calls)
    message = {
        "v": 1,
        "request_id": request_id,
        "endpoint_name": ENDPOINT,
        "content_type": "application/json",
        "received_at": 1.0,
        "body_base64": "e30=",
    }
    aws.client("sqs").send_message(QueueUrl=stack.resources.queue_url, MessageBody=json.dumps(message))
    assert stack.poll() == (1, []) and len(stack.runtime.calls) == calls


def test_a_request_is_readable_only_by_the_caller_that_queued_it(stack):
    request_id = submit(stack, token_name="app-a").json()["request_id"]
    assert stack.call("GET", f"/requests/{request_id}", token_name="app-a").status == 200
    other = stack.call("GET", f"/requests/{request_id}", token_name="app-b")
    assert other.status == 404 and other.json()["error"].startswith(f"no request {request_id}")


def test_the_replay_hands_back_what_it_has_no_time_for(stack):
    from gateway_support import poll_once

    submit(stack)
    submit(stack, '{"inputs": "second"}')
    stack.clock.advance(WAKE_SECONDS)

    class AlmostOutOfTime:
        aws_request_id = "ctx"

        @staticmethod
        def get_remaining_time_in_millis():
            return 1000

    from sleepwake.handlers import replay as replay_entry

    received, failed = poll_once(stack.resources, replay_entry.handler, context=AlmostOutOfTime())
    assert received == 2 and len(failed) == 2
    assert stack.runtime.calls == []  # nothing was started
    assert queue_depth(stack.resources.queue_url) == 2


# ---- leases -----------------------------------------------------------------------------------------------------
def lease(stack, minutes):
    return stack.call("POST", "/lease", json.dumps({"minutes": minutes}))


def test_lease_lifecycle_get_extend_release(stack):
    answer = stack.call("GET", "/lease")
    assert answer.status == 200
    assert answer.json() == {
        "endpoint_name": ENDPOINT,
        "holder": "token:test-app",
        "active": False,
        "expires_at": None,
        "seconds_left": 0,
        "max_minutes": 120,
        "endpoint_lease": {"active": False, "expires_at": None, "seconds_left": 0, "holders": 0},
    }
    extended = lease(stack, 30)
    body = extended.json()
    assert extended.status == 200
    assert body["expires_at"] == iso(stack.clock.now() + 1800) and body["expires_at"].endswith("Z")
    assert body["seconds_left"] == 1800 and body["active"] is True and body["capped"] is False
    assert body["state"] == "waking" and stack.platform.endpoints.creates == 1  # an asleep endpoint starts now
    stack.clock.advance(600)
    body = lease(stack, 30).json()  # adds to the running lease
    assert body["seconds_left"] == 1800 - 600 + 1800
    released = stack.call("DELETE", "/lease")
    assert released.status == 200 and released.json()["released"] is True and released.json()["active"] is False
    assert stack.call("DELETE", "/lease").json()["released"] is False


def test_extending_an_expired_lease_counts_from_now(stack):
    lease(stack, 10)
    stack.clock.advance(3600)  # expired 50 minutes ago
    assert stack.call("GET", "/lease").json()["active"] is False
    body = lease(stack, 10).json()
    assert body["expires_at"] == iso(stack.clock.now() + 600)
    assert body["seconds_left"] == 600


def test_a_lease_never_reaches_beyond_the_maximum_window(stack):
    lease(stack, 100)
    body = lease(stack, 100).json()
    assert body["capped"] is True and body["seconds_left"] == 120 * 60
    body = lease(stack, 1).json()  # already at the cap: nothing changes
    assert body["capped"] is True and body["seconds_left"] == 120 * 60


def test_an_active_lease_keeps_the_endpoint_awake_past_the_idle_timeout(stack):
    lease(stack, 60)
    stack.clock.advance(WAKE_SECONDS)
    for _ in range(45):
        stack.clock.advance(60)
        assert stack.manager.tick()["results"][0]["state"] == "ready"
    stack.call("DELETE", "/lease")
    stack.clock.advance(60)
    # released: the idle rule alone decides again (its last use was the lease request)
    assert stack.manager.tick()["results"][0]["state"] == "sleeping"


def test_a_lease_on_an_asleep_endpoint_makes_the_tick_create_it(stack):
    from sleepwake.gateway.lease import LeaseService

    LeaseService(stack.platform.store, stack.clock, 120).extend(ENDPOINT, 10, "token:app")
    assert stack.manager.tick()["results"][0]["actions"] == ["create"]


# ---- bad input: a clear error, and nothing changes ----------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "message"),
    [
        ("POST", "/lease", "{minutes: 5}", None, 400, "the body is not valid JSON"),
        ("POST", "/lease", "", None, 400, 'the body must be a JSON object such as {"minutes": 30}'),
        ("POST", "/lease", "[5]", None, 400, "the body must be a JSON object"),
        ("POST", "/lease", "{}", None, 400, '"minutes" is required'),
        ("POST", "/lease", '{"minutes": "30"}', None, 400, '"minutes" must be a whole number, got "30"'),
        ("POST", "/lease", '{"minutes": 30.5}', None, 400, '"minutes" must be a whole number, got 30.5'),
        ("POST", "/lease", '{"minutes": true}', None, 400, '"minutes" must be a whole number, got true'),
        ("POST", "/lease", '{"minutes": null}', None, 400, '"minutes" must be a whole number, got null'),
        ("POST", "/lease", '{"minutes": 0}', None, 400, '"minutes" must be between 1 and 120, got 0'),
        ("POST", "/lease", '{"minutes": -5}', None, 400, '"minutes" must be between 1 and 120, got -5'),
        ("POST", "/lease", '{"minutes": 121}', None, 400, '"minutes" must be between 1 and 120, got 121'),
        ("POST", "/lease", '{"minutes": 5, "extra": 1}', None, 400, "unknown field(s): extra"),
        ("POST", "/invoke", '{"inputs": ', None, 400, "the body is not valid JSON"),
        ("POST", "/invoke", "", None, 400, "the body is empty"),
        ("GET", "/nowhere", None, None, 404, "no route GET /nowhere"),
        ("PUT", "/lease", "{}", None, 405, "PUT is not allowed on /lease; use DELETE or GET or POST"),
        ("POST", "/status", "{}", None, 405, "POST is not allowed on /status; use GET"),
        ("DELETE", "/requests/" + "a" * 32, None, None, 405, "use GET"),
        ("GET", "/requests/not-an-id", None, None, 400, "'not-an-id' is not a request id"),
        ("GET", "/requests/" + "a" * 32, None, None, 404, "no request " + "a" * 32),
    ],
)
def test_bad_requests_get_a_named_error_and_change_nothing(stack, method, path, body, headers, status, message):
    before = stack.snapshot()
    answer = stack.call(method, path, body, headers=headers)
    assert answer.status == status
    assert message in answer.json()["error"]
    assert stack.snapshot() == before
    if status == 405:
        assert answer.headers["allow"]


def test_a_body_over_the_limit_gets_413_naming_the_limit_and_changes_nothing(stack):
    before = stack.snapshot()
    too_big = json.dumps({"inputs": "x" * DEFAULT_MAX_BODY_BYTES})
    answer = stack.call("POST", "/invoke", too_big)
    assert answer.status == 413
    body = answer.json()
    assert body["max_bytes"] == DEFAULT_MAX_BODY_BYTES == 4_669_440
    assert f"at most {DEFAULT_MAX_BODY_BYTES} bytes" in body["error"]
    assert stack.snapshot() == before
    # the same for a queued request
    answer = stack.call(
        "POST", "/invoke", too_big, headers={"content-type": "application/json", "prefer": "respond-async"}
    )
    assert answer.status == 413 and stack.snapshot() == before


def test_a_lower_configured_limit_applies(stack):
    stack.rebuild(SLEEPWAKE_MAX_BODY_BYTES="64")
    answer = stack.call("POST", "/invoke", json.dumps({"inputs": "y" * 100}))
    assert answer.status == 413 and answer.json()["max_bytes"] == 64


def test_an_event_that_is_not_an_http_api_event_is_a_400(stack):
    from sleepwake.handlers import gateway as gateway_entry

    before = stack.snapshot()
    answer = gateway_entry.handler({"action": "wake"}, None)
    assert answer["statusCode"] == 400 and "payload format version 2.0" in answer["body"]
    bad_base64 = {
        **json.loads(json.dumps(__import__("gateway_support").http_event("POST", "/invoke", "x"))),
        "isBase64Encoded": True,
        "body": "***",
    }
    assert gateway_entry.handler(bad_base64, None)["statusCode"] == 400
    assert stack.snapshot() == before


def test_unhandled_errors_are_500_with_a_request_id_and_no_internals(stack, monkeypatch, capsys):
    def explode(self, request, **params):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("sleepwake.gateway.service.Gateway._invoke", explode)  # a route that fails
    answer = stack.call("POST", "/invoke", HELLO)
    assert answer.status == 500
    assert "secret internals" not in answer.json()["error"] and "request id" in answer.json()["error"]
    assert "secret internals" in capsys.readouterr().out  # but the logs have it


def test_a_misconfigured_gateway_says_so_without_leaking_settings(stack, monkeypatch):
    from sleepwake.handlers import gateway as gateway_entry

    monkeypatch.undo()  # back to the real service construction from the environment
    monkeypatch.setenv("SLEEPWAKE_GATEWAY_ENDPOINT", "someone-else")
    gateway_entry.reset()
    try:
        answer = gateway_entry.handler(__import__("gateway_support").http_event("GET", "/status"), None)
    finally:
        gateway_entry.reset()
    assert answer["statusCode"] == 500 and "misconfigured" in answer["body"]
    assert "someone-else" not in answer["body"]


def test_state_items_are_the_documented_kinds(stack):
    submit(stack)
    lease(stack, 5)
    kinds = {item["pk"].split("#", 1)[0] + "#" for item in state_items("")}
    assert kinds == {"endpoint#", "request#"}


def test_concurrent_requests_on_one_gateway_each_see_their_own_request(stack, monkeypatch):
    """Two requests routed at once by one Gateway: the first is held inside the resolver, after routing began and
    before its route runs, while the second is routed and answered; each must still be answered for its own caller
    (a resolver shared between requests, its context holding "the" request, answered the first for the second)."""
    import threading

    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    first_inside, second_done = threading.Event(), threading.Event()
    original = ApiGatewayResolver._resolve

    def held(self):
        if threading.current_thread().name == "first":
            first_inside.set()
            assert second_done.wait(10)
        return original(self)

    monkeypatch.setattr(ApiGatewayResolver, "_resolve", held)
    answers = {}
    first = threading.Thread(
        target=lambda: answers.setdefault("first", stack.call("GET", "/lease", token_name="first")), name="first"
    )
    first.start()
    assert first_inside.wait(10)
    answers["second"] = stack.call("GET", "/lease", token_name="second")
    second_done.set()
    first.join(10)
    assert answers["second"].json()["holder"] == "token:second"
    assert answers["first"].json()["holder"] == "token:first"
