"""Logging and tracing in one place.

JSON log lines carry the endpoint name and the request id; X-Ray patches boto3 only inside Lambda and only when
AWS_XRAY_SDK_ENABLED is not "false", so tests, the demo and the simulator stay silent.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("sleepwake_log_context")
_configured = False
_xray_patched = False

# Keys that must never be logged even if a caller passes them as fields.
_REDACTED_KEYS = frozenset({"token", "authorization", "password", "secret"})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_context.get({}))
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({k: ("[redacted]" if k.lower() in _REDACTED_KEYS else v) for k, v in fields.items()})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, sort_keys=False)


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


def configure_logging(level: str | None = None) -> None:
    """Idempotent: one JSON handler on the `sleepwake` logger."""
    global _configured
    logger = logging.getLogger("sleepwake")
    logger.setLevel((level or os.environ.get("SLEEPWAKE_LOG_LEVEL") or "INFO").upper())
    if not _configured:
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
        _configured = True


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"sleepwake.{name}")


def log_event(logger: logging.Logger, message: str, level: int = logging.INFO, **fields: Any) -> None:
    logger.log(level, message, extra={"fields": fields})


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    token = _context.set({**_context.get({}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def tracing_enabled() -> bool:
    if os.environ.get("AWS_XRAY_SDK_ENABLED", "").strip().lower() == "false":
        return False
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def setup_tracing() -> bool:
    """Patch boto3 for X-Ray inside Lambda; a no-op anywhere else. Returns whether tracing is on."""
    global _xray_patched
    if _xray_patched:
        return True
    if not tracing_enabled():
        return False
    try:
        from aws_xray_sdk.core import patch, xray_recorder
    except ImportError:  # the zip always has it; a local run without it just does not trace
        return False
    xray_recorder.configure(context_missing="IGNORE_ERROR")
    patch(["boto3", "botocore"])
    _xray_patched = True
    return True
