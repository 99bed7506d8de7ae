"""Requests accepted with `Prefer: respond-async`: their records, bodies, queue messages and results.

* The record is the state table item `request#<id>` (status queued -> running -> done | failed; TTL `expires_at`).
* The body travels in the SQS message, or in S3 under `requests/<id>` when the message would be too big for SQS.
* The result goes to S3 under `results/<id>`; callers read it through a pre-signed URL (and inline when small).

SQS is the durable part: a message leaves the queue only when its replay succeeded (or the model definitively
rejected the input), and after the queue's maxReceiveCount failed attempts it moves to the dead-letter queue.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sleepwake.aws import clients as aws
from sleepwake.aws.store import from_dynamo, to_dynamo
from sleepwake.common.timefmt import iso
from sleepwake.gateway.settings import INLINE_MESSAGE_BYTES

REQUEST_PREFIX = "request#"
REQUEST_ID_RE = re.compile(r"^[0-9a-f]{32}$")
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
MESSAGE_VERSION = 1


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_key(request_id: str) -> dict:
    return {"pk": {"S": REQUEST_PREFIX + request_id}}


class BadMessage(ValueError):
    """A queue message this code cannot read (it goes to the dead-letter queue after the retries)."""


@dataclass(frozen=True)
class QueuedMessage:
    request_id: str
    endpoint_name: str
    content_type: str
    received_at: float
    accept: str | None = None
    body_base64: str | None = None
    body_key: str | None = None

    def to_json(self) -> str:
        fields = {
            "v": MESSAGE_VERSION,
            "request_id": self.request_id,
            "endpoint_name": self.endpoint_name,
            "content_type": self.content_type,
            "received_at": self.received_at,
        }
        for key in ("accept", "body_base64", "body_key"):
            if getattr(self, key) is not None:
                fields[key] = getattr(self, key)
        return json.dumps(fields, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> "QueuedMessage":
        try:
            fields = json.loads(raw)
        except (TypeError, ValueError) as exc:
            raise BadMessage(f"the message is not JSON: {exc}") from None
        if not isinstance(fields, dict) or fields.get("v") != MESSAGE_VERSION:
            raise BadMessage(f"unknown message format (expected an object with v={MESSAGE_VERSION})")
        request_id = fields.get("request_id")
        if not isinstance(request_id, str) or not REQUEST_ID_RE.match(request_id):
            raise BadMessage("the message has no valid request_id")
        if not isinstance(fields.get("endpoint_name"), str) or not isinstance(fields.get("content_type"), str):
            raise BadMessage("the message lacks endpoint_name or content_type")
        if ("body_base64" in fields) == ("body_key" in fields):
            raise BadMessage("the message must carry exactly one of body_base64 and body_key")
        try:
            received_at = float(fields.get("received_at"))
        except (TypeError, ValueError):
            raise BadMessage("the message has no valid received_at") from None
        return cls(
            request_id,
            fields["endpoint_name"],
            fields["content_type"],
            received_at,
            fields.get("accept"),
            fields.get("body_base64"),
            fields.get("body_key"),
        )


class RequestStore:
    """`request#<id>` items in the state table."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _db(self):
        return aws.client("dynamodb")

    def create(
        self,
        request_id: str,
        *,
        endpoint_name: str,
        content_type: str,
        received_at: float,
        body_bytes: int,
        body_key: str | None,
        expires_at: int,
        caller: str | None = None,
    ) -> None:
        item = {
            "pk": REQUEST_PREFIX + request_id,
            "kind": "request",
            "request_id": request_id,
            "endpoint_name": endpoint_name,
            "status": QUEUED,
            "received_at": float(received_at),
            "content_type": content_type,
            "body_bytes": body_bytes,
            "attempts": 0,
            "expires_at": expires_at,
        }
        if body_key:
            item["body_key"] = body_key
        if caller:
            item["caller"] = caller  # only this caller may read it back
        self._db.put_item(
            TableName=self.table_name,
            Item={k: to_dynamo(v) for k, v in item.items()},
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get(self, request_id: str) -> dict[str, Any] | None:
        answer = self._db.get_item(TableName=self.table_name, Key=request_key(request_id), ConsistentRead=True)
        item = answer.get("Item")
        return from_dynamo(item) if item else None

    def delete(self, request_id: str) -> None:
        self._db.delete_item(TableName=self.table_name, Key=request_key(request_id))

    def claim(
        self, request_id: str, *, endpoint_name: str, now: float, stale_after_seconds: float, expires_at: int
    ) -> str:
        """Mark the request running, once. Returns "claimed", "final" (done, or rejected by the model: a duplicate
        delivery, skip it) or "busy" (another replay is running it right now). A record lost to its TTL is
        recreated; a dead-lettered one may be claimed again (a redrive)."""
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key=request_key(request_id),
                # Every attribute name aliased: DynamoDB reserves hundreds of words (STATUS among them).
                UpdateExpression="SET #status = :running, #started = :now, #attempts = if_not_exists(#attempts, "
                ":zero) + :one, #id = :id, #endpoint = :endpoint, "
                "#expires = if_not_exists(#expires, :expires), #kind = :kind",
                ConditionExpression="attribute_not_exists(pk) OR #status = :queued OR "
                "(#status = :failed AND #dead = :true) OR (#status = :running AND "
                "#started < :stale)",
                ExpressionAttributeNames={
                    "#status": "status",
                    "#started": "started_at",
                    "#attempts": "attempts",
                    "#id": "request_id",
                    "#endpoint": "endpoint_name",
                    "#expires": "expires_at",
                    "#kind": "kind",
                    "#dead": "dead_lettered",
                },
                ExpressionAttributeValues={
                    ":running": to_dynamo(RUNNING),
                    ":queued": to_dynamo(QUEUED),
                    ":failed": to_dynamo(FAILED),
                    ":true": to_dynamo(True),
                    ":now": to_dynamo(float(now)),
                    ":zero": to_dynamo(0),
                    ":one": to_dynamo(1),
                    ":id": to_dynamo(request_id),
                    ":endpoint": to_dynamo(endpoint_name),
                    ":expires": to_dynamo(expires_at),
                    ":kind": to_dynamo("request"),
                    ":stale": to_dynamo(float(now - stale_after_seconds)),
                },
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            current = self.get(request_id) or {}
            return "busy" if current.get("status") == RUNNING else "final"
        return "claimed"

    def update(self, request_id: str, *, status: str, remove: tuple[str, ...] = (), **fields: Any) -> None:
        names, values = {"#status": "status"}, {":status": to_dynamo(status)}
        sets = ["#status = :status"]
        for key, value in fields.items():
            if value is None:
                continue
            names[f"#{key}"] = key
            values[f":{key}"] = to_dynamo(value)
            sets.append(f"#{key} = :{key}")
        expression = "SET " + ", ".join(sets)
        if remove:
            for key in remove:
                names[f"#{key}"] = key
            expression += " REMOVE " + ", ".join(f"#{key}" for key in remove)
        self._db.update_item(
            TableName=self.table_name,
            Key=request_key(request_id),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )


class RequestQueue:
    """The SQS queue and the S3 bodies of queued requests."""

    def __init__(self, queue_url: str, bucket: str) -> None:
        self.queue_url = queue_url
        self.bucket = bucket

    def message_for(
        self,
        request_id: str,
        endpoint_name: str,
        body: bytes,
        content_type: str,
        accept: str | None,
        received_at: float,
    ) -> QueuedMessage:
        """The message to send; bodies that would make it too large for SQS are written to S3 first."""
        inline = QueuedMessage(
            request_id,
            endpoint_name,
            content_type,
            received_at,
            accept,
            body_base64=base64.b64encode(body).decode("ascii"),
        )
        if len(inline.to_json().encode()) <= INLINE_MESSAGE_BYTES:
            return inline
        key = f"requests/{request_id}"
        aws.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        return QueuedMessage(request_id, endpoint_name, content_type, received_at, accept, body_key=key)

    def send(self, message: QueuedMessage) -> str:
        return aws.client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=message.to_json())["MessageId"]

    def body(self, message: QueuedMessage) -> bytes:
        if message.body_base64 is not None:
            try:
                return base64.b64decode(message.body_base64, validate=True)
            except ValueError as exc:
                raise BadMessage(f"body_base64 is not base64: {exc}") from None
        return aws.client("s3").get_object(Bucket=self.bucket, Key=message.body_key)["Body"].read()

    def delete_body(self, key: str) -> None:
        aws.client("s3").delete_object(Bucket=self.bucket, Key=key)

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        """Hide a failed message for `seconds` before SQS offers it again (a backoff). Best effort."""
        aws.client("sqs").change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, min(int(seconds), 43200))
        )


class ResultStore:
    """Results under `results/<id>` in the request bucket, read through pre-signed URLs."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    @staticmethod
    def key(request_id: str) -> str:
        return f"results/{request_id}"

    def put(self, request_id: str, body: bytes, content_type: str) -> str:
        key = self.key(request_id)
        aws.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        return key

    def read(self, key: str) -> bytes:
        return aws.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def url(self, key: str, expires_in: int) -> str:
        """A pre-signed GET (SigV4). It stops working when the signing credentials expire, so a function role's
        URL lives at most as long as its session (hours), whatever `expires_in` says."""
        return aws.client("s3", signature_version="s3v4").generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )


def public_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a request record a caller may see."""

    view: dict[str, Any] = {
        "request_id": item.get("request_id"),
        "status": item.get("status"),
        "endpoint_name": item.get("endpoint_name"),
        "received_at": iso(item.get("received_at")),
        "attempts": int(item.get("attempts", 0)),
    }
    for key in ("started_at", "finished_at"):
        if item.get(key) is not None:
            view[key] = iso(item[key])
    for key in ("error", "original_status_code", "result_content_type", "result_bytes", "dead_lettered"):
        if item.get(key) is not None:
            view[key] = item[key]
    return view
