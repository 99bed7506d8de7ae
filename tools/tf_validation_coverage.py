#!/usr/bin/env python3
"""List the `validation` blocks of the modules and roots that no `terraform test` run expects to fail.

Terraform reports an expected failure per variable (`expect_failures = [var.x]`), not per validation block, so
the check is by count: a variable with N validation blocks needs at least N runs in the directory's
tests/*.tftest.hcl that expect it to fail, each written to break one block (the run names say which). Prints
one line per variable that falls short and exits 1; prints a summary and exits 0 when every block is covered.
Directories whose .tf files are the same files (environments/staging and prod link dev's) are one
configuration: their blocks count once, and the runs of all of them count.

    tools/tf_validation_coverage.py [DIR...]      (default: modules/* and environments/*)
    tools/tf_validation_coverage.py --list        every variable with its block and run counts
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

import hcl2

REPO = Path(__file__).resolve().parents[1]
EXPECTED_VARIABLE = re.compile(r"^\$\{var\.([A-Za-z0-9_-]+)\}$")


def _unquote(label: str) -> str:
    return label.strip('"')


def validation_blocks(directory: Path) -> dict[str, int]:
    """Variable name -> number of validation blocks, over every .tf file of the directory."""
    counts: dict[str, int] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            document = hcl2.load(handle)
        for block in document.get("variable", []):
            for label, body in block.items():
                counts[_unquote(label)] = counts.get(_unquote(label), 0) + len(body.get("validation", []))
    return counts


def expected_failures_in(test_file: Path) -> tuple[Counter, int]:
    """Variable name -> number of runs in the file expecting it to fail, and the number of runs."""
    expected: Counter = Counter()
    runs = 0
    with test_file.open(encoding="utf-8") as handle:
        document = hcl2.load(handle)
    for block in document.get("run", []):
        for body in block.values():
            runs += 1
            for reference in set(body.get("expect_failures", [])):
                match = EXPECTED_VARIABLE.match(reference)
                if match:
                    expected[match.group(1)] += 1
    return expected, runs


def _configuration_key(directory: Path) -> tuple[str, ...]:
    return tuple(sorted(str(path.resolve()) for path in directory.glob("*.tf")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="*", type=Path)
    parser.add_argument("--list", action="store_true", help="print every variable with its counts")
    args = parser.parse_args(argv)
    directories = args.directories or sorted([*REPO.glob("modules/*"), *REPO.glob("environments/*")])

    configurations: dict[tuple[str, ...], list[Path]] = {}
    for directory in directories:
        configurations.setdefault(_configuration_key(directory), []).append(directory)

    uncovered = 0
    blocks_total = 0
    runs_total = 0
    for sharing in configurations.values():
        blocks = validation_blocks(sharing[0])
        expected: Counter = Counter()
        seen_files: set[Path] = set()
        for directory in sharing:
            for test_file in (directory / "tests").glob("*.tftest.hcl"):
                seen_files.add(test_file.resolve())
        for test_file in sorted(seen_files):
            file_expected, runs = expected_failures_in(test_file)
            expected += file_expected
            runs_total += runs
        names = ", ".join(_display(directory) for directory in sharing)
        for variable, count in sorted(blocks.items()):
            blocks_total += count
            if args.list and count:
                print(
                    f"{names}: var.{variable}: {count} validation block(s), {expected[variable]} run(s) expect failure"
                )
            if expected[variable] < count:
                uncovered += count - expected[variable]
                print(
                    f"{names}: var.{variable} has {count} validation block(s) but {expected[variable]} run(s) "
                    f"expecting it to fail"
                )
    if uncovered:
        print(f"{uncovered} of {blocks_total} validation blocks have no run that expects them to fail")
        return 1
    print(
        f"every one of the {blocks_total} validation blocks has a run that expects it to fail "
        f"({runs_total} runs in {len(configurations)} configurations)"
    )
    return 0


def _display(directory: Path) -> str:
    resolved = directory.resolve()
    return str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else str(directory)


if __name__ == "__main__":
    sys.exit(main())
