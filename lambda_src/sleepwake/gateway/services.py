"""What the gateway and the replay both work with: the services wired once for both, and the one way to call an
endpoint with the request marked in flight."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from typing import Any

from sleepwake.aws.endpoints import SageMakerEndpoints
from sleepwake.aws.runtime import EndpointRuntime, EndpointUnavailable, InvokeResult
from sleepwake.common.clock import Clock, SystemClock
from sleepwake.domain.settings import Settings, load_settings
from sleepwake.gateway.queue import RequestQueue, RequestStore, ResultStore
from sleepwake.gateway.settings import GatewaySettings, load_gateway_settings
from sleepwake.manager.activity import ActivityRecorder, EndpointGoingToSleep
from sleepwake.manager.service import Manager


def service_manager(settings: Settings, clock: Clock, endpoints: SageMakerEndpoints | None = None) -> Manager:
    """The manager service, in process: built exactly as the manager Lambda builds it (same settings, same
    adapters), with the SageMaker adapter swapped when one is given (the simulated lifecycle in tests)."""
    manager = Manager.from_settings(settings, clock)
    return dataclass_replace(manager, endpoints=endpoints) if endpoints is not None else manager


@dataclass(frozen=True)
class Services:
    """What the gateway and the replay both work with, wired once for both."""

    settings: GatewaySettings
    manager: Manager
    runtime: EndpointRuntime
    requests: RequestStore
    queue: RequestQueue
    results: ResultStore
    activity: ActivityRecorder
    clock: Clock

    @classmethod
    def build(
        cls,
        manager_settings: Settings,
        settings: GatewaySettings,
        *,
        clock: Clock | None = None,
        endpoints: SageMakerEndpoints | None = None,
        runtime: EndpointRuntime | None = None,
        manager: Manager | None = None,
    ) -> "Services":
        clock = clock or SystemClock()
        manager = manager or service_manager(manager_settings, clock, endpoints)
        endpoints = endpoints or manager.endpoints
        return cls(
            settings,
            manager,
            runtime or EndpointRuntime(endpoints, read_timeout_seconds=settings.invoke_timeout_seconds),
            RequestStore(manager_settings.table_name),
            RequestQueue(settings.queue_url, settings.bucket),
            ResultStore(settings.bucket),
            ActivityRecorder(manager_settings.table_name, clock=clock),
            clock,
        )

    @classmethod
    def settings_from_env(cls, env: Mapping[str, str] | None = None) -> tuple[Settings, GatewaySettings]:
        manager_settings = load_settings(env)
        return manager_settings, load_gateway_settings(env, declared(manager_settings))


class ServedBy:
    """The gateway and the replay alike: built from one `Services`, whose parts they use as attributes."""

    def __init__(self, services: Services) -> None:
        self.settings = services.settings
        self.manager = services.manager
        self.runtime = services.runtime
        self.requests = services.requests
        self.queue = services.queue
        self.results = services.results
        self.activity = services.activity
        self.clock = services.clock

    @classmethod
    def build(cls, manager_settings: Settings, settings: GatewaySettings, **wiring: Any):
        """Wired by `Services.build` (`wiring`: clock, endpoints, runtime or manager to use instead)."""
        return cls(Services.build(manager_settings, settings, **wiring))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any):
        return cls.build(*Services.settings_from_env(env), **kwargs)


def invoke_in_flight(
    activity: ActivityRecorder,
    runtime: EndpointRuntime,
    name: str,
    body: bytes,
    content_type: str,
    accept: str | None,
    max_seconds: float,
) -> InvokeResult:
    """InvokeEndpoint with the request marked in flight first (gateway and replay alike), so the endpoint is never
    deleted under it; an endpoint whose sleep is already committed counts as unavailable (the caller wakes it)."""
    try:
        activity.begin(name, max_seconds)
    except EndpointGoingToSleep as exc:
        raise EndpointUnavailable("InService", f"{exc}; it wakes again at once") from exc
    ran = True
    try:
        return runtime.invoke(name, body, content_type, accept)
    except EndpointUnavailable:
        ran = False  # nothing ran on it: no activity (the wake that follows records the demand)
        raise
    finally:
        if ran:
            activity.end(name)


def declared(settings: Settings) -> Mapping[str, object] | None:
    """The endpoints a gateway may front: any declared one; in fleet mode also tagged ones (checked per call)."""
    return None if settings.fleet_enabled else settings.endpoints
