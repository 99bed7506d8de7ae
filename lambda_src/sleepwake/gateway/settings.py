"""Configuration of the inference gateway's functions (modules/inference-gateway), parsed once.

The gateway and replay functions also get the manager's SLEEPWAKE_* variables (they wake the endpoint through the
same `Manager` service), parsed by `sleepwake.domain.settings.load_settings`. A bad value fails with a message naming
the variable, as there.

Size limits, and where they come from (bytes):

* SageMaker InvokeEndpoint accepts a body of at most 6 MiB (6,291,456).
* A synchronous Lambda invocation carries at most 6,291,456 bytes of event JSON. API Gateway (HTTP API, payload
  format 2.0) puts the request body into that event, base64-encoded when it is not text, plus headers and the
  request context. Reserving 64 KiB for those, a base64 body fits when it is at most
  (6,291,456 - 65,536) / 4 * 3 = 4,669,440 bytes. That is the default limit for every body, text or not, so one
  number holds for all callers. Larger bodies that still reach the gateway get 413; bodies whose event would
  exceed the Lambda limit never reach it (see docs/architecture.md for what callers see then).
* API Gateway HTTP APIs take at most 10 MB, so they never bind before Lambda does.
* SQS messages are at most 256 KiB; a queued body whose message would exceed `INLINE_MESSAGE_BYTES` goes to S3.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sleepwake.common.config import BUCKET_RE, ENDPOINT_NAME_RE, TABLE_RE, parse_int
from sleepwake.common.errors import SettingsError

SAGEMAKER_MAX_BODY_BYTES = 6 * 1024 * 1024
LAMBDA_SYNC_PAYLOAD_BYTES = 6_291_456
EVENT_OVERHEAD_BYTES = 64 * 1024
DEFAULT_MAX_BODY_BYTES = (LAMBDA_SYNC_PAYLOAD_BYTES - EVENT_OVERHEAD_BYTES) // 4 * 3  # 4,669,440
# A synchronous answer must fit the same Lambda limit: the model's body (base64 when binary) plus headers.
MAX_INLINE_RESPONSE_BYTES = LAMBDA_SYNC_PAYLOAD_BYTES - EVENT_OVERHEAD_BYTES
INLINE_MESSAGE_BYTES = 200 * 1024  # SQS allows 256 KiB per message; the rest is headroom for the envelope
QUEUE_URL_RE = re.compile(r"^https?://\S+/[0-9]{12}/[A-Za-z0-9_-]{1,80}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class GatewaySettings:
    """What the gateway and replay functions need beyond the manager's settings."""

    endpoint_name: str
    queue_url: str
    bucket: str
    max_lease_minutes: int = 240
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    inline_result_bytes: int = 64 * 1024
    result_url_seconds: int = 3600
    request_retention_days: int = 7
    max_receive_count: int = 5
    invoke_timeout_seconds: int = 25
    # A fallback answer while the endpoint wakes: a (serverless) endpoint called for synchronous requests that
    # accept it (`Prefer: fallback`, or every synchronous request when fallback_by_default), marked as such.
    fallback_endpoint: str | None = None
    fallback_by_default: bool = False


@dataclass(frozen=True)
class ReplayControlSettings:
    endpoint_name: str
    mapping_uuid: str


@dataclass(frozen=True)
class AuthorizerSettings:
    tokens_table: str


def _required(env: Mapping[str, str], name: str, pattern: re.Pattern[str], what: str) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        raise SettingsError(f"{name} is not set")
    if not pattern.match(raw):
        raise SettingsError(f"{name} must be {what}, got {raw!r}")
    return raw


def _endpoint(env: Mapping[str, str], managed: Mapping[str, object] | None) -> str:
    name = _required(env, "SLEEPWAKE_GATEWAY_ENDPOINT", ENDPOINT_NAME_RE, "a SageMaker endpoint name")
    if managed is not None and name not in managed:
        known = ", ".join(sorted(managed)) or "none"
        raise SettingsError(f"SLEEPWAKE_GATEWAY_ENDPOINT {name!r} is not in SLEEPWAKE_ENDPOINTS (managed: {known})")
    return name


