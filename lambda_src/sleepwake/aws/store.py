"""The manager's DynamoDB state table (hash key `pk`), behind a small adapter."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from sleepwake.aws import clients as aws
from sleepwake.domain.lifecycle import Record

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
ENDPOINT_PREFIX = "endpoint#"


def to_dynamo(value: Any) -> dict:
    """Serialise a Python value, turning floats into Decimals (DynamoDB has no binary floats)."""
    return _serializer.serialize(_decimalise(value))


def _decimalise(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot store a non-finite number: {value}")
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _decimalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decimalise(v) for v in value]
    return value


def from_dynamo(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class LeaseState:
    """The lease attributes of an endpoint record: `lease_until` (latest expiry, what the manager reads),
    `leases` (holder -> expiry) and `lease_version` (bumped by every lease write)."""

    lease_until: float | None
    leases: Mapping[str, float]
    lease_version: int


LEASE_NAMES = {"#until": "lease_until", "#leases": "leases", "#lv": "lease_version"}


# Record fields stored as one compact JSON string rather than a DynamoDB map: the idle history is a few hundred
# numbers that every tick reads and writes whole, and a map of them costs a (de)serialisation per number on each
# read, in the manager and in the emulator alike. Records written as a map (before) are still read.
PACKED_FIELDS = frozenset({"history"})


def _packed(key: str, value: Any) -> dict:
    if key in PACKED_FIELDS:
        return {"S": json.dumps(value, separators=(",", ":"), allow_nan=False)}
    return to_dynamo(value)


def _unpacked(plain: dict[str, Any]) -> dict[str, Any]:
    """A stored record with its packed fields read back; a packed field that is not JSON is left as the string
    (the domain reports it, or relearns the history, as for any corrupt field)."""
    for key in PACKED_FIELDS & plain.keys():
        if isinstance(plain[key], str):
            try:
                plain[key] = json.loads(plain[key])
            except ValueError:
                pass
    return plain


def endpoint_key(name: str) -> dict:
    return {"pk": {"S": ENDPOINT_PREFIX + name}}


class StateStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _db(self):
        return aws.client("dynamodb")

    def get(self, name: str) -> Record:
        answer = self._db.get_item(TableName=self.table_name, Key=endpoint_key(name), ConsistentRead=True)
        item = answer.get("Item")
        return Record.from_item(name, _unpacked(from_dynamo(item)) if item else None)

    def scan_endpoints_checked(self) -> tuple[dict[str, Record], dict[str, str]]:
        """Every endpoint record, in as few reads as DynamoDB allows (1 MB a page): one per tick, not one per
        endpoint. Records that cannot be read are returned apart, by name with the problem, so that one corrupt
        item never stops the others."""
        records: dict[str, Record] = {}
        corrupt: dict[str, str] = {}
        paginator = self._db.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self.table_name,
            ConsistentRead=True,
            FilterExpression="begins_with(pk, :prefix)",
            ExpressionAttributeValues={":prefix": {"S": ENDPOINT_PREFIX}},
        )
        for page in pages:
            for item in page.get("Items", []):
                plain = _unpacked(from_dynamo(item))
                name = plain["pk"][len(ENDPOINT_PREFIX) :]
                try:
                    records[name] = Record.from_item(name, plain)
                except (TypeError, ValueError) as exc:
                    corrupt[name] = str(exc)
        return records, corrupt

    def scan_endpoints(self) -> dict[str, Record]:
        return self.scan_endpoints_checked()[0]

    def commit(self, old: Record, new: Record, *, guard_activity: bool = False) -> bool:
        """Write the manager's fields of `new` if nobody committed since `old` was read.

        With `guard_activity`, also only if no activity or lease was recorded since (the sleep guard).
        Returns False when the condition failed: re-read and decide again.
        """
        values: dict[str, Any] = {":next": {"N": str(old.version + 1)}}
        names: dict[str, str] = {"#version": "version"}
        sets, removes = ["#version = :next"], []
        new_fields, old_fields = asdict(new), asdict(old)
        for key in Record.field_names():
            if key in ("endpoint_name", "version") or key in Record.FOREIGN:
                continue
            if new_fields[key] == old_fields[key]:
                continue
            names[f"#{key}"] = key
            if new_fields[key] is None:
                removes.append(f"#{key}")
            else:
                values[f":{key}"] = _packed(key, new_fields[key])
                sets.append(f"#{key} = :{key}")
        names["#name"] = "endpoint_name"
        values[":name"] = {"S": new.endpoint_name}
        sets.append("#name = :name")
        if old.version == 0:
            condition = "attribute_not_exists(#version)"
        else:
            condition = "#version = :v"
            values[":v"] = {"N": str(old.version)}
        if guard_activity:
            for key in Record.FOREIGN:
                names[f"#{key}"] = key
                seen = old_fields[key]
                if seen is None:
                    condition = f"({condition}) AND attribute_not_exists(#{key})"
                else:
                    values[f":seen_{key}"] = to_dynamo(seen)
                    condition = f"({condition}) AND #{key} = :seen_{key}"
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key=endpoint_key(new.endpoint_name),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def record_activity(self, name: str, at: float) -> bool:
        """Move `last_activity` forward (never back). Does not touch `version`, so wakes never conflict with it."""
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key=endpoint_key(name),
                UpdateExpression="SET last_activity = :at, endpoint_name = :name",
                ConditionExpression="attribute_not_exists(last_activity) OR last_activity < :at",
                ExpressionAttributeValues={":at": to_dynamo(float(at)), ":name": {"S": name}},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def add_requests(self, name: str, count: int) -> None:
        """Add `count` requests to the endpoint's `request_count` (the idle history's volume). Like
        `record_activity` it never touches `version`; a manager commit never writes this field."""
        if count < 1:
            return
        self._db.update_item(
            TableName=self.table_name,
            Key=endpoint_key(name),
            UpdateExpression="ADD request_count :n SET endpoint_name = :name",
            ExpressionAttributeValues={":n": {"N": str(int(count))}, ":name": {"S": name}},
        )

    def mark_busy(self, name: str, until: float) -> str:
        """Record that a request is in flight until `until`, before it is sent: `busy_until` only moves forward
        and never touches `version`; a pending sleep commit conditioned on it then fails.

        Refused while our sleep is committed (`deleting_since`): the endpoint is about to be deleted, so the
        request must not start. Returns "marked", "covered" (an equal or later mark is already there) or
        "deleting"."""
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key=endpoint_key(name),
                UpdateExpression="SET busy_until = :until, endpoint_name = :name",
                ConditionExpression="attribute_not_exists(deleting_since) AND "
                "(attribute_not_exists(busy_until) OR busy_until < :until)",
                ExpressionAttributeValues={":until": to_dynamo(float(until)), ":name": {"S": name}},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            item = (
                self._db.get_item(
                    TableName=self.table_name,
                    Key=endpoint_key(name),
                    ConsistentRead=True,
                    ProjectionExpression="deleting_since",
                ).get("Item")
                or {}
            )
            return "deleting" if "deleting_since" in item else "covered"
        return "marked"

    def read_leases(self, name: str) -> LeaseState:
        """The lease attributes of the endpoint record (a consistent read of just those)."""
        answer = self._db.get_item(
            TableName=self.table_name,
            Key=endpoint_key(name),
            ConsistentRead=True,
            ProjectionExpression="#until, #leases, #lv",
            ExpressionAttributeNames=LEASE_NAMES,
        )
        item = from_dynamo(answer.get("Item") or {})
        until = item.get("lease_until")
        raw = item.get("leases")
        leases = (
            {
                str(holder): float(at)
                for holder, at in raw.items()
                if isinstance(at, (int, float)) and not isinstance(at, bool)
            }
            if isinstance(raw, dict)
            else {}
        )
        return LeaseState(float(until) if until is not None else None, leases, int(item.get("lease_version", 0)))

    def write_leases(self, name: str, leases: Mapping[str, float], *, seen: LeaseState) -> bool:
        """Replace the lease map with `leases` (holder -> expiry) and `lease_until` with its latest expiry (both
        removed when `leases` is empty), if nobody changed them since `seen` was read; False when somebody did.

        Conditioned on the foreign counter `lease_version` and on `lease_until` as read, and never touches the
        manager's `version`: a lease is its holders', not the manager's. A changed `lease_until` makes a pending
        sleep commit fail (its guard), so an endpoint is never deleted under a new lease.
        """
        names = dict(LEASE_NAMES, **{"#name": "endpoint_name"})
        values: dict[str, Any] = {":next": {"N": str(seen.lease_version + 1)}, ":name": {"S": name}}
        sets = ["#lv = :next", "#name = :name"]
        removes: list[str] = []
        if leases:
            values[":leases"] = to_dynamo({holder: float(at) for holder, at in leases.items()})
            values[":until"] = to_dynamo(float(max(leases.values())))
            sets += ["#leases = :leases", "#until = :until"]
        else:
            removes += ["#leases", "#until"]
        if seen.lease_version == 0:
            condition = "attribute_not_exists(#lv)"
        else:
            condition = "#lv = :seen_version"
            values[":seen_version"] = {"N": str(seen.lease_version)}
        if seen.lease_until is None:
            condition += " AND attribute_not_exists(#until)"
        else:
            condition += " AND #until = :seen_until"
            values[":seen_until"] = to_dynamo(float(seen.lease_until))
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key=endpoint_key(name),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True
