"""Recognise and validate the async functions' events: S3 object-created records and SageMaker's SNS results.

Pure parsing. Anything unrecognised is a `BadEvent` naming the problem; a batch with one bad record is rejected
whole, before anything is written, so a bad event never changes state.

SageMaker's async result notification (the SNS `Message`, a JSON string) looks like this:

    {"awsRegion": "us-east-1", "eventTime": "2022-01-25T22:46:00.608Z", "receivedTime": "...",
     "invocationStatus": "Completed" | "Failed",
     "failureReason": "ClientError: Received server error (500) from model. ...",           (Failed only)
     "requestParameters": {"contentType": "...", "endpointName": "...", "inputLocation": "s3://bucket/key"},
     "responseParameters": {"contentType": "...", "outputLocation": "s3://.../<id>.out"},    (Completed)
     "inferenceId": "...", "eventVersion": "1.0", "eventSource": "aws:sagemaker", "eventName": "InferenceResult"}

A failure may also name where SageMaker wrote the error (`S3FailurePath`): `responseParameters.failureLocation`
or, in some messages, a top-level `failureLocation`; both are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from sleepwake.common.errors import BadEvent
from sleepwake.common.parsing import JsonError, clip, echo
from sleepwake.common.parsing import loads as strict_json
from sleepwake.manager.events import endpoint_name

S3_URI_RE = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.+)$")
MAX_INPUT_LOCATION = 1024  # InvokeEndpointAsync's limit on InputLocation
MAX_INFERENCE_ID = 1024  # ours are 64 hex characters (sleepwake.asyncjobs.jobs); SageMaker's limit is 64
RESULT_STATUSES = ("Completed", "Failed")

__all__ = ["BadEvent", "S3Input", "AsyncResult", "parse_s3_event", "parse_sns_event", "split_s3_uri"]


@dataclass(frozen=True)
class S3Input:
    """One uploaded input object version."""

    bucket: str
    key: str
    version_id: str  # "null" for an unversioned bucket, as S3 itself writes it
    sequencer: str = ""  # orders events of one key: greater hex value = later
    size: int | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class AsyncResult:
    """SageMaker's answer for one async inference, from its SNS notification."""

    inference_id: str
    status: str  # "Completed" | "Failed"
    input_location: str
    endpoint_name: str | None
    output_location: str | None = None
    failure_location: str | None = None
    failure_reason: str | None = None
    event_time: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "Failed"


def split_s3_uri(uri: str) -> tuple[str, str]:
    match = S3_URI_RE.match(uri)
    if not match:
        raise BadEvent(f"not an s3://bucket/key URI: {echo(uri)}")
    return match[1], match[2]


def _records(event: Any, what: str) -> list[Mapping[str, Any]]:
    if not isinstance(event, Mapping):
        raise BadEvent(f"the event must be a JSON object, got {type(event).__name__}")
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        raise BadEvent(
            f'not {what}: expected a non-empty "Records" list; got keys {clip(str(sorted(map(str, event))))}'
        )
    if not all(isinstance(r, Mapping) for r in records):
        raise BadEvent(f"not {what}: every record must be a JSON object")
    return records


# ---- S3 -> trigger --------------------------------------------------------------------------------------------


def parse_s3_event(event: Any, *, bucket: str, prefix: str) -> tuple[list[S3Input], list[str]]:
    """The inputs to submit, and the keys skipped on purpose ("folder" placeholders ending in "/").

    Raises BadEvent for anything that is not an object-created record of `bucket` under `prefix`.
    """
    inputs: list[S3Input] = []
    skipped: list[str] = []
    for index, record in enumerate(_records(event, "an S3 event notification")):
        where = f"record {index}"
        source, name = record.get("eventSource"), record.get("eventName")
        if source != "aws:s3":
            raise BadEvent(f"{where}: not an S3 event (eventSource {echo(source)})")
        if not isinstance(name, str) or not name.startswith("ObjectCreated:"):
            raise BadEvent(f"{where}: only ObjectCreated events are submitted, got {echo(name)}")
        s3 = record.get("s3")
        if (
            not isinstance(s3, Mapping)
            or not isinstance(s3.get("bucket"), Mapping)
            or not isinstance(s3.get("object"), Mapping)
        ):
            raise BadEvent(f"{where}: missing s3.bucket or s3.object")
        got_bucket, obj = s3["bucket"].get("name"), s3["object"]
        raw_key = obj.get("key")
        if not isinstance(got_bucket, str) or not isinstance(raw_key, str) or not raw_key:
            raise BadEvent(f"{where}: missing s3.bucket.name or s3.object.key")
        if got_bucket != bucket:
            raise BadEvent(f"{where}: bucket {echo(got_bucket)} is not the input bucket {bucket!r}")
        key = unquote_plus(raw_key)  # S3 event keys are URL-encoded, spaces as "+"
        if not key.startswith(prefix):
            raise BadEvent(f"{where}: key {echo(key)} is not under the input prefix {prefix!r}")
        if key.endswith("/"):
            skipped.append(key)  # a console "folder": nothing to infer
            continue
        location = f"s3://{bucket}/{key}"
        if len(location) > MAX_INPUT_LOCATION:
            raise BadEvent(
                f"{where}: {location[:80]}... is longer than the {MAX_INPUT_LOCATION} characters "
                "InvokeEndpointAsync accepts as InputLocation; use a shorter key"
            )
        version = obj.get("versionId")
        sequencer = obj.get("sequencer")
        size = obj.get("size")
        inputs.append(
            S3Input(
                bucket=bucket,
                key=key,
                version_id=version if isinstance(version, str) and version else "null",
                sequencer=sequencer if isinstance(sequencer, str) else "",
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            )
        )
    return inputs, skipped


