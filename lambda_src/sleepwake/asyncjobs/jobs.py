"""Async inference jobs: an input uploaded to S3 -> InvokeEndpointAsync -> SageMaker's SNS result -> a status.

Three callers share this module:

* the trigger (`sleepwake.handlers.async_trigger`): `AsyncJobs.submit` for each uploaded input version;
* the notification handler (`sleepwake.handlers.async_notify`): `AsyncJobs.record_result` for each SNS result;
* applications (and `sleepwake_client.client` in async mode): `upload_input`, `status`, `read_output`.

Every input version gets one record in the state table, keyed `input#<inference id>`; the inference id is derived
from (bucket, key, version id), so the trigger, SageMaker's notification (which carries the inference id) and
an application that knows the object can all find it. A second record per key, `input#s3://<bucket>/<key>`,
points at the latest version (by S3's event sequencer) for `status(bucket, key)` without a version.

Exactly once per object version: the trigger claims the record with a conditional PutItem *before* it invokes.
A duplicate S3 event finds the record and stops. A trigger that dies between claim and invoke leaves a claim
that expires after `claim_seconds`; Lambda retries the S3 event (twice, about 1 and 2 minutes later) and the
retry takes the expired claim over. A retry that finds a live claim raises, so Lambda tries it again later
rather than dropping it. An invoke that fails marks the record `retrying` and raises for the same retry.

Failed inputs are never deleted: the notification handler copies the failed version to the failed prefix with
the error as object metadata and tag, writes `<copy>.error.json` beside it, and records where.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from sleepwake.asyncjobs.events import AsyncResult, S3Input, split_s3_uri
from sleepwake.asyncjobs.settings import AsyncSettings
from sleepwake.aws import clients as aws
from sleepwake.aws.store import from_dynamo, to_dynamo
from sleepwake.common.clock import Clock, SystemClock
from sleepwake.common.errors import SettingsError
from sleepwake.common.observability import get_logger, log_event
from sleepwake.common.timefmt import iso

log = get_logger("async_jobs")

INPUT_PREFIX = "input#"
SUBMITTING, RETRYING, QUEUED, COMPLETED, FAILED, UNKNOWN = (
    "submitting",
    "retrying",
    "queued",
    "completed",
    "failed",
    "unknown",
)
FINAL = (COMPLETED, FAILED)
MAX_REASON = 4000  # characters of a failure reason kept in the record
MAX_METADATA_REASON = 1024  # S3 allows 2 KB of user metadata in all
FAILED_TAG = "sleepwake-status=failed"


class InFlight(RuntimeError):
    """Another trigger holds a live claim on this input; raise so that Lambda retries the event later."""


def inference_id(bucket: str, key: str, version_id: str) -> str:
    """Stable per object version; at most 64 printable characters, as InvokeEndpointAsync requires."""
    digest = hashlib.sha256(f"s3://{bucket}/{key}?versionId={version_id}".encode()).hexdigest()
    return "sw-" + digest[:48]


def record_key(inference: str) -> dict:
    return {"pk": {"S": INPUT_PREFIX + inference}}


def latest_key(bucket: str, key: str) -> dict:
    return {"pk": {"S": f"{INPUT_PREFIX}s3://{bucket}/{key}"}}


def _sequencer(raw: str) -> str:
    """S3 sequencers compare as hex numbers; zero-padded upper-case strings compare the same way in DynamoDB."""
    return raw.upper().rjust(32, "0") if raw else ""


def _printable_ascii(text: str, limit: int) -> str:
    """S3 metadata travels as HTTP headers: US-ASCII, no control characters."""
    cleaned = "".join(c if " " <= c <= "~" else " " for c in text)
    return cleaned[:limit]


# ---- adapters ------------------------------------------------------------------------------------------------


class JobStore:
    """The `input#` records in the state table (hash key `pk`, TTL attribute `expires_at`)."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _db(self):
        return aws.client("dynamodb")

    def get(self, inference: str) -> dict[str, Any] | None:
        item = self._db.get_item(TableName=self.table_name, Key=record_key(inference), ConsistentRead=True).get("Item")
        return from_dynamo(item) if item else None

    def get_latest(self, bucket: str, key: str) -> dict[str, Any] | None:
        item = self._db.get_item(TableName=self.table_name, Key=latest_key(bucket, key), ConsistentRead=True).get(
            "Item"
        )
        return from_dynamo(item) if item else None

    def claim(self, record: Mapping[str, Any], now: float) -> bool:
        """Create the record, or take over a claim that expired or an invoke that failed. False: someone has it."""
        item = {k: to_dynamo(v) for k, v in record.items() if v is not None}
        item["pk"] = {"S": INPUT_PREFIX + record["inference_id"]}
        try:
            self._db.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR #status = :retrying OR "
                "(#status = :submitting AND claim_expires_at < :now)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":retrying": {"S": RETRYING},
                    ":submitting": {"S": SUBMITTING},
                    ":now": to_dynamo(now),
                },
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def update(
        self,
        inference: str,
        values: Mapping[str, Any],
        *,
        condition: str,
        condition_values: Mapping[str, Any] | None = None,
    ) -> bool:
        """SET the given attributes (None removes one) if `condition` holds. False when it did not."""
        names, expr_values, sets, removes = {}, {}, [], []
        for i, (name, value) in enumerate(values.items()):
            names[f"#a{i}"] = name
            if value is None:
                removes.append(f"#a{i}")
            else:
                expr_values[f":v{i}"] = to_dynamo(value)
                sets.append(f"#a{i} = :v{i}")
        if "#status" in condition:
            names["#status"] = "status"
        for placeholder, value in (condition_values or {}).items():
            expr_values[placeholder] = to_dynamo(value)
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key=record_key(inference),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=expr_values,
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def point_latest(self, item: S3Input, inference: str, now: float, expires_at: int) -> bool:
        """Point `input#s3://bucket/key` at this version unless a later one (greater sequencer) is there."""
        sequencer = _sequencer(item.sequencer)
        values = {
            ":version": {"S": item.version_id},
            ":id": {"S": inference},
            ":seq": {"S": sequencer},
            ":now": to_dynamo(now),
            ":exp": to_dynamo(expires_at),
            ":kind": {"S": "async-latest"},
            ":bucket": {"S": item.bucket},
            ":key": {"S": item.key},
        }
        kwargs: dict[str, Any] = {}
        if sequencer:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk) OR #seq < :seq"
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key=latest_key(item.bucket, item.key),
                UpdateExpression="SET version_id = :version, inference_id = :id, #seq = :seq, updated_at = :now, "
                "expires_at = :exp, kind = :kind, #bucket = :bucket, #key = :key",
                ExpressionAttributeNames={"#seq": "sequencer", "#bucket": "bucket", "#key": "key"},
                ExpressionAttributeValues=values,
                **kwargs,
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True


