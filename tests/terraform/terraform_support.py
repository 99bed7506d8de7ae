"""Running the project's Terraform (tools/terraform.sh) from pytest, or skipping when it cannot be had."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "tools" / "terraform.sh"


@functools.lru_cache(maxsize=1)
def missing() -> str | None:
    """None when Terraform and the aws provider can be had, else the line saying what is missing."""
    result = subprocess.run([str(TERRAFORM), "--check"], capture_output=True, text=True, timeout=120)
    return None if result.returncode == 0 else (result.stdout.strip() or result.stderr.strip())


def require_terraform() -> None:
    reason = missing()
    if reason:
        pytest.skip(reason)


def terraform(*args: str, cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(TERRAFORM), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
