#!/usr/bin/env python3
"""Build the one deterministic Lambda zip: `lambda_src/` plus its runtime dependencies.

    python tools/build_lambda.py [--out build/sleepwake.zip]

Every function uses this zip and differs only by handler. The same sources and requirements give the same bytes:
entries are sorted, timestamps fixed at 1980-01-01, permissions fixed, no __pycache__. Dependencies are the
wheels for the Lambda runtime (python3.12, arm64), whatever machine builds it; boto3/botocore come from the
runtime. Writes the zip and `<zip>.base64sha256` (the value Terraform's filebase64sha256 gives).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "lambda_src"
PACKAGE = "sleepwake"
REQUIREMENTS = SOURCE / "requirements.txt"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
LAMBDA_PYTHON = "3.12"
LAMBDA_PLATFORM = "manylinux2014_aarch64"
EXCLUDED_PARTS = {"__pycache__", ".pytest_cache"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


def install_dependencies(target: Path, wheel_cache: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-compile",
        "--no-deps",
        "--target",
        str(target),
        "--platform",
        LAMBDA_PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        LAMBDA_PYTHON,
        "--only-binary=:all:",
        "--cache-dir",
        str(wheel_cache),
        "-r",
        str(REQUIREMENTS),
    ]
    subprocess.run(command, check=True)


def included(path: Path, base: Path) -> bool:
    relative = path.relative_to(base)
    return path.is_file() and not (set(relative.parts) & EXCLUDED_PARTS) and path.suffix not in EXCLUDED_SUFFIXES


def write_zip(sources: list[tuple[Path, Path]], out: Path) -> None:
    """`sources`: (base directory, file) pairs; the archive name is the file relative to its base."""
    entries = sorted(((file.relative_to(base).as_posix(), file) for base, file in sources), key=lambda e: e[0])
    names = [name for name, _ in entries]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise SystemExit(f"build: the same path comes from two places: {sorted(duplicates)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, file in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the permission bits below are honoured
            info.external_attr = (0o100644 & 0xFFFF) << 16
            archive.writestr(info, file.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


def base64sha256(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def build(out: Path, wheel_cache: Path | None = None) -> str:
    wheel_cache = wheel_cache or ROOT / "build" / ".pip-cache"
    with tempfile.TemporaryDirectory(prefix="sleepwake-build-") as tmp:
        deps = Path(tmp) / "deps"
        install_dependencies(deps, wheel_cache)
        for junk in deps.glob("bin"):
            shutil.rmtree(junk)
        # The package alone: nothing else under lambda_src (requirements, build metadata) goes in.
        sources = [(SOURCE, p) for p in (SOURCE / PACKAGE).rglob("*") if included(p, SOURCE)]
        sources += [(deps, p) for p in deps.rglob("*") if included(p, deps)]
        write_zip(sources, out)
    digest = base64sha256(out)
    out.with_name(out.name + ".base64sha256").write_text(digest + "\n")
    return digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "sleepwake.zip")
    args = parser.parse_args(argv)
    digest = build(args.out)
    size = args.out.stat().st_size
    print(
        f"built {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out} "
        f"({size / 1024:.0f} KiB, base64sha256 {digest})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
