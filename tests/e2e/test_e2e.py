"""The e2e scenarios as pytest cases (marker e2e): each environment passes, and the scenarios catch a module
that lost a needed IAM action or mistyped an environment variable (both patched into a temporary copy of
modules/). Each case runs the harness in its own process (its own emulator)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_check = subprocess.run([str(ROOT / "tools" / "terraform.sh"), "--check"], capture_output=True, text=True)
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(_check.returncode != 0, reason=f"e2e needs Terraform: {_check.stdout.strip()}"),
]


def run(env: str, modules: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tests.e2e.run", "--env", env, "--quiet"]
    if modules:
        command += ["--modules", str(modules)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)


def broken_modules(tmp_path: Path, path: str, old: str, new: str) -> Path:
    modules = tmp_path / "modules"
    shutil.copytree(ROOT / "modules", modules, ignore=shutil.ignore_patterns(".terraform"))
    file = modules / path
    text = file.read_text()
    assert old in text, f"{old!r} not in {path}: update this test"
    file.write_text(text.replace(old, new, 1))
    return modules


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_environment_passes_end_to_end(env):
    result = run(env)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "everything left in the emulator" in result.stdout


def test_a_missing_iam_action_fails_the_scenario_and_is_named(tmp_path):
    modules = broken_modules(
        tmp_path,
        "async-jobs/iam.tf",
        'actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]',
        'actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]',
    )
    result = run("staging", modules)
    assert result.returncode != 0
    assert re.search(r" async .* FAIL$", result.stdout, re.M), result.stdout[-4000:]
    assert "DENIED sleepwake-staging-async-trigger: dynamodb:PutItem" in result.stdout, result.stdout[-4000:]


def test_a_mistyped_environment_variable_fails_the_scenario(tmp_path):
    modules = broken_modules(
        tmp_path,
        "async-jobs/main.tf",
        "SLEEPWAKE_ASYNC_TABLE_NAME           =",
        "SLEEPWAKE_ASYNC_TABLE_NAM            =",
    )
    result = run("staging", modules)
    assert result.returncode != 0
    assert re.search(r" async .* FAIL$", result.stdout, re.M), result.stdout[-4000:]
    assert "SLEEPWAKE_ASYNC_TABLE_NAME" in result.stdout, result.stdout[-4000:]
