"""Recognise and validate the manager's events. Anything unrecognised is a `BadEvent` naming the problem."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sleepwake.common.errors import BadEvent
from sleepwake.common.parsing import clip, echo

ACTIONS = ("wake", "sleep", "status", "report")
# SageMaker's own rule for endpoint names (CreateEndpoint): anything else cannot name an endpoint.
ENDPOINT_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
MAX_STATUS_CHARS = 64
_ACTION_KEYS = {"action", "endpoint_name", "force", "reset_failures", "day"}
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Command:
    kind: str  # "wake" | "sleep" | "status" | "tick" | "state-change" | "teardown" | "noop"
    endpoint_name: str | None = None
    force: bool = False
    reset_failures: bool = False
    reported_status: str | None = None
    endpoint_names: tuple[str, ...] = ()  # teardown: the endpoints to delete
    day: str | None = None  # report: the UTC day (YYYY-MM-DD), None for today


def endpoint_name(value: Any, where: str = "endpoint_name") -> str:
    """A valid SageMaker endpoint name, or a BadEvent that shows (a cut of) what was given."""
    if not isinstance(value, str) or not value:
        raise BadEvent(f"{where} must be a non-empty string, got {echo(value, as_json=True)}")
    if not ENDPOINT_NAME_RE.match(value):
        raise BadEvent(
            f"{where} {echo(value)} is not a SageMaker endpoint name (1-63 letters, digits and "
            "hyphens, starting and ending with a letter or digit)"
        )
    return value


def _keys(event: Mapping[str, Any]) -> str:
    return clip(str(sorted(map(str, event))))


def parse(event: Any) -> Command:
    if not isinstance(event, Mapping):
        raise BadEvent(f"the event must be a JSON object, got {type(event).__name__}")
    if "action" in event:
        return _parse_action(event)
    if "tf" in event:
        return _parse_terraform_lifecycle(event)
    source, detail_type = event.get("source"), event.get("detail-type")
    if source == "aws.events" and detail_type == "Scheduled Event":
        return Command("tick")
    if source == "aws.sagemaker" and detail_type == "SageMaker Endpoint State Change":
        detail = event.get("detail")
        if not isinstance(detail, Mapping) or "EndpointName" not in detail:
            raise BadEvent("SageMaker state-change event without detail.EndpointName")
        name = endpoint_name(detail["EndpointName"], "detail.EndpointName")
        status = detail.get("EndpointStatus")
        if isinstance(status, str) and len(status) > MAX_STATUS_CHARS:
            raise BadEvent(f"detail.EndpointStatus {echo(status)} is not a SageMaker endpoint status")
        return Command("state-change", name, reported_status=status if isinstance(status, str) else None)
    if source or detail_type:
        raise BadEvent(f"unknown event: source {echo(source)}, detail-type {echo(detail_type)}")
    raise BadEvent(
        f'unknown event: expected an "action" ({" | ".join(ACTIONS)}), a scheduled event or a '
        f"SageMaker state-change event; got keys {_keys(event)}"
    )


def _parse_action(event: Mapping[str, Any]) -> Command:
    action = event["action"]
    if action not in ACTIONS:
        raise BadEvent(f"unknown action {echo(action)}: expected one of {', '.join(ACTIONS)}")
    unknown = set(event) - _ACTION_KEYS
    if unknown:
        raise BadEvent(f"unknown field(s) for action {action!r}: {clip(', '.join(sorted(map(str, unknown))))}")
    name = event.get("endpoint_name")
    if name is not None:
        name = endpoint_name(name)
    force, reset = event.get("force", False), event.get("reset_failures", False)
    if not isinstance(force, bool):
        raise BadEvent("force must be true or false")
    if not isinstance(reset, bool):
        raise BadEvent("reset_failures must be true or false")
    if force and action != "sleep":
        raise BadEvent("force applies to the sleep action only")
    if reset and action != "wake":
        raise BadEvent("reset_failures applies to the wake action only")
    day = event.get("day")
    if day is not None:
        if action != "report":
            raise BadEvent("day applies to the report action only")
        if not isinstance(day, str) or not DAY_RE.match(day):
            raise BadEvent(f"day must be a UTC date YYYY-MM-DD, got {echo(day, as_json=True)}")
    return Command(action, name, force=force, reset_failures=reset, day=day)


TERRAFORM_ACTIONS = ("create", "update", "delete")


def _parse_terraform_lifecycle(event: Mapping[str, Any]) -> Command:
    """aws_lambda_invocation with lifecycle_scope = "CRUD" (modules/sleep-wake-manager): on "delete" the manager is
    about to be destroyed and deletes the listed endpoints first (sleepwake.manager.teardown); "create" and "update" are
    no-ops."""
    unknown = set(event) - {"tf", "endpoints"}
    if unknown:
        raise BadEvent(f"unknown field(s) in a Terraform lifecycle event: {clip(', '.join(sorted(map(str, unknown))))}")
    tf = event["tf"]
    if not isinstance(tf, Mapping) or tf.get("action") not in TERRAFORM_ACTIONS:
        raise BadEvent(f"tf.action must be one of {', '.join(TERRAFORM_ACTIONS)}")
    names = event.get("endpoints", [])
    if not isinstance(names, list):
        raise BadEvent("endpoints must be a list of endpoint names")
    for index, name in enumerate(names):
        endpoint_name(name, f"endpoints[{index}]")
    if tf["action"] != "delete":
        return Command("noop")
    return Command("teardown", endpoint_names=tuple(names))
