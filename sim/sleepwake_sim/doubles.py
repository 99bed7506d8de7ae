"""Test and demo doubles: a clock that moves only when told, and a runtime that answers as SageMaker does for an
endpoint that is absent or still Creating (the emulator answers InvokeEndpoint whatever the state)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from sleepwake.aws.endpoints import SageMakerEndpoints
from sleepwake.aws.runtime import EndpointRuntime
from sleepwake.domain.lifecycle import SERVING_STATUSES


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back: advance({seconds})")
        self._now += seconds
        return self._now

    def set(self, when: float) -> None:
        if when < self._now:
            raise ValueError(f"a clock cannot go back: set({when}) < {self._now}")
        self._now = float(when)


@dataclass
class SimulatedRuntime(EndpointRuntime):
    """For the demo and tests: the emulator answers InvokeEndpoint whatever the endpoint's state, so this asks the
    simulated lifecycle first and answers as SageMaker does for an endpoint that is absent or still Creating.
    `fail_next` makes the next calls fail like a crashing container."""

    endpoints: SageMakerEndpoints = None  # type: ignore[assignment]
    read_timeout_seconds: int = 25
    account: str = "123456789012"
    calls: list[str] = field(default_factory=list)
    _failures: list[ClientError] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, times: int = 1, *, status: int = 500, message: str = "CUDA error: out of memory") -> None:
        error = ClientError(
            {
                "Error": {
                    "Code": "ModelError",
                    "Message": f'Received server error ({status}) from primary with message "{message}".',
                },
                "OriginalStatusCode": status,
                "OriginalMessage": message,
            },
            "InvokeEndpoint",
        )
        self._failures.extend([error] * times)

    def _call(self, **kwargs):
        name = kwargs["EndpointName"]
        with self._lock:
            self.calls.append(name)
            failure = self._failures.pop(0) if self._failures else None
        observed = self.endpoints.describe(name)
        if observed is None or observed.status not in SERVING_STATUSES:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ValidationError",
                        "Message": f"Endpoint {name} of account {self.account} not found.",
                    }
                },
                "InvokeEndpoint",
            )
        if failure is not None:
            raise failure
        return super()._call(**kwargs)
