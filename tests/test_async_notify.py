"""The async notification handler against moto: SageMaker's SNS results become per-input statuses, and failed
inputs are kept aside with their error, never deleted."""

from __future__ import annotations

import json

import pytest

from async_support import INPUT_BUCKET, AsyncPlatform, async_platform, sns_event  # noqa: F401
from sleepwake.asyncjobs.events import parse_s3_event
from sleepwake.asyncjobs.jobs import inference_id, read_output, status, upload_input
from sleepwake.aws import clients as aws
from sleepwake.handlers import async_notify, async_trigger

KEY = "inputs/request-0001.json"
REASON = (
    "ClientError: Received server error (500) from model. See the SageMaker Endpoint logs in your account "
    "for more information."
)


@pytest.fixture(autouse=True)
def _fresh_handlers():
    async_notify.reset()
    async_trigger.reset()
    yield
    async_notify.reset()
    async_trigger.reset()


def submitted(platform: AsyncPlatform, key: str = KEY) -> tuple[str, str]:
    version = platform.upload(key)
    inputs, _ = parse_s3_event(platform.s3_event(key, version), bucket=INPUT_BUCKET, prefix="inputs/")
    platform.jobs.submit(inputs[0])
    return version, inference_id(INPUT_BUCKET, key, version)


def test_a_success_notification_records_the_output(async_platform, lambda_context):
    version, iid = submitted(async_platform)
    event = sns_event("sns_async_success.json", inference_id=iid, input_location=f"s3://{INPUT_BUCKET}/{KEY}")
    answer = async_notify.handler(event, lambda_context)
    assert answer["ok"] is True
    assert answer["results"][0]["status"] == "completed"
    seen = status(INPUT_BUCKET, KEY, version)
    assert seen["status"] == "completed"
    assert seen["output_location"] == "s3://sleepwake-test-outputs/outputs/REPLACED.out"
    assert seen["completed_at"].endswith("Z")
    # SNS delivers at least once: the same message again changes nothing.
    again = async_notify.handler(event, lambda_context)
    assert again["results"][0]["duplicate"] is True
    assert status(INPUT_BUCKET, KEY, version) == seen


def test_an_error_notification_records_the_reason_and_keeps_the_input_aside(async_platform, lambda_context):
    version, iid = submitted(async_platform)
    event = sns_event("sns_async_error.json", inference_id=iid, input_location=f"s3://{INPUT_BUCKET}/{KEY}")
    answer = async_notify.handler(event, lambda_context)
    assert answer["ok"] is True and answer["results"][0]["status"] == "failed"

    seen = status(INPUT_BUCKET, KEY, version)
    assert seen["status"] == "failed"
    assert seen["failure_reason"] == REASON
    assert seen["failure_location"] == "s3://sleepwake-test-outputs/failures/REPLACED.out"
    assert seen["failed_copy"] == f"s3://{INPUT_BUCKET}/failed/request-0001.json"
    assert seen["error_report"] == f"s3://{INPUT_BUCKET}/failed/request-0001.json.error.json"

    s3 = aws.client("s3")
    # The original is untouched: same version, still the current one, same bytes.
    original = s3.get_object(Bucket=INPUT_BUCKET, Key=KEY)
    assert original["VersionId"] == version and original["Body"].read() == b'{"inputs": "I love this"}'
    # The copy carries the error as metadata and tag, and keeps the content type.
    copy = s3.get_object(Bucket=INPUT_BUCKET, Key="failed/request-0001.json")
    assert copy["Body"].read() == b'{"inputs": "I love this"}'
    assert copy["ContentType"] == "application/json"
    assert copy["Metadata"]["sleepwake-error"] == REASON
    assert copy["Metadata"]["sleepwake-inference-id"] == iid
    assert copy["Metadata"]["sleepwake-source-version"] == version
    tags = s3.get_object_tagging(Bucket=INPUT_BUCKET, Key="failed/request-0001.json")["TagSet"]
    assert tags == [{"Key": "sleepwake-status", "Value": "failed"}]
    report = json.loads(s3.get_object(Bucket=INPUT_BUCKET, Key="failed/request-0001.json.error.json")["Body"].read())
    assert report["failure_reason"] == REASON and report["version_id"] == version
    assert report["input"] == f"s3://{INPUT_BUCKET}/{KEY}"
    assert report["input_kept_at"] == seen["failed_copy"]
    # Nothing was deleted: every version of the input is still there.
    versions = s3.list_object_versions(Bucket=INPUT_BUCKET, Prefix=KEY)
    assert [v["VersionId"] for v in versions["Versions"]] == [version]
    assert "DeleteMarkers" not in versions


