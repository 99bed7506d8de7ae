"""Run the manager against a local AWS emulator (moto), for the demo and the tests.

moto makes every endpoint InService the moment it is created and removes it the moment it is deleted.
`SimulatedLifecycle` overlays SageMaker's real timings on it, driven by an injected clock: an endpoint reports
`Creating` for the wake delay, `Deleting` for a while after a delete, and can be made to fail; so the same
manager code walks through the states it meets in AWS.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from sleepwake.aws import clients as aws
from sleepwake.aws.endpoints import SageMakerEndpoints
from sleepwake.common.clock import Clock
from sleepwake.domain.lifecycle import Observed

LOCAL_ROLE_ARN = "arn:aws:iam::123456789012:role/sleepwake-local-sagemaker"
LOCAL_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-gpu-py310"


def create_state_table(table_name: str) -> None:
    """The table modules/sleep-wake-manager creates: hash key `pk`, on demand, TTL on `expires_at`."""
    db = aws.client("dynamodb")
    db.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    db.get_waiter("table_exists").wait(TableName=table_name)
    db.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )


def create_model_and_config(
    model_name: str,
    config_name: str,
    *,
    instance_type: str = "ml.g4dn.xlarge",
    instance_count: int = 1,
    variant_name: str = "primary",
) -> None:
    """What modules/sagemaker-model and modules/realtime-endpoint create (the model data is not read locally)."""
    sm = aws.client("sagemaker")
    sm.create_model(
        ModelName=model_name,
        PrimaryContainer={"Image": LOCAL_IMAGE, "ModelDataUrl": "s3://sleepwake-local-models/model.tar.gz"},
        ExecutionRoleArn=LOCAL_ROLE_ARN,
    )
    sm.create_endpoint_config(
        EndpointConfigName=config_name,
        ProductionVariants=[
            {
                "VariantName": variant_name,
                "ModelName": model_name,
                "InstanceType": instance_type,
                "InitialInstanceCount": instance_count,
            }
        ],
    )


@dataclass
class _Timeline:
    created_at: float | None = None
    deleted_at: float | None = None
    fail_reason: str | None = None


@dataclass
class SimulatedLifecycle(SageMakerEndpoints):
    """SageMaker timings on top of the emulator: Creating for `wake_seconds`, Deleting for `delete_seconds`."""

    clock: Clock = None  # type: ignore[assignment]
    wake_seconds: float = 480.0
    delete_seconds: float = 60.0
    timelines: dict[str, _Timeline] = field(default_factory=dict)
    creates: int = 0
    deletes: int = 0
    forced: dict[str, str] = field(default_factory=dict)
    _fail_next: dict[str, list[str]] = field(default_factory=dict)
    refused: dict[str, tuple[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next_create(self, name: str, reason: str, times: int = 1) -> None:
        """The next `times` endpoints created under this name end in `Failed` with `reason` after the wake delay."""
        self._fail_next.setdefault(name, []).extend([reason] * times)

    def refuse_config(self, config_name: str, code: str | None, message: str = "") -> None:
        """CreateEndpoint from `config_name` raises a ClientError `code` (None: accepted again), as SageMaker does
        for an account limit (ResourceLimitExceeded) or a type without capacity."""
        if code is None:
            self.refused.pop(config_name, None)
        else:
            self.refused[config_name] = (code, message)

    def force_status(self, name: str, status: str | None) -> None:
        """Report `status` for an existing endpoint regardless of timings (None: back to the timeline)."""
        if status is None:
            self.forced.pop(name, None)
        else:
            self.forced[name] = status

    def describe(self, name: str) -> Observed | None:
        return self._overlay(name, super().describe(name))

    def list_all(self) -> dict[str, Observed]:
        real = super().list_all()
        names = set(real) | {n for n, t in self.timelines.items() if t.deleted_at is not None}
        overlaid = {name: self._overlay(name, real.get(name)) for name in names}
        return {name: observed for name, observed in overlaid.items() if observed is not None}

    def _overlay(self, name: str, real: Observed | None) -> Observed | None:
        timeline = self.timelines.get(name)
        now = self.clock.now()
        if real is None:
            if timeline and timeline.deleted_at is not None and now < timeline.deleted_at + self.delete_seconds:
                return Observed("Deleting", created_at=timeline.created_at, last_modified_at=timeline.deleted_at)
            return None
        if name in self.forced:
            return Observed(
                self.forced[name], real.endpoint_config_name, created_at=real.created_at, last_modified_at=now
            )
        if timeline is None or timeline.created_at is None:
            return real
        ready_at = timeline.created_at + self.wake_seconds
        if now < ready_at:
            return Observed(
                "Creating",
                real.endpoint_config_name,
                created_at=timeline.created_at,
                last_modified_at=timeline.created_at,
            )
        if timeline.fail_reason:
            return Observed(
                "Failed",
                real.endpoint_config_name,
                failure_reason=timeline.fail_reason,
                created_at=timeline.created_at,
                last_modified_at=ready_at,
            )
        return Observed(
            "InService", real.endpoint_config_name, created_at=timeline.created_at, last_modified_at=ready_at
        )

    def create(self, name: str, config_name: str, tags: Mapping[str, str], *, mark_managed: bool = True) -> bool:
        if config_name in self.refused:
            from botocore.exceptions import ClientError

            code, message = self.refused[config_name]
            raise ClientError({"Error": {"Code": code, "Message": message}}, "CreateEndpoint")
        # The timeline goes in before the emulator creates the endpoint (InService at once there): a concurrent
        # describe must never see the emulator's InService without the Creating overlay.
        with self._lock:
            previous = self.timelines.get(name)
            timeline = _Timeline(created_at=self.clock.now())
            self.timelines[name] = timeline
        try:
            created = super().create(name, config_name, tags, mark_managed=mark_managed)
        except Exception:
            self._restore(name, timeline, previous)
            raise
        if not created:
            self._restore(name, timeline, previous)
            return False
        with self._lock:
            self.creates += 1
            pending = self._fail_next.get(name)
            timeline.fail_reason = pending.pop(0) if pending else None
        return True

    def _restore(self, name: str, timeline: _Timeline, previous: _Timeline | None) -> None:
        with self._lock:
            if self.timelines.get(name) is timeline:
                if previous is None:
                    self.timelines.pop(name, None)
                else:
                    self.timelines[name] = previous

    def delete(self, name: str) -> bool:
        deleted = super().delete(name)
        if deleted:
            with self._lock:
                self.deletes += 1
            self.forced.pop(name, None)
            timeline = self.timelines.setdefault(name, _Timeline())
            timeline.deleted_at = self.clock.now()
        return deleted
