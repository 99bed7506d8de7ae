"""Entry point of the replay Lambda, fed by the request queue: `sleepwake.handlers.replay.handler`.

The event source mapping is configured with ReportBatchItemFailures: the answer lists the messages to retry;
the others are deleted from the queue.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from sleepwake.common.errors import BadEvent
from sleepwake.common.observability import get_logger, lambda_entry, log_event
from sleepwake.gateway.replay import Replayer

log = get_logger("handlers.replay")


@functools.lru_cache(maxsize=1)
def _replayer() -> Replayer:
    return Replayer.from_env()


def reset() -> None:
    _replayer.cache_clear()


@lambda_entry
def handler(event: Any, context: Any = None) -> dict[str, Any]:
    records = sqs_records(event)
    time_left = getattr(context, "get_remaining_time_in_millis", None)
    answer = _replayer().process(records, time_left)
    log_event(log, "batch", records=len(records), retried=len(answer["batchItemFailures"]))
    return answer


def sqs_records(event: Any) -> list[Mapping[str, Any]]:
    """The records of an SQS event; anything else is a wiring mistake, raised so it shows as an error."""
    if not isinstance(event, Mapping) or not isinstance(event.get("Records"), list):
        log_event(log, "not an SQS event", logging.ERROR)
        raise BadEvent("the replay function takes SQS events (Records from the request queue)")
    records = event["Records"]
    for record in records:
        if not isinstance(record, Mapping) or record.get("eventSource") != "aws:sqs" or "messageId" not in record:
            raise BadEvent("every record must be an SQS message (eventSource aws:sqs, with a messageId)")
    return records