class AsyncRuntime:
    """SageMaker's InvokeEndpointAsync."""

    def invoke(
        self,
        endpoint_name: str,
        input_location: str,
        inference: str,
        content_type: str,
        *,
        request_ttl_seconds: int | None = None,
        invocation_timeout_seconds: int | None = None,
    ) -> dict[str, str]:
        kwargs: dict[str, Any] = {
            "EndpointName": endpoint_name,
            "InputLocation": input_location,
            "InferenceId": inference,
            "ContentType": content_type,
        }
        if request_ttl_seconds is not None:
            kwargs["RequestTTLSeconds"] = request_ttl_seconds
        if invocation_timeout_seconds is not None:
            kwargs["InvocationTimeoutSeconds"] = invocation_timeout_seconds
        answer = aws.client("sagemaker-runtime").invoke_endpoint_async(**kwargs)
        return {
            "inference_id": answer.get("InferenceId") or inference,
            "output_location": answer.get("OutputLocation"),
            "failure_location": answer.get("FailureLocation"),
        }


def _version_args(version_id: str) -> dict[str, str]:
    return {} if version_id == "null" else {"VersionId": version_id}


class InputObjects:
    """The input bucket: read an input's content type; keep a failed input aside (copy, never delete)."""

    @property
    def _s3(self):
        return aws.client("s3")

    def head(self, bucket: str, key: str, version_id: str) -> dict[str, Any] | None:
        try:
            return self._s3.head_object(Bucket=bucket, Key=key, **_version_args(version_id))
        except ClientError as exc:
            if aws.error_code(exc) in ("404", "NoSuchKey", "NoSuchVersion", "NotFound"):
                return None
            raise

    def keep_failed(
        self, bucket: str, key: str, version_id: str, copy_key: str, reason: str, details: Mapping[str, Any]
    ) -> bool:
        """Copy the failed version to `copy_key` with the error as metadata and tag, and write
        `<copy_key>.error.json`. Returns False when the input version no longer exists (the .error.json is
        still written)."""
        head = self.head(bucket, key, version_id)
        if head is not None:
            metadata = {
                **head.get("Metadata", {}),
                "sleepwake-error": _printable_ascii(reason, MAX_METADATA_REASON),
                "sleepwake-inference-id": str(details.get("inference_id", "")),
                "sleepwake-source-version": version_id,
            }
            extra = {"ContentType": head["ContentType"]} if head.get("ContentType") else {}
            self._s3.copy_object(
                Bucket=bucket,
                Key=copy_key,
                CopySource={"Bucket": bucket, "Key": key, **_version_args(version_id)},
                MetadataDirective="REPLACE",
                Metadata=metadata,
                TaggingDirective="REPLACE",
                Tagging=FAILED_TAG,
                **extra,
            )
        body = json.dumps(
            {
                **details,
                "failure_reason": reason,
                "input_kept_at": f"s3://{bucket}/{copy_key}" if head is not None else None,
            },
            indent=2,
            sort_keys=True,
        )
        self._s3.put_object(
            Bucket=bucket,
            Key=copy_key + ".error.json",
            Body=body.encode(),
            ContentType="application/json",
            Tagging=FAILED_TAG,
        )
        return head is not None


