#!/usr/bin/env python3
"""Write (or check) each module README's inputs/outputs block in the format terraform-docs writes.

    python tools/tfdocs.py            # rewrite the block between <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS -->
    python tools/tfdocs.py --check    # exit 1 naming each README that is out of date

terraform-docs cannot be installed here, so this renders its default `markdown table` layout from the .tf files
(types and defaults as written in the source). Users with terraform-docs can regenerate with it instead.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"
REGISTRY = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs"


def _escape(name: str) -> str:
    return name.replace("_", "\\_")


def _block_body(text: str, kind: str, name: str) -> str:
    match = re.search(r'^%s "%s" \{\n' % (kind, re.escape(name)), text, re.M)
    if not match:
        raise ValueError(f"cannot find {kind} {name!r}")
    start = index = match.end()
    depth = 1
    while depth:
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        index += 1
    return text[start : index - 1]


def _raw_attribute(body: str, attribute: str) -> str | None:
    """The source text of a top-level (two-space indented) attribute, possibly spanning lines."""
    match = re.search(r"^  %s\s*=\s*" % attribute, body, re.M)
    if not match:
        return None
    out, depth = [], 0
    for char in body[match.end() :]:
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif char == "\n" and depth == 0:
            break
        out.append(char)
    return "".join(out).strip()


def _code(raw: str) -> str:
    if "\n" in raw:
        return "<pre>" + "<br>".join(line.replace("|", "\\|") for line in raw.split("\n")) + "</pre>"
    return "`" + raw.replace("|", "\\|") + "`"


def _text(description: str | None) -> str:
    return (description or "").replace("|", "\\|").replace("\n", "<br>")


def _names(blocks: list) -> list[tuple[str, dict]]:
    # python-hcl2 adds "__is_block__" and, for comments inside an object, "__inline_comments__" keys.
    return [(name.strip('"'), body) for block in blocks for name, body in block.items() if not name.startswith("__")]


def render(module_dir: Path) -> str:
    variables, outputs, resources, modules, requirements = [], [], [], [], {}
    for path in sorted(module_dir.glob("*.tf")):
        text = path.read_text()
        parsed = hcl2.loads(text)
        for name, _ in _names(parsed.get("variable", [])):
            body = _block_body(text, "variable", name)
            description = _raw_attribute(body, "description")
            variables.append(
                (
                    name,
                    json.loads(description) if description else "",
                    _raw_attribute(body, "type"),
                    _raw_attribute(body, "default"),
                )
            )
        for name, _ in _names(parsed.get("output", [])):
            description = _raw_attribute(_block_body(text, "output", name), "description")
            outputs.append((name, json.loads(description) if description else ""))
        for kind, label in (("resource", "resource"), ("data", "data source")):
            for rtype, instances in _names(parsed.get(kind, [])):
                resources += [(rtype, n, label) for n, _ in _names([instances])]
        modules += [(name, body["source"].strip('"')) for name, body in _names(parsed.get("module", []))]
        for block in parsed.get("terraform", []):
            if "required_version" in block:
                requirements["terraform"] = block["required_version"].strip('"')
            for provider, spec in _names(block.get("required_providers", [])):
                requirements[provider] = spec["version"].strip('"')
    lines = [BEGIN, "## Requirements", "", "| Name | Version |", "|------|---------|"]
    for name in ["terraform"] + sorted(k for k in requirements if k != "terraform"):
        if name in requirements:
            lines.append(
                f'| <a name="requirement_{name}"></a> [{_escape(name)}](#requirement\\_{_escape(name)}) '
                f"| {requirements[name]} |"
            )
    lines += ["", "## Providers", ""]
    if resources:
        lines += [
            "| Name | Version |",
            "|------|---------|",
            f'| <a name="provider_aws"></a> [aws](#provider\\_aws) | {requirements.get("aws", "n/a")} |',
        ]
    else:
        lines.append("No providers.")
    lines += ["", "## Modules", ""]
    if modules:
        lines += ["| Name | Source | Version |", "|------|--------|---------|"]
        lines += [
            f'| <a name="module_{n}"></a> [{_escape(n)}](#module\\_{_escape(n)}) | {s} | n/a |'
            for n, s in sorted(modules)
        ]
    else:
        lines.append("No modules.")
    lines += ["", "## Resources", ""]
    if resources:
        lines += ["| Name | Type |", "|------|------|"]
        for rtype, name, label in sorted(resources, key=lambda r: (r[2] != "resource", r[0], r[1])):
            section = "resources" if label == "resource" else "data-sources"
            lines.append(f"| [{rtype}.{name}]({REGISTRY}/{section}/{rtype[4:]}) | {label} |")
    else:
        lines.append("No resources.")
    lines += ["", "## Inputs", ""]
    if variables:
        lines += [
            "| Name | Description | Type | Default | Required |",
            "|------|-------------|------|---------|:--------:|",
        ]
        for name, description, vtype, default in sorted(variables):
            lines.append(
                f'| <a name="input_{name}"></a> [{_escape(name)}](#input\\_{_escape(name)}) | '
                f"{_text(description)} | {_code(vtype) if vtype else 'n/a'} | "
                f"{_code(default) if default is not None else 'n/a'} | {'yes' if default is None else 'no'} |"
            )
    else:
        lines.append("No inputs.")
    lines += ["", "## Outputs", ""]
    if outputs:
        lines += ["| Name | Description |", "|------|-------------|"]
        lines += [
            f'| <a name="output_{n}"></a> [{_escape(n)}](#output\\_{_escape(n)}) | {_text(d)} |'
            for n, d in sorted(outputs)
        ]
    else:
        lines.append("No outputs.")
    lines.append(END)
    return "\n".join(lines) + "\n"


def documented_dirs() -> list[Path]:
    return sorted(
        p
        for p in [*ROOT.glob("modules/*"), *ROOT.glob("environments/*")]
        if p.is_dir() and (p / "README.md").exists() and BEGIN in (p / "README.md").read_text()
    )


def updated_readme(module_dir: Path) -> tuple[str, str]:
    readme = (module_dir / "README.md").read_text()
    new = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", lambda _m: render(module_dir), readme, flags=re.S)
    return readme, new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report READMEs that are out of date")
    args = parser.parse_args(argv)
    stale = []
    for module_dir in documented_dirs():
        old, new = updated_readme(module_dir)
        if old != new:
            stale.append(module_dir.relative_to(ROOT))
            if not args.check:
                (module_dir / "README.md").write_text(new)
    if args.check and stale:
        print("tfdocs: out of date (run `make docs`): " + ", ".join(map(str, stale)))
        return 1
    print(
        f"tfdocs: {'checked' if args.check else 'wrote'} {len(documented_dirs())} README(s)"
        + (f", updated {len(stale)}" if stale and not args.check else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
