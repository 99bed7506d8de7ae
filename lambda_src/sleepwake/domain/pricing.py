"""On-demand hourly prices of SageMaker real-time inference instances (us-east-1, USD).

Used for the status answer, notifications and the simulator. Prices change and differ by region; override
with SLEEPWAKE_HOURLY_PRICE_OVERRIDES (JSON {"ml.x": price}) where it matters.
"""

from __future__ import annotations

import json
import math
import os

from sleepwake.common.config import INSTANCE_TYPE_RE

HOURLY_PRICE_USD: dict[str, float] = {
    # GPU (the point of this project)
    "ml.g4dn.xlarge": 0.7364,
    "ml.g4dn.2xlarge": 1.0528,
    "ml.g4dn.4xlarge": 1.6856,
    "ml.g4dn.8xlarge": 3.0464,
    "ml.g4dn.12xlarge": 5.4768,
    "ml.g4dn.16xlarge": 6.0928,
    "ml.g5.xlarge": 1.408,
    "ml.g5.2xlarge": 1.515,
    "ml.g5.4xlarge": 2.03,
    "ml.g5.8xlarge": 3.06,
    "ml.g5.12xlarge": 7.09,
    "ml.g5.16xlarge": 5.12,
    "ml.g5.24xlarge": 10.18,
    "ml.g5.48xlarge": 20.36,
    "ml.g6.xlarge": 1.0064,
    "ml.g6.2xlarge": 1.2208,
    "ml.g6.4xlarge": 1.6496,
    "ml.g6.12xlarge": 5.752,
    "ml.g6e.xlarge": 2.2035,
    "ml.g6e.2xlarge": 2.6768,
    "ml.p3.2xlarge": 3.825,
    "ml.p3.8xlarge": 14.688,
    "ml.p4d.24xlarge": 37.688,
    "ml.p5.48xlarge": 113.07,
    "ml.inf2.xlarge": 0.99,
    # CPU, for small models and tests
    "ml.t2.medium": 0.056,
    "ml.m5.large": 0.115,
    "ml.m5.xlarge": 0.23,
    "ml.c5.large": 0.102,
    "ml.c5.xlarge": 0.204,
}


class UnknownInstanceType(ValueError):
    pass


OVERRIDES_VARIABLE = "SLEEPWAKE_HOURLY_PRICE_OVERRIDES"


def parse_overrides(raw: str) -> dict[str, float]:
    """`{"ml.g5.xlarge": 1.01, ...}`: USD per instance-hour, replacing the table's price (savings plans, other
    regions). A bad value raises ValueError naming the entry."""
    raw = raw.strip()
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{OVERRIDES_VARIABLE} is not JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise ValueError(f'{OVERRIDES_VARIABLE} must be a JSON object {{"ml.type": price >= 0}}')
    prices: dict[str, float] = {}
    for key, value in parsed.items():
        if not INSTANCE_TYPE_RE.match(key):
            raise ValueError(f"{OVERRIDES_VARIABLE}: {key[:80]!r} is not an instance type such as ml.g5.xlarge")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{OVERRIDES_VARIABLE}[{key!r}] must be a price in USD per hour >= 0, got {value!r}")
        prices[key] = float(value)
    return prices


def _overrides() -> dict[str, float]:
    return parse_overrides(os.environ.get(OVERRIDES_VARIABLE, ""))


def hourly_price(instance_type: str, count: int = 1) -> float:
    """Hourly price of `count` instances of `instance_type`."""
    price = _overrides().get(instance_type, HOURLY_PRICE_USD.get(instance_type))
    if price is None:
        raise UnknownInstanceType(
            f"no price known for instance type {instance_type!r}; known: {', '.join(sorted(HOURLY_PRICE_USD))}"
            " (add one with SLEEPWAKE_HOURLY_PRICE_OVERRIDES)"
        )
    return price * count


def known_price(instance_type: str, count: int = 1) -> float | None:
    try:
        return hourly_price(instance_type, count)
    except UnknownInstanceType:
        return None
