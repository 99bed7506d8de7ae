"""Logging and tracing in one place, on Powertools for AWS Lambda (Python).

Every function logs one JSON object per line through one Powertools `Logger` (service `sleepwake`), with the fields
the dashboard's queries read: `time` (UTC, milliseconds), `level`, `logger`, `message`, then the context keys
(`request_id`, `endpoint_name`, ...; `log_context`) and the event's own fields (`log_event`). Inside Lambda the
Powertools Lambda-context keys (function name, cold start, X-Ray trace id) are added too.

Tracing is Powertools' `Tracer` on aws-xray-sdk, switched on only inside Lambda and only when AWS_XRAY_SDK_ENABLED
is not "false", so tests, the demo and the simulator stay silent. `lambda_entry` wraps each handler with both.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

SERVICE = "sleepwake"
# Keys that must never be logged even if a caller passes them as fields.
_REDACTED_KEYS = frozenset({"token", "authorization", "password", "secret"})
# `log_event` passes its fields under this one `extra` key (a field may be called "created", which a LogRecord
# attribute already is); the formatter puts them at the top level of the line.
_FIELDS = "sleepwake_fields"


class SleepwakeFormatter(LambdaPowertoolsFormatter):
    """Powertools' structured JSON, under sleepwake's field names: time, level, logger, message, then the rest."""

    def __init__(self) -> None:
        super().__init__(
            log_record_order=["timestamp", "level", "name", "message"],
            datefmt="%Y-%m-%dT%H:%M:%S.%FZ",
            utc=True,
            name="%(name)s",
            # json.dumps' own separators, as sleepwake has always logged: the dashboard matches '"created": true'
            json_serializer=functools.partial(json.dumps, default=str),
        )
        self.log_format.pop("location", None)

    def serialize(self, log: dict[str, Any]) -> str:
        renamed = {{"timestamp": "time", "name": "logger"}.get(key, key): value for key, value in log.items()}
        fields = renamed.pop(_FIELDS, None)  # `log_event`'s fields, at the top level whatever their names
        if isinstance(fields, dict):
            renamed.update(fields)
        return super().serialize(renamed)


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is at the time (Lambda ships stdout to CloudWatch; tests capture it)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


@functools.lru_cache(maxsize=1)
def _root() -> Logger:
    logger = Logger(service=SERVICE, logger_handler=_StdoutHandler(), logger_formatter=SleepwakeFormatter())
    logging.getLogger(SERVICE).propagate = False  # one line per event: not again through Lambda's root handler
    return logger


def configure_logging(level: str | None = None) -> None:
    """Idempotent: the Powertools logger `sleepwake` (its children are the modules' loggers), at the level asked,
    else SLEEPWAKE_LOG_LEVEL, else INFO."""
    _root().setLevel((level or os.environ.get("SLEEPWAKE_LOG_LEVEL") or "INFO").upper())


def get_logger(name: str) -> logging.Logger:
    """A module's logger: a child of the Powertools logger, so its lines share its handler and formatter."""
    return logging.getLogger(f"{SERVICE}.{name}")


def log_event(logger: logging.Logger, message: str, level: int = logging.INFO, **fields: Any) -> None:
    safe = {key: ("[redacted]" if key.lower() in _REDACTED_KEYS else value) for key, value in fields.items()}
    logger.log(level, message, extra={_FIELDS: safe})


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Keys added to every line logged inside the block (nested blocks add to the outer ones)."""
    keys = {key: value for key, value in fields.items() if value is not None}
    with _root().append_context_keys(**keys):
        yield


def tracing_enabled() -> bool:
    if os.environ.get("AWS_XRAY_SDK_ENABLED", "").strip().lower() == "false":
        return False
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


@functools.lru_cache(maxsize=1)
def _tracer():
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE, patch_modules=["boto3", "botocore"])


def setup_tracing() -> bool:
    """The Powertools tracer (boto3 patched for X-Ray) inside Lambda; nothing anywhere else. Returns whether on."""
    if not tracing_enabled():
        return False
    try:
        _tracer()
    except ImportError:  # the zip always has aws-xray-sdk; a local run without it just does not trace
        return False
    return True


def _context_keys(context: Any) -> dict[str, Any]:
    """The Lambda context's keys as Powertools logs them, plus `request_id` (what every line of ours carries)."""
    if not hasattr(context, "aws_request_id"):
        return {}
    keys = {"request_id": getattr(context, "aws_request_id", None)}
    for key, attribute in (
        ("function_name", "function_name"),
        ("function_memory_size", "memory_limit_in_mb"),
        ("function_arn", "invoked_function_arn"),
    ):
        value = getattr(context, attribute, None)
        if isinstance(value, (str, int)):
            keys[key] = value
    return keys


def lambda_entry(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Wrap a Lambda handler: logging configured, the Lambda context's keys on every line, cold start noted, and
    the invocation traced (Powertools' `capture_lambda_handler`) when tracing is on."""
    cold = {"start": True}
    traced = functools.cache(lambda: _tracer().capture_lambda_handler(handler))  # wrapped once, when first traced

    @functools.wraps(handler)
    def entry(event: Any, context: Any = None) -> Any:
        configure_logging()
        cold_start, cold["start"] = cold["start"], False
        with log_context(**_context_keys(context), cold_start=cold_start or None):
            return (traced() if setup_tracing() else handler)(event, context)

    return entry
