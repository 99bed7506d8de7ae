"""boto3 clients, created lazily and cached (clients made at import time would escape moto)."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import (ClientError, ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError,
                                 ReadTimeoutError)

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=3,
    read_timeout=20,
    user_agent_extra="sagemaker-sleepwake",
)


@functools.lru_cache(maxsize=None)
def _cached(service: str, region: str | None, endpoint_url: str | None):
    return boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint_url, config=_CONFIG)


def client(service: str):
    """A cached client; AWS_ENDPOINT_URL (e.g. the local emulator) is honoured by boto3 itself."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return _cached(service, region, os.environ.get("AWS_ENDPOINT_URL") or None)


def reset_clients() -> None:
    _cached.cache_clear()


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def error_message(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message", exc))
    return str(exc)


# ---- transient faults: one classification for every caller ---------------------------------------------------
# Codes AWS answers when a call may well succeed if simply made again a little later. Botocore has already retried
# these (standard mode) by the time they reach us, so they are reported with a Retry-After, never as a 500.
THROTTLING_CODES = frozenset({
    "ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException", "RequestThrottled",
    "RequestThrottledException", "ProvisionedThroughputExceededException", "RequestLimitExceeded", "SlowDown",
    "TransactionConflict", "TransactionConflictException", "TransactionInProgressException",
})
UNAVAILABLE_CODES = frozenset({
    "ServiceUnavailable", "ServiceUnavailableException", "InternalServerError", "InternalServerException",
    "InternalFailure", "InternalError", "RequestTimeout", "RequestTimeoutException",
})
THROTTLED_RETRY_SECONDS = 2
UNAVAILABLE_RETRY_SECONDS = 5


@dataclass(frozen=True)
class Transient:
    """A transient AWS fault: what was refused, and how long to wait before trying again."""

    code: str
    operation: str | None
    throttled: bool
    retry_after_seconds: int

    def describe(self) -> str:
        what = f"AWS {self.operation}" if self.operation else "an AWS call"
        return f"{what} was {'throttled' if self.throttled else 'unavailable'} ({self.code})"


def transient(exc: BaseException) -> Transient | None:
    """The transient fault `exc` stands for, or None when retrying the same call would not help."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        operation = getattr(exc, "operation_name", None) or None
        if code in THROTTLING_CODES:
            return Transient(code, operation, True, THROTTLED_RETRY_SECONDS)
        if code in UNAVAILABLE_CODES:
            return Transient(code, operation, False, UNAVAILABLE_RETRY_SECONDS)
        return None
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)):
        return Transient(type(exc).__name__, None, False, UNAVAILABLE_RETRY_SECONDS)
    return None
