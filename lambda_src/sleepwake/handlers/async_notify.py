"""Entry point of the async notification Lambda: `sleepwake.handlers.async_notify.handler`.

Subscribed to the endpoint's success and error SNS topics: each SageMaker result becomes the input's status
(`completed` with its output location, or `failed` with the reason, the input kept aside under the failed prefix).
A malformed message is answered `{"ok": false, "error": ...}` and changes nothing; an AWS error while recording
raises, so that Lambda retries the notification.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from sleepwake.asyncjobs.events import BadEvent, parse_sns_event
from sleepwake.asyncjobs.jobs import AsyncJobs
from sleepwake.asyncjobs.settings import load_async_settings
from sleepwake.common.errors import SettingsError
from sleepwake.common.observability import get_logger, lambda_entry, log_context, log_event

log = get_logger("handlers.async_notify")


@functools.lru_cache(maxsize=1)
def _jobs() -> AsyncJobs:
    return AsyncJobs.from_settings(load_async_settings())


def reset() -> None:
    """Forget cached settings and clients (tests change the environment between cases)."""
    _jobs.cache_clear()


@lambda_entry
def handler(event: Any, context: Any = None) -> dict[str, Any]:
    try:
        results = parse_sns_event(event)
        jobs = _jobs()
    except SettingsError as exc:
        # Fail the invocation (SNS retries, the errors alarm fires) rather than drop the result in silence.
        log_event(log, "bad configuration", logging.ERROR, error=str(exc))
        raise
    except BadEvent as exc:
        log_event(log, "rejected event", logging.WARNING, error=str(exc))
        return {"ok": False, "error": str(exc)}
    answers = []
    for result in results:
        with log_context(inference_id=result.inference_id):
            answers.append(jobs.record_result(result))
    return {"ok": all(a.get("ok") for a in answers), "results": answers}