def test_the_failed_copy_keeps_an_old_version_not_the_current_one(async_platform):
    version, iid = submitted(async_platform)
    async_platform.upload(KEY, b'{"inputs": "a newer upload"}')  # overwritten before the failure arrived
    async_notify.handler(
        sns_event("sns_async_error.json", inference_id=iid, input_location=f"s3://{INPUT_BUCKET}/{KEY}")
    )
    copy = aws.client("s3").get_object(Bucket=INPUT_BUCKET, Key="failed/request-0001.json")
    assert copy["Body"].read() == b'{"inputs": "I love this"}'


def test_a_reason_that_cannot_be_an_s3_header_is_made_printable(async_platform):
    version, iid = submitted(async_platform)
    event = sns_event("sns_async_error.json", inference_id=iid, input_location=f"s3://{INPUT_BUCKET}/{KEY}")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["failureReason"] = "ModelError: línea 3\nCUDA out of memory " + "x" * 3000
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    async_notify.handler(event)
    metadata = aws.client("s3").head_object(Bucket=INPUT_BUCKET, Key="failed/request-0001.json")["Metadata"]
    assert metadata["sleepwake-error"].startswith("ModelError: l nea 3 CUDA out of memory")
    assert len(metadata["sleepwake-error"]) == 1024
    assert status(INPUT_BUCKET, KEY, version)["failure_reason"] == message["failureReason"]


def test_a_result_for_an_input_the_trigger_did_not_submit_is_ignored(async_platform):
    event = sns_event(
        "sns_async_success.json", inference_id="someone-elses-id", input_location=f"s3://{INPUT_BUCKET}/{KEY}"
    )
    answer = async_notify.handler(event)
    assert answer["ok"] is True and answer["results"][0]["ignored"] is True
    assert async_platform.table_items() == []


def test_a_result_of_another_endpoint_is_ignored(async_platform):
    version, iid = submitted(async_platform)
    event = sns_event(
        "sns_async_success.json",
        inference_id=iid,
        input_location=f"s3://{INPUT_BUCKET}/{KEY}",
        endpoint="another-endpoint",
    )
    assert async_notify.handler(event)["results"][0]["ignored"] is True
    assert status(INPUT_BUCKET, KEY, version)["status"] == "queued"


def test_a_result_naming_another_input_changes_nothing(async_platform):
    version, iid = submitted(async_platform)
    event = sns_event("sns_async_error.json", inference_id=iid, input_location=f"s3://{INPUT_BUCKET}/inputs/other")
    answer = async_notify.handler(event)
    assert answer["ok"] is False and "belongs to" in answer["results"][0]["error"]
    assert status(INPUT_BUCKET, KEY, version)["status"] == "queued"
    assert "Contents" not in aws.client("s3").list_objects_v2(Bucket=INPUT_BUCKET, Prefix="failed/")