# ---- the service ---------------------------------------------------------------------------------------------


@dataclass
class AsyncJobs:
    settings: AsyncSettings
    store: JobStore
    runtime: AsyncRuntime
    objects: InputObjects
    clock: Clock

    @classmethod
    def from_settings(cls, settings: AsyncSettings, clock: Clock | None = None) -> "AsyncJobs":
        return cls(settings, JobStore(settings.table_name), AsyncRuntime(), InputObjects(), clock or SystemClock())

    def _expires_at(self, now: float) -> int:
        return int(now + self.settings.record_ttl_days * 86400)

    # ---- trigger ----------------------------------------------------------------------------------------------
    def submit(self, item: S3Input) -> dict[str, Any]:
        """Invoke the endpoint for one input version, at most once however often S3 delivers the event."""
        inference = inference_id(item.bucket, item.key, item.version_id)
        answer: dict[str, Any] = {"input": item.uri, "version_id": item.version_id, "inference_id": inference}
        existing = self.store.get(inference)
        if existing is not None and not self._may_take_over(existing):
            return self._duplicate(answer, existing)
        head = self.objects.head(item.bucket, item.key, item.version_id)
        if head is None:
            log_event(log, "input gone before it was submitted", logging.WARNING, **answer)
            return {
                **answer,
                "ok": True,
                "status": UNKNOWN,
                "skipped": True,
                "message": "the input version no longer exists; nothing to submit",
            }
        content_type = head.get("ContentType") or ""
        if not content_type or content_type == "binary/octet-stream":
            content_type = self.settings.default_content_type

        now = self.clock.now()
        token = uuid.uuid4().hex
        attempts = int((existing or {}).get("attempts", 0)) + 1
        claimed = self.store.claim(
            {
                "inference_id": inference,
                "kind": "async-input",
                "bucket": item.bucket,
                "key": item.key,
                "version_id": item.version_id,
                "input_location": item.uri,
                "endpoint_name": self.settings.endpoint_name,
                "content_type": content_type,
                "sequencer": item.sequencer or None,
                "status": SUBMITTING,
                "claim_token": token,
                "claim_expires_at": now + self.settings.claim_seconds,
                "attempts": attempts,
                "submitted_at": (existing or {}).get("submitted_at", now),
                "updated_at": now,
                "last_error": (existing or {}).get("last_error"),
                "expires_at": self._expires_at(now),
            },
            now,
        )
        if not claimed:
            current = self.store.get(inference) or {}
            return self._duplicate(answer, current)
        self.store.point_latest(item, inference, now, self._expires_at(now))

        try:
            result = self.runtime.invoke(
                self.settings.endpoint_name,
                item.uri,
                inference,
                content_type,
                request_ttl_seconds=self.settings.request_ttl_seconds,
                invocation_timeout_seconds=self.settings.invocation_timeout_seconds,
            )
        except ClientError as exc:
            error = f"{aws.error_code(exc)}: {aws.error_message(exc)}"
            self.store.update(
                inference,
                {
                    "status": RETRYING,
                    "last_error": error[:MAX_REASON],
                    "updated_at": self.clock.now(),
                    "claim_token": None,
                },
                condition="claim_token = :token",
                condition_values={":token": token},
            )
            log_event(
                log, "InvokeEndpointAsync failed; Lambda retries the S3 event", logging.WARNING, error=error, **answer
            )
            raise

        done = self.clock.now()
        queued = self.store.update(
            inference,
            {
                "status": QUEUED,
                "queued_at": done,
                "updated_at": done,
                "claim_token": None,
                "claim_expires_at": None,
                "last_error": None,
                "output_location": result["output_location"],
                "failure_location": result["failure_location"],
            },
            condition="claim_token = :token AND #status = :submitting",
            condition_values={":token": token, ":submitting": SUBMITTING},
        )
        if not queued:
            # The result arrived first (a fast model), or our claim expired and another trigger took over.
            log_event(log, "input invoked, but its record moved on meanwhile", logging.WARNING, **answer)
        log_event(log, "input submitted", output_location=result["output_location"], **answer)
        return {
            **answer,
            "ok": True,
            "status": QUEUED,
            "output_location": result["output_location"],
            "failure_location": result["failure_location"],
            "attempts": attempts,
        }

    def _may_take_over(self, record: Mapping[str, Any]) -> bool:
        status = record.get("status")
        if status == RETRYING:
            return True
        return status == SUBMITTING and float(record.get("claim_expires_at", 0)) < self.clock.now()

    def _duplicate(self, answer: dict[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
        status = record.get("status", UNKNOWN)
        if status == SUBMITTING and float(record.get("claim_expires_at", 0)) >= self.clock.now():
            # Not a finished duplicate: another trigger is invoking right now, or died doing so. Lambda retries
            # this event later; by then the claim is either confirmed (duplicate) or expired (ours to take).
            raise InFlight(
                f"{answer['input']} (version {answer['version_id']}) is being submitted by another "
                f"invocation; claim expires at {iso(float(record['claim_expires_at']))}"
            )
        log_event(log, "duplicate event ignored", status=status, **answer)
        return {
            **answer,
            "ok": True,
            "duplicate": True,
            "status": status,
            "message": f"already submitted (status {status}); not invoking again",
        }

    # ---- notification handler -----------------------------------------------------------------------------
    def record_result(self, result: AsyncResult) -> dict[str, Any]:
        answer: dict[str, Any] = {"inference_id": result.inference_id, "input": result.input_location}
        if result.endpoint_name and result.endpoint_name != self.settings.endpoint_name:
            return {
                **answer,
                "ok": True,
                "ignored": True,
                "message": f"a result of endpoint {result.endpoint_name!r}, not {self.settings.endpoint_name!r}",
            }
        record = self.store.get(result.inference_id)
        if record is None:
            log_event(log, "result for an input the trigger did not submit", logging.WARNING, **answer)
            return {
                **answer,
                "ok": True,
                "ignored": True,
                "message": "no input recorded for this inference id (not submitted by the trigger)",
            }
        if record.get("input_location") != result.input_location:
            return {
                **answer,
                "ok": False,
                "error": f"inference id {result.inference_id} belongs to "
                f"{record.get('input_location')}, but the result names {result.input_location}; nothing changed",
            }
        answer["version_id"] = record.get("version_id")
        new_status = FAILED if result.failed else COMPLETED
        if record.get("status") == new_status:
            return {**answer, "ok": True, "duplicate": True, "status": new_status, "message": "result already recorded"}
        now = self.clock.now()
        values: dict[str, Any] = {
            "status": new_status,
            "updated_at": now,
            "claim_token": None,
            "claim_expires_at": None,
            "expires_at": self._expires_at(now),
        }
        if result.failed:
            reason = (result.failure_reason or "")[:MAX_REASON]
            copy_key = self._failed_key(record["key"])
            kept = self.objects.keep_failed(
                record["bucket"],
                record["key"],
                record["version_id"],
                copy_key,
                reason,
                {
                    "input": result.input_location,
                    "version_id": record["version_id"],
                    "inference_id": result.inference_id,
                    "endpoint_name": self.settings.endpoint_name,
                    "failure_location": result.failure_location,
                    "failed_at": iso(now),
                    "event_time": result.event_time,
                },
            )
            values.update(
                failed_at=now,
                failure_reason=reason,
                failure_location=result.failure_location or record.get("failure_location"),
                failed_copy=f"s3://{record['bucket']}/{copy_key}" if kept else None,
                error_report=f"s3://{record['bucket']}/{copy_key}.error.json",
            )
        else:
            values.update(completed_at=now, output_location=result.output_location)
        changed = self.store.update(
            result.inference_id,
            values,
            condition="attribute_exists(pk) AND #status <> :final",
            condition_values={":final": FAILED if not result.failed else COMPLETED},
        )
        if not changed:
            return {**answer, "ok": False, "error": "the input already has the opposite final status; nothing changed"}
        log_event(
            log,
            f"input {new_status}",
            logging.WARNING if result.failed else logging.INFO,
            failure_reason=values.get("failure_reason"),
            **answer,
        )
        return {
            **answer,
            "ok": True,
            "status": new_status,
            **{
                k: values.get(k)
                for k in ("output_location", "failure_reason", "failed_copy", "error_report")
                if values.get(k) is not None
            },
        }

    def _failed_key(self, key: str) -> str:
        relative = key[len(self.settings.input_prefix) :] if key.startswith(self.settings.input_prefix) else key
        return self.settings.failed_prefix + relative

    # ---- applications -------------------------------------------------------------------------------------
    def status(self, bucket: str, key: str, version_id: str | None = None) -> dict[str, Any]:
        return job_status(self.store, bucket, key, version_id, self.clock)


def job_status(store: JobStore, bucket: str, key: str, version_id: str | None, clock: Clock) -> dict[str, Any]:
    """What an application sees for one input: its status and where its output or error is."""
    answer: dict[str, Any] = {"ok": True, "input": f"s3://{bucket}/{key}", "version_id": version_id}
    if version_id is None:
        latest = store.get_latest(bucket, key)
        if latest is None:
            return {**answer, "status": UNKNOWN, "message": _not_seen()}
        version_id = answer["version_id"] = latest["version_id"]
    inference = inference_id(bucket, key, version_id)
    record = store.get(inference)
    answer["inference_id"] = inference
    if record is None:
        return {**answer, "status": UNKNOWN, "message": _not_seen()}
    status = record.get("status", UNKNOWN)
    answer.update(
        status=status,
        attempts=record.get("attempts"),
        submitted_at=iso(record.get("submitted_at")),
        updated_at=iso(record.get("updated_at")),
    )
    for field in ("output_location", "failure_location", "failure_reason", "failed_copy", "error_report", "last_error"):
        if record.get(field) is not None:
            answer[field] = record[field]
    for field in ("queued_at", "completed_at", "failed_at"):
        if record.get(field) is not None:
            answer[field] = iso(record[field])
    if status == SUBMITTING and float(record.get("claim_expires_at", 0)) < clock.now():
        answer["message"] = "the submission was interrupted; Lambda's retry of the S3 event submits it again"
    elif status == RETRYING:
        answer["message"] = "InvokeEndpointAsync failed; Lambda's retry of the S3 event submits it again"
    return answer


def _not_seen() -> str:
    return (
        "no record yet: the trigger has not seen this input (it runs seconds after the upload), or the key is "
        "not under the input prefix"
    )


# ---- module-level API for applications ------------------------------------------------------------------------


def _table(table_name: str | None) -> str:
    table = table_name or os.environ.get("SLEEPWAKE_ASYNC_TABLE_NAME", "").strip()
    if not table:
        raise SettingsError("SLEEPWAKE_ASYNC_TABLE_NAME is not set (or pass table_name=...)")
    return table


def status(
    bucket: str, key: str, version_id: str | None = None, *, table_name: str | None = None, clock: Clock | None = None
) -> dict[str, Any]:
    """Status of an uploaded input: `unknown`, `submitting`, `retrying`, `queued`, `completed` or `failed`, with
    `output_location` (completed), `failure_reason` and `failed_copy` (failed). Without `version_id`, the latest
    version the trigger saw. Needs dynamodb:GetItem on the state table (the environment's invoke policy)."""
    return job_status(JobStore(_table(table_name)), bucket, key, version_id, clock or SystemClock())


def upload_input(
    body: bytes, *, bucket: str, prefix: str, content_type: str = "application/json", key: str | None = None
) -> dict[str, Any]:
    """Upload one input under the input prefix; the trigger submits it. Returns bucket, key and version id
    (pass them to `status`). A fresh key per input (the default) keeps every input's result apart.

    `key` is the object's name under the prefix ("batch-7/doc.json" -> "<prefix>batch-7/doc.json"); a key that
    already starts with the prefix is taken as it is."""
    if not prefix.endswith("/"):
        raise ValueError(f'the input prefix must end with "/", got {prefix!r}')
    if key is not None and (not key.strip("/") or key.startswith("/") or "//" in key):
        raise ValueError(f"the key {key!r} is not an object name (empty, or with a leading or doubled /)")
    key = f"{prefix}{uuid.uuid4()}" if key is None else (key if key.startswith(prefix) else f"{prefix}{key}")
    answer = aws.client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    return {
        "bucket": bucket,
        "key": key,
        "version_id": answer.get("VersionId") or "null",
        "input_location": f"s3://{bucket}/{key}",
    }


def fetch_output(location: str) -> tuple[bytes, str | None]:
    """The body SageMaker wrote at a result's `output_location` (or `failure_location`), and its content type (the
    model's answer type, as SageMaker stored it; None when the object has none)."""
    bucket, key = split_s3_uri(location)
    stored = aws.client("s3").get_object(Bucket=bucket, Key=key)
    return stored["Body"].read(), stored.get("ContentType") or None


def read_output(location: str) -> bytes:
    """The body alone (see `fetch_output`)."""
    return fetch_output(location)[0]
