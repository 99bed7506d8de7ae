"""The app client of sagemaker-sleepwake: call a sleep/wake endpoint (through the gateway, directly, serverless or
async) and cope with its naps. `pip install sagemaker-sleepwake` (this repository) gives an app this package and
the runtime library it uses, without the simulator or the tools."""

from sleepwake_client.client import (
    EndpointFailedError,
    EndpointWakingError,
    GatewayError,
    GatewayUnreachableError,
    InvokeResponse,
    JobFailedError,
    JobPendingError,
    PayloadTooLargeError,
    SleepwakeClient,
    SleepwakeError,
)

__all__ = [
    "EndpointFailedError",
    "EndpointWakingError",
    "GatewayError",
    "GatewayUnreachableError",
    "InvokeResponse",
    "JobFailedError",
    "JobPendingError",
    "PayloadTooLargeError",
    "SleepwakeClient",
    "SleepwakeError",
]
