"""Entry point of the async trigger Lambda: `sleepwake.handlers.async_trigger.handler`.

S3 object-created events under the input prefix -> InvokeEndpointAsync, once per object version. A bad event is
answered `{"ok": false, "error": ...}` and changes nothing (retrying it would not help). A failed invoke, or an
input another invocation is still submitting, raises: Lambda then retries the event (asynchronous invocation:
two retries), and the per-version record makes the retry safe.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from sleepwake.asyncjobs.events import BadEvent, parse_s3_event
from sleepwake.asyncjobs.jobs import AsyncJobs
from sleepwake.asyncjobs.settings import AsyncSettings, load_async_settings
from sleepwake.common.errors import SettingsError
from sleepwake.common.observability import get_logger, lambda_entry, log_context, log_event

log = get_logger("handlers.async_trigger")


@functools.lru_cache(maxsize=1)
def _settings() -> AsyncSettings:
    return load_async_settings()


@functools.lru_cache(maxsize=1)
def _jobs() -> AsyncJobs:
    return AsyncJobs.from_settings(_settings())


def reset() -> None:
    """Forget cached settings and clients (tests change the environment between cases)."""
    _jobs.cache_clear()
    _settings.cache_clear()


@lambda_entry
def handler(event: Any, context: Any = None) -> dict[str, Any]:
    try:
        if isinstance(event, dict) and event.get("Event") == "s3:TestEvent":
            return {"ok": True, "ignored": True, "message": "S3 test event"}
        settings = _settings()
        inputs, skipped = parse_s3_event(event, bucket=settings.input_bucket, prefix=settings.input_prefix)
    except SettingsError as exc:
        # A misconfigured trigger must fail the invocation (Lambda retries it, the errors alarm fires), not
        # answer "ok: false", which Lambda counts as success: the upload would be dropped in silence.
        log_event(log, "bad configuration", logging.ERROR, error=str(exc))
        raise
    except BadEvent as exc:
        log_event(log, "rejected event", logging.WARNING, error=str(exc))
        return {"ok": False, "error": str(exc)}
    jobs = _jobs()
    results = []
    for item in inputs:
        with log_context(input=item.uri, version_id=item.version_id):
            results.append(jobs.submit(item))
    submitted = sum(1 for r in results if r.get("status") == "queued" and not r.get("duplicate"))
    return {"ok": True, "submitted": submitted, "results": results, "skipped": skipped}
