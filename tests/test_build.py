"""The Lambda zip is deterministic and every handler imports from it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_lambda  # noqa: E402

HANDLERS = [
    "sleepwake.handlers.manager.handler",
    "sleepwake.handlers.async_trigger.handler",
    "sleepwake.handlers.async_notify.handler",
    "sleepwake.handlers.gateway.handler",
    "sleepwake.handlers.replay.handler",
    "sleepwake.handlers.replay_control.handler",
    "sleepwake.handlers.authorizer.handler",
]


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    first = tmp_path_factory.mktemp("a") / "sleepwake.zip"
    second = tmp_path_factory.mktemp("b") / "sleepwake.zip"
    cache = ROOT / "build" / ".pip-cache"
    return build_lambda.build(first, cache), build_lambda.build(second, cache), first, second


def test_two_builds_are_byte_identical(two_builds):
    digest_a, digest_b, first, second = two_builds
    assert first.read_bytes() == second.read_bytes()
    assert digest_a == digest_b == (first.parent / "sleepwake.zip.base64sha256").read_text().strip()


def test_entries_are_sorted_with_fixed_time_and_no_bytecode(two_builds):
    names = zipfile.ZipFile(two_builds[2]).namelist()
    assert names == sorted(names)
    infos = zipfile.ZipFile(two_builds[2]).infolist()
    assert {i.date_time for i in infos} == {build_lambda.FIXED_TIME}
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    assert "sleepwake/handlers/manager.py" in names
    assert any(n.startswith("aws_xray_sdk/") for n in names)
    assert not any(n.startswith(("boto3/", "botocore/")) for n in names)  # the runtime provides them


def test_every_handler_imports_from_the_zip_alone(two_builds, tmp_path):
    zipfile.ZipFile(two_builds[2]).extractall(tmp_path)
    code = "; ".join(
        [
            f"import importlib; m = importlib.import_module({h.rsplit('.', 1)[0]!r}); "
            f"assert callable(m.{h.rsplit('.', 1)[1]})"
            for h in HANDLERS
        ]
        + ["import aws_xray_sdk.core"]
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r}); {code}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
