"""Wake, sleep and failure notifications on SNS (optional: no topic, no messages)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from sleepwake.aws import clients as aws
from sleepwake.common.observability import get_logger, log_event
from sleepwake.domain.pricing import known_price

log = get_logger("notify")


def describe(event: Mapping[str, Any], environment: str, instance_type: str | None, instance_count: int) -> dict:
    """The message body: what happened, why, and what the time awake cost."""
    body = dict(event)
    body["environment"] = environment
    body["instance_type"] = instance_type  # the serving one (capacity-aware wake): what the price below is for
    price = known_price(instance_type, instance_count) if instance_type else None
    body["hourly_price_usd"] = price
    if "awake_seconds" in body and price is not None:
        body["cost_usd"] = round(body["awake_seconds"] / 3600.0 * price, 4)
    return body


class Notifier:
    def __init__(self, topic_arn: str | None) -> None:
        self.topic_arn = topic_arn

    def publish(self, body: Mapping[str, Any]) -> None:
        """Best effort: a notification that cannot be sent is logged, never fails the action it reports."""
        log_event(log, "notification", event=body.get("event"), detail=dict(body))
        if not self.topic_arn:
            return
        subject = f"sleepwake: {body.get('endpoint_name')} {body.get('event')}"[:100]
        try:
            aws.client("sns").publish(TopicArn=self.topic_arn, Subject=subject, Message=json.dumps(body, default=str))
        except Exception as exc:
            log_event(log, "notification failed", logging.ERROR, error=str(exc), topic_arn=self.topic_arn)
