"""The async trigger against moto: S3 object-created -> InvokeEndpointAsync, once per object version."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from async_support import ASYNC_ENV, ENDPOINT, INPUT_BUCKET, AsyncPlatform, async_platform  # noqa: F401
from sleepwake.asyncjobs.events import BadEvent, parse_s3_event
from sleepwake.asyncjobs.jobs import AsyncRuntime, InFlight, JobStore, inference_id, status
from sleepwake.asyncjobs.settings import load_async_settings
from sleepwake.common.errors import SettingsError
from sleepwake.handlers import async_trigger


@pytest.fixture(autouse=True)
def _fresh_handler():
    async_trigger.reset()
    yield
    async_trigger.reset()


def submit(platform: AsyncPlatform, event: dict) -> list[dict]:
    inputs, _ = parse_s3_event(event, bucket=INPUT_BUCKET, prefix="inputs/")
    return [platform.jobs.submit(item) for item in inputs]


def test_an_upload_is_invoked_once_with_its_location_and_recorded(async_platform, lambda_context):
    key = "inputs/request-0001.json"
    version = async_platform.upload(key)
    answer = async_trigger.handler(async_platform.s3_event(key, version), lambda_context)
    assert answer["ok"] is True and answer["submitted"] == 1
    assert async_platform.invocations == [{"endpoint_name": ENDPOINT, "input_location": f"s3://{INPUT_BUCKET}/{key}"}]

    iid = inference_id(INPUT_BUCKET, key, version)
    result = answer["results"][0]
    assert result["inference_id"] == iid and result["status"] == "queued"
    record = async_platform.record(iid)
    assert record["status"] == "queued"
    assert (record["bucket"], record["key"], record["version_id"]) == (INPUT_BUCKET, key, version)
    assert record["output_location"].startswith("s3://") and record["failure_location"].startswith("s3://")
    assert record["content_type"] == "application/json"
    assert "claim_token" not in record and record["attempts"] == 1
    assert record["expires_at"] > async_platform.clock.now() + 29 * 86400  # TTL: 30 days by default

    # The app's view, by version and by key alone.
    for seen in (status(INPUT_BUCKET, key, version), status(INPUT_BUCKET, key)):
        assert seen["status"] == "queued" and seen["version_id"] == version
        assert seen["output_location"] == record["output_location"]


def test_a_duplicate_event_is_ignored(async_platform, lambda_context):
    key = "inputs/request-0001.json"
    version = async_platform.upload(key)
    event = async_platform.s3_event(key, version)
    first = async_trigger.handler(event, lambda_context)
    second = async_trigger.handler(event, lambda_context)
    assert len(async_platform.invocations) == 1
    assert first["submitted"] == 1 and second["submitted"] == 0
    assert second["results"][0]["duplicate"] is True and second["results"][0]["status"] == "queued"


def test_each_version_of_a_key_is_invoked_once_and_status_follows_the_latest(async_platform):
    key = "inputs/same-key.json"
    v1 = async_platform.upload(key, b'{"inputs": "one"}')
    v2 = async_platform.upload(key, b'{"inputs": "two"}')
    # The events arrive out of order and twice each; the sequencer says v2 is the later upload.
    for version, sequencer in (
        (v2, "0055AED6DCD90281F0"),
        (v1, "0055AED6DCD90281E5"),
        (v2, "0055AED6DCD90281F0"),
        (v1, "0055AED6DCD90281E5"),
    ):
        submit(async_platform, async_platform.s3_event(key, version, sequencer=sequencer))
    assert len(async_platform.invocations) == 2
    assert status(INPUT_BUCKET, key)["version_id"] == v2
    assert {status(INPUT_BUCKET, key, v)["inference_id"] for v in (v1, v2)} == {
        inference_id(INPUT_BUCKET, key, v1),
        inference_id(INPUT_BUCKET, key, v2),
    }


def test_an_unversioned_input_uses_version_null(async_platform):
    key = "inputs/plain.json"
    async_platform.upload(key)
    [answer] = submit(async_platform, async_platform.s3_event(key, None))
    assert answer["version_id"] == "null" and answer["status"] == "queued"
    assert status(INPUT_BUCKET, key, "null")["status"] == "queued"


def test_url_encoded_keys_are_decoded(async_platform):
    key = "inputs/my file (1).json"
    version = async_platform.upload(key)
    submit(async_platform, async_platform.s3_event(key, version, encoded_key="inputs/my+file+%281%29.json"))
    assert async_platform.invocations[0]["input_location"] == f"s3://{INPUT_BUCKET}/{key}"


def test_the_objects_content_type_is_passed_and_the_default_fills_in(async_platform, monkeypatch):
    seen = []
    original = AsyncRuntime.invoke

    def capture(self, endpoint_name, input_location, inference, content_type, **kwargs):
        seen.append(content_type)
        return original(self, endpoint_name, input_location, inference, content_type, **kwargs)

    monkeypatch.setattr(AsyncRuntime, "invoke", capture)
    v_csv = async_platform.upload("inputs/a.csv", b"1,2,3", content_type="text/csv")
    v_none = async_platform.s3.put_object(Bucket=INPUT_BUCKET, Key="inputs/b", Body=b"{}")["VersionId"]
    submit(async_platform, async_platform.s3_event("inputs/a.csv", v_csv))
    submit(async_platform, async_platform.s3_event("inputs/b", v_none))
    assert seen == ["text/csv", "application/json"]


# ---- a crash or an error between claim and invoke ---------------------------------------------------------------


def test_a_failed_invoke_is_retried_by_the_next_delivery_and_invokes_once(async_platform, monkeypatch):
    key = "inputs/throttled.json"
    version = async_platform.upload(key)
    event = async_platform.s3_event(key, version)
    original = AsyncRuntime.invoke
    calls = {"n": 0}

    def throttled_once(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "InvokeEndpointAsync"
            )
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AsyncRuntime, "invoke", throttled_once)
    with pytest.raises(ClientError):
        submit(async_platform, event)  # the handler raises too: Lambda retries the S3 event
    seen = status(INPUT_BUCKET, key, version)
    assert seen["status"] == "retrying" and seen["last_error"] == "ThrottlingException: Rate exceeded"
    assert async_platform.invocations == []

    async_platform.clock.advance(60)  # Lambda's first retry
    [answer] = submit(async_platform, event)
    assert answer["status"] == "queued" and answer["attempts"] == 2
    assert len(async_platform.invocations) == 1
    assert "last_error" not in status(INPUT_BUCKET, key, version)


def test_a_claim_left_by_a_crash_is_taken_over_once_it_expires(async_platform):
    key = "inputs/crashed.json"
    version = async_platform.upload(key)
    event = async_platform.s3_event(key, version)
    iid = inference_id(INPUT_BUCKET, key, version)
    now = async_platform.clock.now()
    # What a trigger leaves behind when it dies right after its claim: a live claim and no invoke.
    assert JobStore(ASYNC_ENV["SLEEPWAKE_ASYNC_TABLE_NAME"]).claim(
        {
            "inference_id": iid,
            "bucket": INPUT_BUCKET,
            "key": key,
            "version_id": version,
            "input_location": f"s3://{INPUT_BUCKET}/{key}",
            "status": "submitting",
            "claim_token": "dead",
            "claim_expires_at": now + 90,
            "attempts": 1,
            "submitted_at": now,
        },
        now,
    )

    async_platform.clock.advance(30)  # a retry within the claim: not a duplicate to drop, an event to retry later
    with pytest.raises(InFlight, match="being submitted by another invocation"):
        submit(async_platform, event)
    assert async_platform.invocations == []

    async_platform.clock.advance(90)  # the next retry, after the claim expired
    assert status(INPUT_BUCKET, key, version)["message"].startswith("the submission was interrupted")
    [answer] = submit(async_platform, event)
    assert answer["status"] == "queued" and answer["attempts"] == 2
    [again] = submit(async_platform, event)
    assert again["duplicate"] is True
    assert len(async_platform.invocations) == 1


def test_an_input_deleted_before_the_trigger_ran_is_skipped(async_platform):
    key = "inputs/gone.json"
    version = async_platform.upload(key)
    async_platform.s3.delete_object(Bucket=INPUT_BUCKET, Key=key, VersionId=version)
    [answer] = submit(async_platform, async_platform.s3_event(key, version))
    assert answer["skipped"] is True and async_platform.invocations == []
    assert async_platform.table_items() == []


# ---- bad events: a clear error and no state change --------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (
            lambda e: e["Records"][0]["s3"]["object"].update(key="other/request.json"),
            "key 'other/request.json' is not under the input prefix 'inputs/'",
        ),
        (
            lambda e: e["Records"][0]["s3"]["bucket"].update(name="someone-elses-bucket"),
            "bucket 'someone-elses-bucket' is not the input bucket 'sleepwake-test-inputs'",
        ),
        (
            lambda e: e["Records"][0].update(eventName="ObjectRemoved:Delete"),
            "only ObjectCreated events are submitted, got 'ObjectRemoved:Delete'",
        ),
        (lambda e: e["Records"][0].update(eventSource="aws:sqs"), "not an S3 event (eventSource 'aws:sqs')"),
        (lambda e: e["Records"][0]["s3"].pop("object"), "missing s3.bucket or s3.object"),
    ],
)
def test_a_bad_event_is_rejected_naming_the_problem(async_platform, lambda_context, mutate, error):
    version = async_platform.upload("inputs/request-0001.json")
    event = async_platform.s3_event("inputs/request-0001.json", version)
    mutate(event)
    answer = async_trigger.handler(event, lambda_context)
    assert answer == {"ok": False, "error": f"record 0: {error}"}
    assert async_platform.invocations == [] and async_platform.table_items() == []


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (
            {"action": "wake"},
            "not an S3 event notification: expected a non-empty \"Records\" list; got keys ['action']",
        ),
        ([], "the event must be a JSON object, got list"),
        ({"Records": []}, "not an S3 event notification: expected a non-empty \"Records\" list; got keys ['Records']"),
    ],
)
def test_something_that_is_not_an_s3_event_is_rejected(async_platform, lambda_context, event, error):
    assert async_trigger.handler(event, lambda_context) == {"ok": False, "error": error}
    assert async_platform.table_items() == []


def test_a_batch_with_one_bad_record_changes_nothing(async_platform, lambda_context):
    good = async_platform.s3_event("inputs/a.json", async_platform.upload("inputs/a.json"))
    bad = async_platform.s3_event("outside/b.json", "v")
    event = {"Records": good["Records"] + bad["Records"]}
    answer = async_trigger.handler(event, lambda_context)
    assert answer["ok"] is False and answer["error"].startswith("record 1: key 'outside/b.json'")
    assert async_platform.invocations == [] and async_platform.table_items() == []


def test_folder_placeholders_and_s3_test_events_are_skipped(async_platform, lambda_context):
    answer = async_trigger.handler(async_platform.s3_event("inputs/batch-7/", "v1"), lambda_context)
    assert answer == {"ok": True, "submitted": 0, "results": [], "skipped": ["inputs/batch-7/"]}
    assert async_trigger.handler({"Service": "Amazon S3", "Event": "s3:TestEvent"}, lambda_context)["ignored"]
    assert async_platform.invocations == [] and async_platform.table_items() == []


def test_a_missing_setting_fails_the_invocation_naming_the_variable(async_platform, lambda_context, monkeypatch):
    # Raised, not answered: an answer is a success to Lambda, and the upload would be dropped in silence.
    monkeypatch.delenv("SLEEPWAKE_ASYNC_ENDPOINT_NAME")
    with pytest.raises(SettingsError, match="SLEEPWAKE_ASYNC_ENDPOINT_NAME is not set"):
        async_trigger.handler(async_platform.s3_event("inputs/x.json", "v"), lambda_context)


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"SLEEPWAKE_ASYNC_INPUT_PREFIX": "inputs"}, 'SLEEPWAKE_ASYNC_INPUT_PREFIX must be a key prefix ending in "/"'),
        (
            {"SLEEPWAKE_ASYNC_FAILED_PREFIX": "inputs/failed/"},
            "SLEEPWAKE_ASYNC_FAILED_PREFIX 'inputs/failed/' must not overlap SLEEPWAKE_ASYNC_INPUT_PREFIX 'inputs/'",
        ),
        ({"SLEEPWAKE_ASYNC_CLAIM_SECONDS": "5"}, "SLEEPWAKE_ASYNC_CLAIM_SECONDS must be between 10 and 3600, got 5"),
        (
            {"SLEEPWAKE_ASYNC_REQUEST_TTL_SECONDS": "30"},
            "SLEEPWAKE_ASYNC_REQUEST_TTL_SECONDS must be between 60 and 21600, got 30",
        ),
        ({"SLEEPWAKE_ASYNC_INPUT_BUCKET": "Not_A_Bucket"}, "SLEEPWAKE_ASYNC_INPUT_BUCKET must be an S3 bucket name"),
    ],
)
def test_settings_reject_bad_values_naming_the_variable(override, error):
    with pytest.raises(SettingsError, match=error.replace("(", r"\(").replace(")", r"\)")):
        load_async_settings({**ASYNC_ENV, **override})


def test_parse_rejects_an_input_location_sagemaker_would_refuse():
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": INPUT_BUCKET}, "object": {"key": "inputs/" + "k" * 1020}},
            }
        ]
    }
    with pytest.raises(BadEvent, match="longer than the 1024 characters"):
        parse_s3_event(event, bucket=INPUT_BUCKET, prefix="inputs/")
