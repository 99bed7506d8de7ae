"""Configuration of the async inference functions (modules/async-jobs), parsed once.

The trigger (`sleepwake.handlers.async_trigger`) and the notification handler (`sleepwake.handlers.async_notify`)
read the same variables; a bad value fails with a message naming the variable, as in `sleepwake.domain.settings`.
See docs/architecture.md for the table of variables.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sleepwake.common.config import BUCKET_RE, ENDPOINT_NAME_RE, TABLE_RE, parse_int
from sleepwake.common.errors import SettingsError

# An S3 key prefix that names a "folder": no leading slash, ends with one.
PREFIX_RE = re.compile(r"^[^/\s][^\s]{0,500}/$")
CONTENT_TYPE_RE = re.compile(r"^[\w.+-]+/[\w.+-]+(;.*)?$")


@dataclass(frozen=True)
class AsyncSettings:
    table_name: str
    endpoint_name: str
    input_bucket: str
    input_prefix: str
    failed_prefix: str = "failed/"
    # Used when an input object has no content type of its own (S3 reports binary/octet-stream then).
    default_content_type: str = "application/json"
    # A claim older than this is considered lost (its trigger died between claim and invoke) and may be retaken.
    claim_seconds: int = 120
    record_ttl_days: int = 30
    # Passed to InvokeEndpointAsync when set; None leaves SageMaker's defaults (6 hours, 15 minutes).
    request_ttl_seconds: int | None = None
    invocation_timeout_seconds: int | None = None
    environment: str = "default"


def _required(env: Mapping[str, str], name: str, pattern: re.Pattern[str], what: str) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        raise SettingsError(f"{name} is not set")
    if not pattern.match(raw):
        raise SettingsError(f"{name} must be {what}, got {raw!r}")
    return raw


def _optional_int(env: Mapping[str, str], name: str, minimum: int, maximum: int) -> int | None:
    if not env.get(name, "").strip():
        return None
    return parse_int(env, name, 0, minimum=minimum, maximum=maximum)


def load_async_settings(env: Mapping[str, str] | None = None) -> AsyncSettings:
    env = os.environ if env is None else env
    input_prefix = _required(
        env, "SLEEPWAKE_ASYNC_INPUT_PREFIX", PREFIX_RE, 'a key prefix ending in "/", such as "inputs/"'
    )
    failed_prefix = env.get("SLEEPWAKE_ASYNC_FAILED_PREFIX", "").strip() or "failed/"
    if not PREFIX_RE.match(failed_prefix):
        raise SettingsError(f'SLEEPWAKE_ASYNC_FAILED_PREFIX must be a key prefix ending in "/", got {failed_prefix!r}')
    if failed_prefix.startswith(input_prefix) or input_prefix.startswith(failed_prefix):
        # A failed input copied under the input prefix would be submitted again, and fail again, forever.
        raise SettingsError(
            f"SLEEPWAKE_ASYNC_FAILED_PREFIX {failed_prefix!r} must not overlap "
            f"SLEEPWAKE_ASYNC_INPUT_PREFIX {input_prefix!r}"
        )
    content_type = env.get("SLEEPWAKE_ASYNC_DEFAULT_CONTENT_TYPE", "").strip() or "application/json"
    if not CONTENT_TYPE_RE.match(content_type):
        raise SettingsError(f"SLEEPWAKE_ASYNC_DEFAULT_CONTENT_TYPE must be a MIME type, got {content_type!r}")
    return AsyncSettings(
        table_name=_required(env, "SLEEPWAKE_ASYNC_TABLE_NAME", TABLE_RE, "a DynamoDB table name"),
        endpoint_name=_required(env, "SLEEPWAKE_ASYNC_ENDPOINT_NAME", ENDPOINT_NAME_RE, "a SageMaker endpoint name"),
        input_bucket=_required(env, "SLEEPWAKE_ASYNC_INPUT_BUCKET", BUCKET_RE, "an S3 bucket name"),
        input_prefix=input_prefix,
        failed_prefix=failed_prefix,
        default_content_type=content_type,
        claim_seconds=parse_int(env, "SLEEPWAKE_ASYNC_CLAIM_SECONDS", 120, minimum=10, maximum=3600),
        record_ttl_days=parse_int(env, "SLEEPWAKE_ASYNC_RECORD_TTL_DAYS", 30, minimum=1, maximum=3650),
        request_ttl_seconds=_optional_int(env, "SLEEPWAKE_ASYNC_REQUEST_TTL_SECONDS", 60, 21600),
        invocation_timeout_seconds=_optional_int(env, "SLEEPWAKE_ASYNC_INVOCATION_TIMEOUT_SECONDS", 1, 3600),
        environment=env.get("SLEEPWAKE_ENVIRONMENT", "").strip() or "default",
    )