def load_gateway_settings(
    env: Mapping[str, str] | None = None, managed: Mapping[str, object] | None = None
) -> GatewaySettings:
    """`managed`: the manager's endpoints, so a gateway for an endpoint nobody manages fails at once."""
    env = os.environ if env is None else env
    return GatewaySettings(
        endpoint_name=_endpoint(env, managed),
        queue_url=_required(env, "SLEEPWAKE_REQUEST_QUEUE_URL", QUEUE_URL_RE, "an SQS queue URL"),
        bucket=_required(env, "SLEEPWAKE_REQUEST_BUCKET", BUCKET_RE, "an S3 bucket name"),
        max_lease_minutes=parse_int(env, "SLEEPWAKE_MAX_LEASE_MINUTES", 240, minimum=1, maximum=10080),
        max_body_bytes=parse_int(
            env, "SLEEPWAKE_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, minimum=1, maximum=SAGEMAKER_MAX_BODY_BYTES
        ),
        inline_result_bytes=parse_int(env, "SLEEPWAKE_INLINE_RESULT_BYTES", 64 * 1024, maximum=1024 * 1024),
        result_url_seconds=parse_int(env, "SLEEPWAKE_RESULT_URL_SECONDS", 3600, minimum=60, maximum=43200),
        request_retention_days=parse_int(env, "SLEEPWAKE_REQUEST_RETENTION_DAYS", 7, minimum=1, maximum=14),
        max_receive_count=parse_int(env, "SLEEPWAKE_MAX_RECEIVE_COUNT", 5, minimum=1, maximum=1000),
        invoke_timeout_seconds=parse_int(env, "SLEEPWAKE_INVOKE_TIMEOUT_SECONDS", 25, minimum=1, maximum=3600),
        **_fallback(env),
    )


def _fallback(env: Mapping[str, str]) -> dict[str, object]:
    name = env.get("SLEEPWAKE_FALLBACK_ENDPOINT", "").strip() or None
    if name is not None and not ENDPOINT_NAME_RE.match(name):
        raise SettingsError(f"SLEEPWAKE_FALLBACK_ENDPOINT must be a SageMaker endpoint name, got {name!r}")
    if name is not None and name == env.get("SLEEPWAKE_GATEWAY_ENDPOINT", "").strip():
        raise SettingsError("SLEEPWAKE_FALLBACK_ENDPOINT must be another endpoint than SLEEPWAKE_GATEWAY_ENDPOINT")
    raw = env.get("SLEEPWAKE_FALLBACK_BY_DEFAULT", "").strip().lower() or "false"
    if raw not in ("true", "false"):
        raise SettingsError(f"SLEEPWAKE_FALLBACK_BY_DEFAULT must be true or false, got {raw!r}")
    if raw == "true" and name is None:
        raise SettingsError("SLEEPWAKE_FALLBACK_BY_DEFAULT is true but SLEEPWAKE_FALLBACK_ENDPOINT is not set")
    return {"fallback_endpoint": name, "fallback_by_default": raw == "true"}


def load_replay_control_settings(env: Mapping[str, str] | None = None) -> ReplayControlSettings:
    env = os.environ if env is None else env
    return ReplayControlSettings(
        endpoint_name=_endpoint(env, None),
        mapping_uuid=_required(env, "SLEEPWAKE_REPLAY_MAPPING_UUID", UUID_RE, "an event source mapping UUID"),
    )


def load_authorizer_settings(env: Mapping[str, str] | None = None) -> AuthorizerSettings:
    env = os.environ if env is None else env
    return AuthorizerSettings(tokens_table=_required(env, "SLEEPWAKE_TOKENS_TABLE", TABLE_RE, "a DynamoDB table name"))
