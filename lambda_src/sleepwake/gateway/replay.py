"""Replay of queued requests, and the switch that lets them flow only while the endpoint serves.

The replay function is fed by an SQS event source mapping that is enabled only while the endpoint is serving:
the SageMaker state-change event drives the switch (`ReplayControl`, its own small function), and a schedule
reconciles it in case an event was missed. So queued messages wait in SQS, costing nothing and burning no
receive attempts, while the endpoint sleeps or wakes, and flow as soon as it is InService.

Per message (`Replayer.replay`), with SQS and its dead-letter queue doing the bookkeeping (ReportBatchItemFailures):

* already answered (`done`, or rejected by the model; a duplicate delivery): skipped, never invoked twice;
* being replayed by someone else right now: retried later;
* endpoint not serving (it went to sleep mid-replay): wake it, retry after the wake estimate;
* the model rejects the input (4xx): final; the model's answer is stored as the result, status `failed`;
* anything else throws (model 5xx, timeout, S3...): retried with backoff; the last attempt before the queue's
  maxReceiveCount marks the record `failed` + `dead_lettered`, and SQS moves the message to the DLQ, from which
  a redrive replays it again;
* success: result to S3 `results/<id>`, record `done`, activity recorded (the endpoint stays awake while busy).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from sleepwake.aws import clients as aws
from sleepwake.aws.endpoints import SageMakerEndpoints
from sleepwake.aws.runtime import EndpointUnavailable, ModelFailed
from sleepwake.common.observability import get_logger, log_context, log_event
from sleepwake.domain.lifecycle import BUSY_STATUSES
from sleepwake.gateway.queue import (
    DONE,
    FAILED,
    QUEUED,
    BadMessage,
    QueuedMessage,
)
from sleepwake.gateway.services import ServedBy, invoke_in_flight
from sleepwake.manager.service import ContentionError

log = get_logger("replay")
REPLAY_STATUSES = frozenset({"InService"} | BUSY_STATUSES)  # serving a healthy configuration
MAX_RETRY_DELAY_SECONDS = 900
FIRST_RETRY_DELAY_SECONDS = 30
# Time a replay needs beyond the model call itself (S3 and DynamoDB writes).
REPLAY_MARGIN_SECONDS = 15


@dataclass(frozen=True)
class Outcome:
    kind: str  # done | duplicate | rejected | retry
    retry_after_seconds: int = 0
    detail: str = ""

    @property
    def retry(self) -> bool:
        return self.kind == "retry"


def _receive_count(record: Mapping[str, Any]) -> int:
    attributes = record.get("attributes")
    try:
        return max(1, int(attributes.get("ApproximateReceiveCount", "1"))) if isinstance(attributes, Mapping) else 1
    except (TypeError, ValueError):
        return 1


def backoff_seconds(receive_count: int) -> int:
    return min(MAX_RETRY_DELAY_SECONDS, FIRST_RETRY_DELAY_SECONDS * 2 ** max(0, receive_count - 1))


class HandBack(Exception):
    """A message goes back to the queue (listed in batchItemFailures); its visibility delay is already set."""


class _TimeBudget:
    """Whether the invocation still has time for one more model call; says so in the log once when it has not."""

    def __init__(self, time_left_ms: Callable[[], int] | None, needed_ms: int) -> None:
        self.time_left_ms, self.needed_ms, self.said = time_left_ms, needed_ms, False

    def exhausted(self) -> bool:
        if self.time_left_ms is None or self.time_left_ms() >= self.needed_ms:
            return False
        if not self.said:
            log_event(log, "out of time; returning the rest of the batch", logging.WARNING)
            self.said = True
        return True


class Replayer(ServedBy):
    @property
    def stale_after_seconds(self) -> int:
        """A `running` record older than this was left by a replay that died; another may take it over."""
        return self.settings.invoke_timeout_seconds + 2 * REPLAY_MARGIN_SECONDS

    def process(
        self, records: Sequence[Mapping[str, Any]], time_left_ms: Callable[[], int] | None = None
    ) -> dict[str, Any]:
        """An SQS batch, through Powertools' `BatchProcessor`: each message is replayed on its own, and the answer
        is the partial batch response Lambda expects with ReportBatchItemFailures (the failed ones are retried,
        the others deleted). A message that must wait (or fails) is handed back with its own visibility delay."""
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        budget = _TimeBudget(time_left_ms, (self.settings.invoke_timeout_seconds + REPLAY_MARGIN_SECONDS) * 1000)
        return process_partial_response(
            event={"Records": list(records)},
            record_handler=lambda record: self._one(record.raw_event, budget),
            processor=processor,
        )

    def _one(self, record: Mapping[str, Any], budget: _TimeBudget) -> None:
        """One message; raises `HandBack` when it is to be retried (BatchProcessor lists it as failed)."""
        if budget.exhausted():
            # Not enough time left for another model call: hand this one back untouched, at once.
            self._retry_later(record, 0)
            raise HandBack("out of time")
        try:
            outcome = self.replay(record)
        except Exception as exc:
            count = _receive_count(record)
            log_event(
                log,
                "replay of one message failed; only it is retried",
                logging.ERROR,
                message_id=record.get("messageId"),
                error=f"{type(exc).__name__}: {aws.error_message(exc)}",
                receive_count=count,
            )
            outcome = Outcome("retry", backoff_seconds(count), type(exc).__name__)
        if outcome.retry:
            self._retry_later(record, outcome.retry_after_seconds)
            raise HandBack(outcome.detail or outcome.kind)

    def _retry_later(self, record: Mapping[str, Any], seconds: int) -> None:
        handle = record.get("receiptHandle")
        if not handle:
            return
        try:
            self.queue.retry_later(handle, seconds)
        except Exception as exc:
            log_event(log, "could not delay the retry", logging.WARNING, error=aws.error_message(exc))

    def replay(self, record: Mapping[str, Any]) -> Outcome:
        receive_count = _receive_count(record)
        last_attempt = receive_count >= self.settings.max_receive_count
        try:
            message = QueuedMessage.from_json(record.get("body"))
        except BadMessage as exc:
            log_event(
                log,
                "unreadable message; it goes to the dead-letter queue after the retries",
                logging.ERROR,
                message_id=record.get("messageId"),
                error=str(exc),
                receive_count=receive_count,
            )
            return Outcome("retry", backoff_seconds(receive_count), str(exc))
        with log_context(
            queued_request_id=message.request_id, endpoint_name=message.endpoint_name, receive_count=receive_count
        ):
            if message.endpoint_name != self.settings.endpoint_name:
                log_event(
                    log,
                    "message for another endpoint; it goes to the dead-letter queue",
                    logging.ERROR,
                    expected=self.settings.endpoint_name,
                )
                return Outcome("retry", backoff_seconds(receive_count), "wrong endpoint")
            return self._replay(message, receive_count, last_attempt)

    def _replay(self, message: QueuedMessage, receive_count: int, last_attempt: bool) -> Outcome:
        request_id = message.request_id
        now = self.clock.now()
        claim = self.requests.claim(
            request_id,
            endpoint_name=message.endpoint_name,
            now=now,
            stale_after_seconds=self.stale_after_seconds,
            expires_at=int(now + self.settings.request_retention_days * 86400),
        )
        if claim == "final":
            log_event(log, "duplicate delivery of a request already answered; skipped")
            return Outcome("duplicate")
        if claim == "busy":
            return Outcome("retry", self.stale_after_seconds, "another replay is running it")
        try:
            body = self.queue.body(message)
            result = invoke_in_flight(
                self.activity,
                self.runtime,
                message.endpoint_name,
                body,
                message.content_type,
                message.accept,
                self.settings.invoke_timeout_seconds,
            )
        except EndpointUnavailable as exc:
            answer = self._wake()
            retry = int(answer.get("retry_after_seconds") or self.manager.settings.wake_estimate_seconds)
            detail = f"endpoint {exc.status or 'absent'}; woke it ({answer.get('state')}), retrying in {retry} s"
            return self._failed(message, detail, receive_count, last_attempt, min(retry, MAX_RETRY_DELAY_SECONDS))
        except ModelFailed as exc:
            if exc.client_error:
                return self._rejected(message, exc)
            return self._failed(
                message,
                f"model error ({exc.original_status_code}): {exc.original_message or exc}",
                receive_count,
                last_attempt,
            )
        except Exception as exc:
            return self._failed(message, f"{type(exc).__name__}: {aws.error_message(exc)}", receive_count, last_attempt)
        key = self.results.put(request_id, result.body, result.content_type)
        self.requests.update(
            request_id,
            status=DONE,
            finished_at=self.clock.now(),
            result_key=key,
            result_content_type=result.content_type,
            result_bytes=len(result.body),
            remove=("error", "dead_lettered"),
        )
        if message.body_key:
            try:
                self.queue.delete_body(message.body_key)
            except Exception as exc:
                log_event(log, "could not delete the request body", logging.WARNING, error=aws.error_message(exc))
        log_event(
            log, "replayed", result_bytes=len(result.body), waited_seconds=int(self.clock.now() - message.received_at)
        )
        return Outcome("done")

    def _rejected(self, message: QueuedMessage, exc: ModelFailed) -> Outcome:
        """The model refused this input: a final answer, stored like a result, so the caller can read why."""
        answer = (exc.original_message or str(exc)).encode()
        key = self.results.put(message.request_id, answer, "text/plain; charset=utf-8")
        self.requests.update(
            message.request_id,
            status=FAILED,
            finished_at=self.clock.now(),
            result_key=key,
            result_content_type="text/plain; charset=utf-8",
            result_bytes=len(answer),
            original_status_code=exc.original_status_code,
            error=f"the model rejected the input ({exc.original_status_code})",
        )
        log_event(log, "model rejected the input", logging.WARNING, original_status_code=exc.original_status_code)
        return Outcome("rejected")

    def _failed(
        self, message: QueuedMessage, error: str, receive_count: int, last_attempt: bool, retry_after: int | None = None
    ) -> Outcome:
        delay = backoff_seconds(receive_count) if retry_after is None else retry_after
        if last_attempt:
            error = (
                f"{error}; attempt {receive_count} of {self.settings.max_receive_count}: the message moves "
                "to the dead-letter queue (redrive it to replay again)"
            )
            self.requests.update(message.request_id, status=FAILED, error=error, dead_lettered=True)
            log_event(log, "replay failed for the last time", logging.ERROR, error=error)
        else:
            self.requests.update(message.request_id, status=QUEUED, error=error)
            log_event(log, "replay failed; retrying", logging.WARNING, error=error, retry_in_seconds=delay)
        return Outcome("retry", delay, error)

    def _wake(self) -> dict[str, Any]:
        try:
            return self.manager.wake(self.settings.endpoint_name)
        except ContentionError as exc:
            return {"state": "waking", "message": str(exc)}


class ReplaySwitch:
    """The replay function's SQS event source mapping, switched on and off."""

    def __init__(self, mapping_uuid: str) -> None:
        self.mapping_uuid = mapping_uuid

    @property
    def _lambda(self):
        return aws.client("lambda")

    def state(self) -> str:
        return self._lambda.get_event_source_mapping(UUID=self.mapping_uuid)["State"]

    def set_enabled(self, enabled: bool) -> None:
        self._lambda.update_event_source_mapping(UUID=self.mapping_uuid, Enabled=enabled)


class ReplayControl:
    """Reconciles the switch with a fresh DescribeEndpoint: events can arrive late or out of order."""

    def __init__(self, endpoint_name: str, switch: ReplaySwitch, endpoints: SageMakerEndpoints) -> None:
        self.endpoint_name = endpoint_name
        self.switch = switch
        self.endpoints = endpoints

    def reconcile(self, reason: str) -> dict[str, Any]:
        observed = self.endpoints.describe(self.endpoint_name)
        status = observed.status if observed else None
        want = status in REPLAY_STATUSES
        state = self.switch.state()
        already = state in (("Enabled", "Enabling") if want else ("Disabled", "Disabling"))
        if not already:
            self.switch.set_enabled(want)
        answer = {
            "ok": True,
            "endpoint_name": self.endpoint_name,
            "sagemaker_status": status,
            "replay": "enabled" if want else "disabled",
            "changed": not already,
            "mapping_state": state,
            "reason": reason,
        }
        log_event(log, "replay switch", **{k: v for k, v in answer.items() if k != "ok"})
        return answer
