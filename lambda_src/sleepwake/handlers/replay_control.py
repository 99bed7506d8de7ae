"""Entry point of the replay switch: `sleepwake.handlers.replay_control.handler`.

Takes the SageMaker endpoint state-change event (and a periodic scheduled event, in case one was missed) and
enables the replay function's SQS event source mapping while the endpoint serves, disables it otherwise.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from sleepwake.aws.endpoints import SageMakerEndpoints
from sleepwake.common.errors import BadEvent, SettingsError
from sleepwake.common.observability import get_logger, lambda_entry, log_context, log_event
from sleepwake.gateway.replay import ReplayControl, ReplaySwitch
from sleepwake.gateway.settings import load_replay_control_settings
from sleepwake.manager.events import parse

log = get_logger("handlers.replay_control")


@functools.lru_cache(maxsize=1)
def _control() -> ReplayControl:
    settings = load_replay_control_settings()
    return ReplayControl(settings.endpoint_name, ReplaySwitch(settings.mapping_uuid), SageMakerEndpoints())


def reset() -> None:
    _control.cache_clear()


@lambda_entry
def handler(event: Any, context: Any = None) -> dict[str, Any]:
    try:
        command = parse(event)
        if command.kind not in ("tick", "state-change"):
            raise BadEvent(
                f"the replay switch takes SageMaker state-change and scheduled events, not the {command.kind!r} action"
            )
        control = _control()
    except (BadEvent, SettingsError) as exc:
        log_event(log, "rejected event", logging.WARNING, error=str(exc))
        return {"ok": False, "error": str(exc)}
    if command.kind == "state-change" and command.endpoint_name != control.endpoint_name:
        return {
            "ok": True,
            "ignored": True,
            "endpoint_name": command.endpoint_name,
            "message": "not this gateway's endpoint",
        }
    reason = "schedule" if command.kind == "tick" else f"state change to {command.reported_status}"
    with log_context(endpoint_name=control.endpoint_name):
        return control.reconcile(reason)
