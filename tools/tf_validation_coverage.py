#!/usr/bin/env python3
"""List the `validation` blocks of the modules and roots that no `terraform test` run expects to fail.

Terraform reports an expected failure per variable (`expect_failures = [var.x]`), not per validation block, so
the check is by count: a variable with N validation blocks needs at least N runs in the directory's
tests/*.tftest.hcl that expect it to fail, each written to break one block (the run names say which). Prints
one line per variable that falls short and exits 1; prints a summary and exits 0 when every block is covered.

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


def expected_failures(directory: Path) -> tuple[Counter, int]:
    """Variable name -> number of runs expecting it to fail, and the number of runs, over tests/*.tftest.hcl."""
    expected: Counter = Counter()
    runs = 0
    for path in sorted((directory / "tests").glob("*.tftest.hcl")):
        with path.open(encoding="utf-8") as handle:
            document = hcl2.load(handle)
        for block in document.get("run", []):
            for body in block.values():
                runs += 1
                for reference in set(body.get("expect_failures", [])):
                    match = EXPECTED_VARIABLE.match(reference)
                    if match:
                        expected[match.group(1)] += 1
    return expected, runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="*", type=Path)
    parser.add_argument("--list", action="store_true", help="print every variable with its counts")
    args = parser.parse_args(argv)
    directories = args.directories or sorted(
        [*REPO.glob("modules/*"), *REPO.glob("environments/*")])

    uncovered = 0
    blocks_total = 0
    runs_total = 0
    for directory in directories:
        blocks = validation_blocks(directory)
        expected, runs = expected_failures(directory)
        runs_total += runs
        name = directory.resolve().relative_to(REPO) if directory.resolve().is_relative_to(REPO) else directory
        for variable, count in sorted(blocks.items()):
            blocks_total += count
            if args.list and count:
                print(f"{name}: var.{variable}: {count} validation block(s), {expected[variable]} run(s) expect failure")
            if expected[variable] < count:
                uncovered += count - expected[variable]
                print(f"{name}: var.{variable} has {count} validation block(s) but {expected[variable]} run(s) "
                      f"expecting it to fail")
    if uncovered:
        print(f"{uncovered} of {blocks_total} validation blocks have no run that expects them to fail")
        return 1
    print(f"every one of the {blocks_total} validation blocks has a run that expects it to fail "
          f"({runs_total} runs in {len(directories)} directories)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
