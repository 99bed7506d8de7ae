"""The wake-aware inference gateway: HTTP routes (`service`), requests queued while the endpoint sleeps and
their replay, leases, bearer tokens, and the services the gateway and the replay share."""
