"""Module READMEs quote examples/: each block under a `<!-- quoted from examples/... -->` marker is in that file.

The examples are validated and planned by `make test`, so a usage snippet that drifts from them fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QUOTE = re.compile(r"<!-- quoted from (examples/[a-z-]+/[a-z_]+\.tf) -->\n```hcl\n(.*?)```\n", re.S)
TOP_LEVEL_BLOCK = re.compile(r"^[a-z_]+(?: \"[^\"]+\")* \{\n.*?^\}\n", re.S | re.M)

READMES = sorted(REPO.glob("modules/*/README.md"))


@pytest.mark.parametrize("readme", READMES, ids=lambda path: path.parent.name)
def test_the_usage_quotes_an_example_verbatim(readme: Path):
    quotes = QUOTE.findall(readme.read_text())
    assert quotes, f"{readme.relative_to(REPO)} quotes no example"
    for source, snippet in quotes:
        example = (REPO / source).read_text()
        blocks = TOP_LEVEL_BLOCK.findall(snippet)
        assert blocks and not TOP_LEVEL_BLOCK.sub("", snippet).strip(), f"{readme}: only whole blocks are quoted"
        for block in blocks:
            assert block in example, f"{readme.relative_to(REPO)}: this block is not in {source}:\n{block}"