# ---- SNS (SageMaker async result) -> notification handler -----------------------------------------------------


def parse_sns_event(event: Any) -> list[AsyncResult]:
    results = []
    for index, record in enumerate(_records(event, "an SNS notification")):
        where = f"record {index}"
        source = record.get("EventSource") or record.get("eventSource")
        if source != "aws:sns" or not isinstance(record.get("Sns"), Mapping):
            raise BadEvent(f"{where}: not an SNS notification (EventSource {echo(source)})")
        raw = record["Sns"].get("Message")
        if not isinstance(raw, str):
            raise BadEvent(f"{where}: Sns.Message is missing")
        try:
            message = strict_json(raw)
        except JsonError as exc:
            raise BadEvent(f"{where}: Sns.Message is not JSON ({exc}): {echo(raw)}") from None
        results.append(parse_result(message, where))
    return results


def parse_result(message: Any, where: str = "message") -> AsyncResult:
    if not isinstance(message, Mapping):
        raise BadEvent(f"{where}: the SageMaker result must be a JSON object")
    status = message.get("invocationStatus")
    if status not in RESULT_STATUSES:
        raise BadEvent(
            f"{where}: not a SageMaker async result: invocationStatus {echo(status)} "
            f"(expected {' or '.join(RESULT_STATUSES)})"
        )
    inference_id = message.get("inferenceId")
    if not isinstance(inference_id, str) or not inference_id:
        raise BadEvent(f"{where}: inferenceId is missing")
    if len(inference_id) > MAX_INFERENCE_ID:
        raise BadEvent(f"{where}: inferenceId {echo(inference_id)} is longer than {MAX_INFERENCE_ID} characters")
    request = message.get("requestParameters")
    if not isinstance(request, Mapping) or not isinstance(request.get("inputLocation"), str):
        raise BadEvent(f"{where}: requestParameters.inputLocation is missing")
    input_location = request["inputLocation"]
    if len(input_location) > MAX_INPUT_LOCATION:
        raise BadEvent(
            f"{where}: requestParameters.inputLocation {echo(input_location)} is longer than the "
            f"{MAX_INPUT_LOCATION} characters SageMaker accepts"
        )
    split_s3_uri(input_location)  # raises BadEvent naming it
    response = message.get("responseParameters")
    response = response if isinstance(response, Mapping) else {}
    output = response.get("outputLocation")
    failure_location = response.get("failureLocation") or message.get("failureLocation")
    reason = message.get("failureReason")
    if status == "Completed" and not isinstance(output, str):
        raise BadEvent(f"{where}: a Completed result without responseParameters.outputLocation")
    if status == "Failed" and not isinstance(reason, str):
        reason = "SageMaker reported the inference as Failed without a failureReason"
    endpoint = request.get("endpointName")
    if isinstance(endpoint, str):
        endpoint_name(endpoint, f"{where}: requestParameters.endpointName")
    return AsyncResult(
        inference_id=inference_id,
        status=status,
        input_location=input_location,
        endpoint_name=endpoint if isinstance(endpoint, str) else None,
        output_location=output if isinstance(output, str) else None,
        failure_location=failure_location if isinstance(failure_location, str) else None,
        failure_reason=reason if status == "Failed" else None,
        event_time=message.get("eventTime") if isinstance(message.get("eventTime"), str) else None,
    )
