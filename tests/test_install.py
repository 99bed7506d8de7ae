"""An app gets the client with one `pip install` of this repository, without the simulator or the tools."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_pip_install_of_the_repository_gives_an_app_the_client_and_nothing_offline(tmp_path):
    source = tmp_path / "repo"  # a copy: building in place would leave build metadata in the working tree
    for part in ("pyproject.toml", "README.md", "lambda_src/sleepwake", "client/sleepwake_client"):
        target = source / part
        if (ROOT / part).is_dir():
            shutil.copytree(ROOT / part, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / part, target)
    env_dir = tmp_path / "app-venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    check = (
        "import importlib.util, sleepwake_client\n"
        "from sleepwake_client import SleepwakeClient, GatewayUnreachableError\n"
        "c = SleepwakeClient.from_outputs({'INFERENCE_MODE': 'serverless', 'ENDPOINT_NAME': 'm'})\n"
        "assert (c.mode, c.endpoint_name) == ('serverless', 'm')\n"
        "assert importlib.util.find_spec('sleepwake_sim') is None, 'the simulator came along'\n"
        "assert importlib.util.find_spec('build_lambda') is None, 'the tools came along'\n"
        "print(sleepwake_client.__file__)\n"
    )
    ran = subprocess.run([str(python), "-c", check], capture_output=True, text=True, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert str(env_dir) in ran.stdout  # imported from the installed distribution, not from the working tree
    assert not (env_dir / "bin" / "sleepwake-simulate").exists()
    assert sys.version_info >= (3, 11)
