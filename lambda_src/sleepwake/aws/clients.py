"""boto3 clients (one factory, lazily created and cached) and the reading of AWS errors."""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

_RETRIES = {"mode": "standard", "max_attempts": 4}
_session_lock = threading.Lock()


@functools.cache
def _loader() -> botocore.loaders.Loader:
    """The service models, read from disk once per process (a new session re-reads them: ~70 ms a client)."""
    return botocore.loaders.create_loader()


@functools.cache
def _session() -> boto3.session.Session:
    """One session for every client, over the shared models; `reset_clients` makes a new one (new credentials)."""
    core = botocore.session.Session()
    core.register_component("data_loader", _loader())
    session = boto3.session.Session(botocore_session=core)
    paths = _loader().search_paths  # boto3 adds its own data directory to the loader on every new session
    paths[:] = list(dict.fromkeys(paths))
    return session


@functools.cache
def _cached(
    service: str,
    region: str | None,
    endpoint_url: str | None,
    read_timeout: int,
    attempts: int | None,
    signature_version: str | None,
):
    retries = _RETRIES if attempts is None else {"mode": "standard", "total_max_attempts": attempts}
    config = Config(
        retries=retries,
        connect_timeout=3,
        read_timeout=read_timeout,
        signature_version=signature_version,
        user_agent_extra="sagemaker-sleepwake",
    )
    with _session_lock:  # a session must not make clients on two threads at once (its clients may be shared)
        return _session().client(service, region_name=region, endpoint_url=endpoint_url, config=config)


def client(service: str, *, read_timeout: int = 20, attempts: int | None = None, signature_version: str | None = None):
    """The one place boto3 clients are made: cached per service and options, created on first use (a client made
    at import time would escape moto). AWS_ENDPOINT_URL (a local emulator) is honoured.

    `attempts` caps the attempts in all (an InvokeEndpoint is tried once: a retried inference doubles GPU work);
    `signature_version` "s3v4" for pre-signed S3 URLs (botocore would otherwise sign some with SigV2)."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return _cached(
        service, region, os.environ.get("AWS_ENDPOINT_URL") or None, int(read_timeout), attempts, signature_version
    )


def reset_clients() -> None:
    """Forget the clients (and the session's credentials): tests and the emulator driver change the environment."""
    _cached.cache_clear()
    _session.cache_clear()


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
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
        "TransactionConflict",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)
UNAVAILABLE_CODES = frozenset(
    {
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerError",
        "InternalServerException",
        "InternalFailure",
        "InternalError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
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
