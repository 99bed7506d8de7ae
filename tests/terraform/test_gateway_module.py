"""modules/inference-gateway's IAM read as text: a reason next to every wildcard resource.

What the gateway's Terraform promises the Python package (routes, handlers, environment variables and their
defaults) is checked from the plan in test_lambda_environment_contract.py; the authorizer's shape, the
throttling and the replay switch by the module's own `terraform test` (modules/inference-gateway/tests).
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "modules" / "inference-gateway"


def test_every_wildcard_resource_has_its_reason_just_above():
    lines = (MODULE / "iam.tf").read_text().splitlines()
    for number, line in enumerate(lines):
        if re.search(r'resources\s+=\s+\[.*("\*"|/\*")', line):
            above = "\n".join(lines[max(0, number - 4) : number])
            assert "#" in above, f"iam.tf:{number + 1}: a wildcard without a reason: {line.strip()}"
