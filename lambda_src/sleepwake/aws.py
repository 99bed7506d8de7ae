"""boto3 clients, created lazily and cached (clients made at import time would escape moto)."""

from __future__ import annotations

import functools
import os

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

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