def _with_message(message) -> dict:
    event = sns_event("sns_async_success.json", inference_id="x", input_location="s3://b/k")
    event["Records"][0]["Sns"]["Message"] = message if isinstance(message, str) else json.dumps(message)
    return event


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (
            _with_message("not json at all"),
            "record 0: Sns.Message is not JSON (Expecting value at line 1 column 1): 'not json at all'",
        ),
        (
            _with_message({"invocationStatus": "Completed", "requestParameters": {"inputLocation": "s3://bkt/k"}}),
            "record 0: inferenceId is missing",
        ),
        (
            _with_message({"invocationStatus": "Pending", "inferenceId": "x"}),
            "record 0: not a SageMaker async result: invocationStatus 'Pending' (expected Completed or Failed)",
        ),
        (
            _with_message({"invocationStatus": "Completed", "inferenceId": "x", "requestParameters": {}}),
            "record 0: requestParameters.inputLocation is missing",
        ),
        (
            _with_message(
                {
                    "invocationStatus": "Completed",
                    "inferenceId": "x",
                    "requestParameters": {"inputLocation": "s3://bkt/k"},
                }
            ),
            "record 0: a Completed result without responseParameters.outputLocation",
        ),
        (
            _with_message(
                {
                    "invocationStatus": "Failed",
                    "inferenceId": "x",
                    "requestParameters": {"inputLocation": "https://example.com/k"},
                }
            ),
            "not an s3://bucket/key URI: 'https://example.com/k'",
        ),
        (
            {"Records": [{"EventSource": "aws:s3", "s3": {}}]},
            "record 0: not an SNS notification (EventSource 'aws:s3')",
        ),
        ({"Records": [{"EventSource": "aws:sns", "Sns": {"Subject": "x"}}]}, "record 0: Sns.Message is missing"),
        ({"action": "status"}, "not an SNS notification: expected a non-empty \"Records\" list; got keys ['action']"),
    ],
)
def test_a_malformed_notification_is_rejected_naming_the_problem(async_platform, event, error):
    version, _ = submitted(async_platform)
    before = async_platform.table_items()
    assert async_notify.handler(event) == {"ok": False, "error": error}
    assert async_platform.table_items() == before
    assert status(INPUT_BUCKET, KEY, version)["status"] == "queued"


def test_status_of_an_input_nobody_has_seen(async_platform):
    seen = status(INPUT_BUCKET, "inputs/never-uploaded.json")
    assert seen["status"] == "unknown" and seen["message"].startswith("no record yet")


def test_the_whole_round_trip_an_app_makes(async_platform, lambda_context):
    """upload -> S3 event -> trigger -> (SageMaker) -> SNS result -> status -> output."""
    uploaded = upload_input(b'{"inputs": "round trip"}', bucket=INPUT_BUCKET, prefix="inputs/")
    assert status(INPUT_BUCKET, uploaded["key"], uploaded["version_id"])["status"] == "unknown"
    event = async_platform.s3_event(uploaded["key"], uploaded["version_id"])
    trigger = async_trigger.handler(event, lambda_context)
    output_location = trigger["results"][0]["output_location"]
    assert status(INPUT_BUCKET, uploaded["key"], uploaded["version_id"])["status"] == "queued"

    # What SageMaker publishes once the model answered (moto wrote a canned answer at output_location).
    result = sns_event(
        "sns_async_success.json",
        inference_id=trigger["results"][0]["inference_id"],
        input_location=uploaded["input_location"],
    )
    message = json.loads(result["Records"][0]["Sns"]["Message"])
    message["responseParameters"]["outputLocation"] = output_location
    result["Records"][0]["Sns"]["Message"] = json.dumps(message)
    async_notify.handler(result, lambda_context)

    seen = status(INPUT_BUCKET, uploaded["key"])
    assert seen["status"] == "completed" and seen["output_location"] == output_location
    assert json.loads(read_output(seen["output_location"])) == {"default": "response"}


def test_an_upload_key_is_a_name_under_the_input_prefix(async_platform):
    # the name under the prefix, as an app thinks of it; a key already under the prefix is kept as it is
    assert upload_input(b"{}", bucket=INPUT_BUCKET, prefix="inputs/", key="batch-7/x.json")["key"] == (
        "inputs/batch-7/x.json"
    )
    assert upload_input(b"{}", bucket=INPUT_BUCKET, prefix="inputs/", key="inputs/y.json")["key"] == "inputs/y.json"
    for bad in ("", "/", "/abs.json", "a//b.json"):
        with pytest.raises(ValueError, match="not an object name"):
            upload_input(b"{}", bucket=INPUT_BUCKET, prefix="inputs/", key=bad)
    stored = aws.client("s3").list_objects_v2(Bucket=INPUT_BUCKET)["Contents"]
    assert sorted(o["Key"] for o in stored) == ["inputs/batch-7/x.json", "inputs/y.json"]
