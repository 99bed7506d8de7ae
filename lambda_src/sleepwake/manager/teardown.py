"""Delete the endpoints a manager created when Terraform destroys the manager.

Terraform never owns a managed real-time endpoint (the manager creates and deletes it), so destroying the manager
-- `terraform destroy`, or an environment switching from real-time to another inference mode -- would leave an
awake endpoint running with nobody to put it to sleep. modules/sleep-wake-manager therefore declares an
`aws_lambda_invocation` with `lifecycle_scope = "CRUD"`: Terraform invokes the manager with
`{"endpoints": [...], "tf": {"action": "create" | "update" | "delete", "prev_input": ...}}`, and on "delete",
before the function itself is destroyed, the manager deletes every listed endpoint that still exists.

An endpoint SageMaker refuses to delete right now (for example while it is Creating) makes the invocation fail
with a message saying so: Terraform then stops before destroying the manager, nothing is orphaned, and applying
again a few minutes later completes the switch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sleepwake.aws import clients as aws
from sleepwake.aws.endpoints import SageMakerEndpoints
from sleepwake.common.observability import get_logger, log_event

log = get_logger("teardown")


class TeardownBlocked(RuntimeError):
    """An endpoint could not be deleted; raised so that the Terraform destroy stops before the manager goes."""


def delete_endpoints(
    endpoints: SageMakerEndpoints, names: Iterable[str], kept: Iterable[dict[str, Any]] = ()
) -> dict[str, Any]:
    """Delete `names` (endpoints the manager manages and may delete); `kept` are reported as they are."""
    results, blocked = list(kept), []
    for name in sorted(set(names)):
        observed = endpoints.describe(name)
        if observed is None:
            results.append({"endpoint_name": name, "result": "absent"})
            continue
        if observed.status == "Deleting":
            results.append({"endpoint_name": name, "result": "deleting", "sagemaker_status": "Deleting"})
            continue
        try:
            deleted = endpoints.delete(name)
        except Exception as exc:
            blocked.append(f"{name} ({observed.status}): {aws.error_message(exc)}")
            continue
        results.append(
            {"endpoint_name": name, "result": "deleting" if deleted else "absent", "sagemaker_status": observed.status}
        )
        log_event(
            log,
            "deleted a managed endpoint before its manager is destroyed",
            logging.WARNING,
            endpoint_name=name,
            sagemaker_status=observed.status,
        )
    if blocked:
        raise TeardownBlocked(
            "the manager is being destroyed but SageMaker would not delete "
            + "; ".join(blocked)
            + ". Nothing was left running unmanaged: apply again once the endpoint has settled."
        )
    return {"ok": True, "action": "teardown", "endpoints": sorted(results, key=lambda r: r["endpoint_name"])}
