"""Bearer tokens for the gateway: created once, stored only as SHA-256 hashes, checked by the authorizer.

Tokens table (modules/inference-gateway; hash key `pk`, TTL attribute `expires_at`):

* `token#<sha256 hex of the token>`: `name`, `token_sha256`, `created_at`, optional `expires_at`;
* `name#<name>`: `token_sha256`, `created_at`, optional `expires_at` (to list and revoke by name).

The token itself is never stored or logged: `create` returns it once, and the authorizer hashes what it is given.

Why looking the hash up and comparing it is safe: a timing attack learns a secret from how long a comparison with
the attacker's guess takes, byte by byte. Here the only thing compared (by DynamoDB's key lookup, then by
`hmac.compare_digest` here) is SHA-256 of the guess, which the attacker cannot steer towards a prefix of a stored
hash without breaking SHA-256; and knowing a stored hash does not give the token (a 256-bit random value). The
constant-time comparison is belt and braces: it checks that the item found is exactly the one asked for.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sleepwake.aws import clients as aws
from sleepwake.aws.store import from_dynamo, to_dynamo
from sleepwake.common.clock import Clock
from sleepwake.common.parsing import echo

TOKEN_PREFIX = "swk_"
TOKEN_RE = re.compile(r"^swk_[A-Za-z0-9_-]{43}$")  # 32 random bytes, URL-safe base64 without padding
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HASH_PREFIX = "token#"
NAME_PREFIX = "name#"


class TokenError(ValueError):
    """A bad token operation (bad name, duplicate name...); the message names the problem."""


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def bearer_token(headers: Mapping[str, str] | None, identity_source: Sequence[str] | None = None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when there is none or another scheme."""
    value = None
    for key, header in headers.items() if isinstance(headers, Mapping) else ():
        if isinstance(key, str) and key.lower() == "authorization":
            value = header
            break
    if value is None and isinstance(identity_source, (list, tuple)) and identity_source:
        value = identity_source[0]
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise TokenError(
            f"a token name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit; got {echo(name)}"
        )
    return name


class TokenStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _db(self):
        return aws.client("dynamodb")

    def create(self, name: str, *, now: float, expires_at: float | None = None) -> str:
        """A new token named `name`; returned once, never stored."""
        validate_name(name)
        if expires_at is not None and expires_at <= now:
            raise TokenError("the expiry must be in the future")
        token = new_token()
        digest = token_hash(token)
        common: dict[str, Any] = {"token_sha256": digest, "created_at": int(now)}
        if expires_at is not None:
            common["expires_at"] = int(expires_at)
        by_hash = {"pk": HASH_PREFIX + digest, "name": name, **common}
        by_name = {"pk": NAME_PREFIX + name, "name": name, **common}
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {k: to_dynamo(v) for k, v in by_name.items()},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {k: to_dynamo(v) for k, v in by_hash.items()},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except self._db.exceptions.TransactionCanceledException:
            raise TokenError(f"a token named {name!r} exists; revoke it first or choose another name") from None
        return token

    def lookup(self, digest: str) -> dict[str, Any] | None:
        answer = self._db.get_item(TableName=self.table_name, Key={"pk": {"S": HASH_PREFIX + digest}})
        item = answer.get("Item")
        return from_dynamo(item) if item else None

    def revoke(self, name: str) -> bool:
        """Delete the token named `name`; False when there is none. Callers with a cached authorization keep
        access until the authorizer's cache TTL runs out."""
        validate_name(name)
        answer = self._db.get_item(
            TableName=self.table_name, Key={"pk": {"S": NAME_PREFIX + name}}, ConsistentRead=True
        )
        item = answer.get("Item")
        if not item:
            return False
        digest = from_dynamo(item)["token_sha256"]
        self._db.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": self.table_name, "Key": {"pk": {"S": NAME_PREFIX + name}}}},
                {"Delete": {"TableName": self.table_name, "Key": {"pk": {"S": HASH_PREFIX + digest}}}},
            ]
        )
        return True

    def list(self, *, page_size: int | None = None) -> list[dict[str, Any]]:
        """Every token's name, creation and expiry (never a hash), following the scan's pages to the end."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "FilterExpression": "begins_with(pk, :prefix)",
            "ExpressionAttributeValues": {":prefix": {"S": NAME_PREFIX}},
        }
        if page_size:
            kwargs["Limit"] = page_size
        tokens: list[dict[str, Any]] = []
        while True:
            answer = self._db.scan(**kwargs)
            for raw in answer.get("Items", []):
                item = from_dynamo(raw)
                tokens.append(
                    {"name": item["name"], "created_at": item.get("created_at"), "expires_at": item.get("expires_at")}
                )
            if not answer.get("LastEvaluatedKey"):
                return sorted(tokens, key=lambda t: t["name"])
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # for the logs only: callers get API Gateway's fixed 403 body whatever the reason
    name: str | None = None

    def simple_response(self) -> dict[str, Any]:
        """HTTP API Lambda authorizer, payload format 2.0 with simple responses."""
        if not self.allowed:
            return {"isAuthorized": False}
        return {"isAuthorized": True, "context": {"token_name": self.name}}


class TokenAuthorizer:
    def __init__(self, store: TokenStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def decide(self, token: str | None) -> Decision:
        if token is None:
            return Decision(False, "no bearer token")
        if not TOKEN_RE.match(token):
            return Decision(False, "malformed token")  # no lookup for what cannot be a token
        digest = token_hash(token)
        item = self.store.lookup(digest)
        if item is None or not hmac.compare_digest(str(item.get("token_sha256", "")), digest):
            return Decision(False, "unknown token")
        expires_at = item.get("expires_at")
        if expires_at is not None and float(expires_at) <= self.clock.now():
            return Decision(False, "expired token", item.get("name"))
        return Decision(True, "valid token", item.get("name"))
