#!/usr/bin/env python3
"""Offline Terraform checks: what `terraform validate` would catch, without provider downloads.

The Terraform registry is unreachable here, so `terraform init`/`validate` cannot run. This module checks
the *.tf files against tests/terraform/aws_provider_schema.json (derived from the provider schema by
tools/derive_tf_schema.py) and against each other:

  a. every resource / data source type exists in the schema;
  b. every argument and nested block is known (recursively; `dynamic "x"` is checked as block x),
     meta-arguments and `lifecycle` keys are valid, an argument is not written as a block or vice versa,
     read-only (computed) attributes are not set, max-one blocks appear at most once;
  c. required arguments and required blocks are present;
  d. calls of local modules (`source = "./..."` / `"../..."`) pass only declared variables (unknown names
     get a "did you mean" hint) and pass every variable that has no default;
  e. every `var.x` / `local.x` is declared in its module, every `module.m.out` names an existing module call
     and, for local modules, an existing output; every `aws_x.name.attr` / `data.aws_x.name.attr` names a
     declared resource and an attribute or block the schema knows;
  f. each directory directly under a `modules/` directory has main.tf, variables.tf, outputs.tf,
     versions.tf and README.md; every variable has a description and a type.

Usage:
    python tools/tfcheck.py [paths...]         # default: modules/ environments/ ; exit 1 on findings
    python tools/tfcheck.py --schema other.json modules/

Library use:  ``from tfcheck import check_paths``;  ``check_paths([Path("modules")]) -> list[Finding]``.

How the HCL is read, and why not just ``hcl2.load``:
    python-hcl2 8.x ``hcl2.load(f, serialization_options=SerializationOptions(explicit_blocks=False, ...))``
    turns a block ``lifecycle { ... }`` into ``"lifecycle": [{...}]`` and an attribute ``x = [{...}]`` into
    ``"x": [{...}]`` -- identical, so "argument written as a block" cannot be detected from it, and there are
    no line numbers (``with_meta`` is accepted but not implemented in 8.1.4).  ``explicit_blocks=True`` adds
    ``"__is_block__": True`` to block bodies, which fixes the ambiguity but still has no lines.
    So we call ``hcl2.parses(text)`` (the public first stage of ``hcl2.loads``) and walk its rule tree:
    ``BlockRule`` and ``AttributeRule`` are distinct node types, and each carries the lark ``Meta`` with its
    line.  Attribute *values* are serialized with exactly the options above (``explicit_blocks=False,
    strip_string_quotes=True``), so values look the same as in ``hcl2.load`` output: expressions are
    ``"${...}"`` strings, literals are plain Python values.  ``test_offline_checks.py`` cross-checks this walk
    against ``hcl2.load(..., explicit_blocks=True)`` on the fixtures.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

import hcl2
from hcl2 import SerializationOptions
from hcl2.rules.base import AttributeRule, BlockRule, BodyRule

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMA = REPO_ROOT / "tests" / "terraform" / "aws_provider_schema.json"
DEFAULT_PATHS = [REPO_ROOT / "modules", REPO_ROOT / "environments"]
REGENERATE_HINT = "re-run tools/derive_tf_schema.py --from-repo ."

VALUE_OPTIONS = SerializationOptions(explicit_blocks=False, strip_string_quotes=True, with_comments=False)

RESOURCE_META_ARGS = {"count", "for_each", "depends_on", "provider"}
RESOURCE_META_BLOCKS = {"lifecycle", "provisioner", "connection"}
LIFECYCLE_ATTRS = {"create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by"}
LIFECYCLE_BLOCKS = {"precondition", "postcondition"}
DATA_LIFECYCLE_ATTRS: set[str] = set()
CONDITION_ATTRS = {"condition", "error_message"}
MODULE_META_ARGS = {"source", "version", "count", "for_each", "providers", "depends_on"}
VARIABLE_ATTRS = {"type", "default", "description", "sensitive", "nullable", "ephemeral"}
VARIABLE_BLOCKS = {"validation"}
OUTPUT_ATTRS = {"value", "description", "sensitive", "depends_on", "ephemeral"}
OUTPUT_BLOCKS = {"precondition"}
DYNAMIC_ATTRS = {"for_each", "iterator", "labels"}
# `moved`/`removed` name addresses that no longer exist in the configuration.
NO_REFERENCE_CHECK_BLOCKS = {"moved", "removed"}
# Types that are not in the AWS schema but are fine to use (built into Terraform).
BUILTIN_RESOURCES = {"terraform_data"}
BUILTIN_DATA = {"terraform_remote_state"}
# Attributes every resource/data source exposes even if the schema lists it as settable only.
ALWAYS_READABLE = {"id"}
MODULE_REQUIRED_FILES = ["main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"]

NAME = r"[A-Za-z_][\w-]*"
INDEX = r"(?:\[[^\]]*\])?"
VAR_REF_RE = re.compile(rf"(?<![\w.])var\.({NAME})")
LOCAL_REF_RE = re.compile(rf"(?<![\w.])local\.({NAME})")
MODULE_REF_RE = re.compile(rf"(?<![\w.])module\.({NAME}){INDEX}(?:\.({NAME}))?")
DATA_REF_RE = re.compile(rf"(?<![\w.])data\.({NAME})\.({NAME}){INDEX}(?:\.({NAME}))?")
RESOURCE_REF_RE = re.compile(rf"(?<![\w.])(aws_[a-z0-9_]+)\.({NAME}){INDEX}(?:\.({NAME}))?")


# ---------------------------------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


def _hint(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------------------
# HCL model
# ---------------------------------------------------------------------------------------------------


@dataclass
class Attr:
    name: str
    value: Any
    line: int | None


@dataclass
class Block:
    type: str
    labels: list[str]
    line: int | None
    file: Path
    attrs: dict[str, Attr] = field(default_factory=dict)
    blocks: list["Block"] = field(default_factory=list)
    redefined: list[Attr] = field(default_factory=list)  # `x = ...` given twice in one body

    def blocks_named(self, name: str) -> list["Block"]:
        return [b for b in self.blocks if b.type == name]

    def dynamic_named(self, name: str) -> list["Block"]:
        return [b for b in self.blocks if b.type == "dynamic" and b.labels[:1] == [name]]

    def walk_values(self) -> Iterator[tuple[Any, int | None]]:
        """Every attribute value in this block and its nested blocks, with the attribute's line."""
        for a in self.attrs.values():
            yield a.value, a.line
        for b in self.blocks:
            yield from b.walk_values()


def _line(rule: Any) -> int | None:
    meta = getattr(rule, "_meta", None)
    return getattr(meta, "line", None) if meta is not None and not getattr(meta, "empty", False) else None


def _convert_body(body: BodyRule, into: Block) -> None:
    for child in body.children:
        if isinstance(child, AttributeRule):
            name = child.identifier.serialize(VALUE_OPTIONS)
            attr = Attr(name, child.expression.serialize(VALUE_OPTIONS), _line(child))
            if name in into.attrs:
                into.redefined.append(attr)
            else:
                into.attrs[name] = attr
        elif isinstance(child, BlockRule):
            labels = [str(label.serialize(VALUE_OPTIONS)) for label in child.labels]
            blk = Block(type=labels[0], labels=labels[1:], line=_line(child), file=into.file)
            _convert_body(child.body, blk)
            into.blocks.append(blk)


@lru_cache(maxsize=None)
def parse_file(path: Path) -> Block:
    """Parse one .tf file into a root Block (type "") whose blocks are the top-level blocks."""
    text = path.read_text(encoding="utf-8")
    root = Block(type="", labels=[], line=None, file=path)
    _convert_body(hcl2.parses(text).body, root)
    return root


def block_to_dict(block: Block) -> dict[str, Any]:
    """The `hcl2.load(..., explicit_blocks=True)` shape of a parsed block (for cross-checking the walk)."""
    out: dict[str, Any] = {name: a.value for name, a in block.attrs.items()}
    for b in block.blocks:
        body = block_to_dict(b)
        body["__is_block__"] = True
        for label in reversed(b.labels):
            body = {label: body}
        out.setdefault(b.type, []).append(body)
    return out


# ---------------------------------------------------------------------------------------------------
# Modules (a directory of .tf files)
# ---------------------------------------------------------------------------------------------------


@dataclass
class Module:
    path: Path
    blocks: list[Block] = field(default_factory=list)
    parse_findings: list[Finding] = field(default_factory=list)

    def of_type(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.type == kind]

    @property
    def variables(self) -> dict[str, Block]:
        return {b.labels[0]: b for b in self.of_type("variable") if b.labels}

    @property
    def outputs(self) -> dict[str, Block]:
        return {b.labels[0]: b for b in self.of_type("output") if b.labels}

    @property
    def locals(self) -> set[str]:
        return {name for b in self.of_type("locals") for name in b.attrs}

    @property
    def module_calls(self) -> dict[str, Block]:
        return {b.labels[0]: b for b in self.of_type("module") if b.labels}

    def declared(self, kind: str) -> dict[tuple[str, str], Block]:
        """resource/data blocks by (type, name); includes data sources scoped in `check` blocks."""
        found = self.of_type(kind)
        if kind == "data":
            found = found + [d for c in self.of_type("check") for d in c.blocks_named("data")]
        return {(b.labels[0], b.labels[1]): b for b in found if len(b.labels) == 2}


@lru_cache(maxsize=None)
def load_module(path: Path) -> Module:
    mod = Module(path=path)
    for tf in sorted(path.glob("*.tf")):
        try:
            mod.blocks.extend(parse_file(tf).blocks)
        except Exception as exc:  # lark raises several exception types; report them all the same way
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            mod.parse_findings.append(Finding(_rel(tf), getattr(exc, "line", None), f"cannot parse: {first}"))
    return mod


def find_module_dirs(paths: Iterable[Path]) -> list[Path]:
    dirs: set[Path] = set()
    for p in paths:
        p = p.resolve()
        if p.is_file() and p.suffix == ".tf":
            dirs.add(p.parent)
        elif p.is_dir():
            for tf in p.rglob("*.tf"):
                if ".terraform" not in tf.parts:
                    dirs.add(tf.parent)
    return sorted(dirs)


# ---------------------------------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def load_schema(path: Path = DEFAULT_SCHEMA) -> dict[str, Any]:
    return json.loads(path.read_text())


def _settable(node: dict[str, Any]) -> set[str]:
    return {n for n, a in node["attributes"].items() if not a.get("computed_only")}


# ---------------------------------------------------------------------------------------------------
# Checks a-c: resources and data sources against the schema
# ---------------------------------------------------------------------------------------------------


class Checker:
    def __init__(self, schema: dict[str, Any], schema_path: Path):
        self.schema = schema
        self.schema_name = _rel(schema_path)
        self.findings: list[Finding] = []

    def add(self, block_or_file: Block | Path, line: int | None, message: str) -> None:
        file = block_or_file.file if isinstance(block_or_file, Block) else block_or_file
        self.findings.append(Finding(_rel(file), line, message))

    # -- a. types ---------------------------------------------------------------------------------------
    def check_resource(self, block: Block, kind: str) -> None:
        if len(block.labels) != 2:
            self.add(block, block.line, f'{kind} block needs a type and a name label, got {block.labels}')
            return
        tf_type, name = block.labels
        address = f"{tf_type}.{name}" if kind == "resource" else f"data.{tf_type}.{name}"
        section = self.schema["resources" if kind == "resource" else "data_sources"]
        if tf_type not in section:
            if tf_type in (BUILTIN_RESOURCES if kind == "resource" else BUILTIN_DATA):
                return
            noun = "resource type" if kind == "resource" else "data source type"
            self.add(
                block,
                block.line,
                f'unknown {noun} "{tf_type}"{_hint(tf_type, section)}: not in {self.schema_name} '
                f"(if it is a real hashicorp/aws type, {REGENERATE_HINT})",
            )
            return
        if "count" in block.attrs and "for_each" in block.attrs:
            self.add(block, block.attrs["for_each"].line, f"{address}: count and for_each are mutually exclusive")
        self.check_body(block, section[tf_type], address, top_kind=kind)

    # -- b/c. bodies ------------------------------------------------------------------------------------
    def check_body(self, block: Block, node: dict[str, Any], where: str, top_kind: str | None = None) -> None:
        attributes: dict[str, Any] = node["attributes"]
        blocks: dict[str, Any] = node["blocks"]
        known = set(attributes) | set(blocks)
        meta_args = RESOURCE_META_ARGS if top_kind else set()
        meta_blocks = RESOURCE_META_BLOCKS if top_kind else set()

        for name, attr in block.attrs.items():
            if name in meta_args:
                continue
            if name in blocks:
                self.add(block, attr.line, f'{where}: "{name}" is a block, not an argument (write `{name} {{ ... }}`)')
            elif name in attributes:
                if attributes[name].get("computed_only"):
                    self.add(block, attr.line, f'{where}: "{name}" is read-only (computed by the provider) and cannot be set')
            elif name in meta_blocks:
                self.add(block, attr.line, f'{where}: "{name}" is a block, not an argument (write `{name} {{ ... }}`)')
            else:
                self.add(block, attr.line, f'{where}: unsupported argument "{name}"{_hint(name, _settable(node) | meta_args)}')

        counts: dict[str, int] = {}
        dynamic: set[str] = set()
        for sub in block.blocks:
            if sub.type in meta_blocks:
                if sub.type == "lifecycle":
                    self.check_lifecycle(sub, where, top_kind or "resource")
                continue
            if sub.type == "dynamic":
                target = self.check_dynamic(sub, where)
                if target is None:
                    continue
                dynamic.add(target)
                if target in blocks:
                    if not blocks[target].get("opaque"):
                        for c in sub.blocks_named("content"):
                            self.check_body(c, blocks[target], f"{where}.{target}")
                    continue
                name, line = target, sub.line
            else:
                name, line = sub.type, sub.line
                if name in blocks:
                    counts[name] = counts.get(name, 0) + 1
                    if not blocks[name].get("opaque"):  # contents unknown to the schema
                        self.check_body(sub, blocks[name], f"{where}.{name}")
                    continue
            if attributes.get(name, {}).get("nested"):
                # Object-valued argument: SDK "attributes as blocks" (aws_security_group.ingress) accept
                # block syntax, framework nested attributes do not; the schema cannot tell them apart.
                continue
            if name in attributes:
                if attributes[name].get("computed_only"):
                    self.add(block, line, f'{where}: "{name}" is read-only (computed by the provider) and cannot be set')
                else:
                    self.add(block, line, f'{where}: "{name}" is an argument, not a block (write `{name} = ...`)')
            else:
                candidates = set(blocks) | meta_blocks
                self.add(block, line, f'{where}: unsupported block type "{name}"{_hint(name, candidates or known)}')

        for name, spec in blocks.items():
            n = counts.get(name, 0)
            if n > 1 and (spec["nesting"] == "single" or spec.get("max_items") == 1):
                self.add(block, block.line, f'{where}: block "{name}" may appear at most once, found {n}')
            if spec.get("min_items") and n == 0 and name not in dynamic:
                self.add(block, block.line, f'{where}: missing required block "{name}"')
        for name, spec in attributes.items():
            if spec.get("required") and name not in block.attrs:
                self.add(block, block.line, f'{where}: missing required argument "{name}"')

    def check_dynamic(self, block: Block, where: str) -> str | None:
        if len(block.labels) != 1:
            self.add(block, block.line, f"{where}: dynamic block needs exactly one label, got {block.labels}")
            return None
        target = block.labels[0]
        for name, attr in block.attrs.items():
            if name not in DYNAMIC_ATTRS:
                self.add(block, attr.line, f'{where}: dynamic "{target}": unsupported argument "{name}"{_hint(name, DYNAMIC_ATTRS)}')
        if "for_each" not in block.attrs:
            self.add(block, block.line, f'{where}: dynamic "{target}": missing required argument "for_each"')
        contents = block.blocks_named("content")
        if len(contents) != 1:
            self.add(block, block.line, f'{where}: dynamic "{target}": needs exactly one content block, found {len(contents)}')
        for sub in block.blocks:
            if sub.type != "content":
                self.add(block, sub.line, f'{where}: dynamic "{target}": unsupported block type "{sub.type}"')
        return target

    def check_lifecycle(self, block: Block, where: str, kind: str) -> None:
        allowed_attrs = LIFECYCLE_ATTRS if kind == "resource" else DATA_LIFECYCLE_ATTRS
        for name, attr in block.attrs.items():
            if name not in allowed_attrs:
                self.add(block, attr.line, f'{where}: lifecycle: unsupported argument "{name}"{_hint(name, allowed_attrs)}')
        for sub in block.blocks:
            if sub.type not in LIFECYCLE_BLOCKS:
                self.add(block, sub.line, f'{where}: lifecycle: unsupported block type "{sub.type}"{_hint(sub.type, LIFECYCLE_BLOCKS)}')
            else:
                self.check_condition(sub, f"{where}: lifecycle.{sub.type}")

    def check_condition(self, block: Block, where: str) -> None:
        for name, attr in block.attrs.items():
            if name not in CONDITION_ATTRS:
                self.add(block, attr.line, f'{where}: unsupported argument "{name}"{_hint(name, CONDITION_ATTRS)}')
        for name in sorted(CONDITION_ATTRS - set(block.attrs)):
            self.add(block, block.line, f'{where}: missing required argument "{name}"')

    # -- d. module calls --------------------------------------------------------------------------------
    def check_module_call(self, caller: Module, call: Block) -> None:
        name = call.labels[0] if call.labels else "?"
        src_attr = call.attrs.get("source")
        if src_attr is None:
            self.add(call, call.line, f'module "{name}": missing required argument "source"')
            return
        source = src_attr.value
        if not isinstance(source, str) or not source.startswith(("./", "../")):
            return  # registry / git module: inputs cannot be checked offline
        target = (caller.path / source).resolve()
        where = f"module.{name} ({source})"
        if not target.is_dir() or not any(target.glob("*.tf")):
            self.add(call, src_attr.line, f"{where}: source directory does not exist or has no .tf files")
            return
        called = load_module(target)
        variables = called.variables
        for arg, attr in call.attrs.items():
            if arg in MODULE_META_ARGS:
                continue
            if arg not in variables:
                self.add(call, attr.line, f'{where}: unknown input "{arg}"{_hint(arg, variables)}: not a variable of the module')
        for sub in call.blocks:
            self.add(call, sub.line, f'{where}: unsupported block type "{sub.type}" in a module call')
        for var_name, var in sorted(variables.items()):
            if "default" not in var.attrs and var_name not in call.attrs:
                self.add(call, call.line, f'{where}: missing required input "{var_name}" (the variable has no default)')

    # -- e. references ----------------------------------------------------------------------------------
    def check_references(self, mod: Module) -> None:
        variables = mod.variables
        local_names = mod.locals
        calls = mod.module_calls
        resources = mod.declared("resource")
        data = mod.declared("data")
        seen: set[tuple[str, int | None, str]] = set()

        def report(block: Block, line: int | None, message: str) -> None:
            key = (_rel(block.file), line, message)
            if key not in seen:
                seen.add(key)
                self.add(block, line, message)

        for top in mod.blocks:
            if top.type in NO_REFERENCE_CHECK_BLOCKS:
                continue
            for value, line in top.walk_values():
                for expr in _expressions(value):
                    for m in VAR_REF_RE.finditer(expr):
                        if m[1] not in variables:
                            report(top, line, f"reference to undeclared variable var.{m[1]}{_hint(m[1], variables)}")
                    for m in LOCAL_REF_RE.finditer(expr):
                        if m[1] not in local_names:
                            report(top, line, f"reference to undeclared local value local.{m[1]}{_hint(m[1], local_names)}")
                    for m in MODULE_REF_RE.finditer(expr):
                        self._check_module_ref(mod, calls, top, line, m[1], m[2], report)
                    for m in DATA_REF_RE.finditer(expr):
                        self._check_resource_ref(data, top, line, "data", m[1], m[2], m[3], report)
                    for m in RESOURCE_REF_RE.finditer(expr):
                        self._check_resource_ref(resources, top, line, "resource", m[1], m[2], m[3], report)

    def _check_module_ref(self, mod, calls, top, line, name, output, report) -> None:
        if name not in calls:
            report(top, line, f"reference to undeclared module module.{name}{_hint(name, calls)}")
            return
        source = calls[name].attrs.get("source")
        if output is None or source is None or not isinstance(source.value, str):
            return
        if not source.value.startswith(("./", "../")):
            return
        target = (mod.path / source.value).resolve()
        if not target.is_dir():
            return  # reported by check_module_call
        outputs = load_module(target).outputs
        if output not in outputs:
            report(
                top,
                line,
                f'module.{name} has no output "{output}"{_hint(output, outputs)} '
                f"(outputs of {source.value}: {', '.join(sorted(outputs)) or 'none'})",
            )

    def _check_resource_ref(self, declared, top, line, kind, tf_type, name, attr, report) -> None:
        prefix = "data." if kind == "data" else ""
        address = f"{prefix}{tf_type}.{name}"
        if (tf_type, name) not in declared:
            same_type = [n for (t, n) in declared if t == tf_type]
            report(top, line, f"reference to undeclared {kind} {address}{_hint(name, same_type)}")
            return
        section = self.schema["resources" if kind == "resource" else "data_sources"]
        node = section.get(tf_type)
        if node is None or attr is None:
            return  # unknown type is reported at the declaration
        readable = set(node["attributes"]) | set(node["blocks"]) | ALWAYS_READABLE
        if attr not in readable:
            report(top, line, f'{address} has no attribute "{attr}"{_hint(attr, readable)}')

    # -- f. module layout and variable hygiene ----------------------------------------------------------
    def check_layout(self, mod: Module) -> None:
        if mod.path.parent.name == "modules":
            for fname in MODULE_REQUIRED_FILES:
                if not (mod.path / fname).is_file():
                    self.add(mod.path, None, f"module {mod.path.name} is missing {fname}")
        for name, var in mod.variables.items():
            for key in ("description", "type"):
                if key not in var.attrs:
                    self.add(var, var.line, f'variable "{name}" has no {key}')
            for key, attr in var.attrs.items():
                if key not in VARIABLE_ATTRS:
                    self.add(var, attr.line, f'variable "{name}": unsupported argument "{key}"{_hint(key, VARIABLE_ATTRS)}')
            for sub in var.blocks:
                if sub.type not in VARIABLE_BLOCKS:
                    self.add(var, sub.line, f'variable "{name}": unsupported block type "{sub.type}"')
                else:
                    self.check_condition(sub, f'variable "{name}": validation')
        for name, out in mod.outputs.items():
            if "value" not in out.attrs:
                self.add(out, out.line, f'output "{name}": missing required argument "value"')
            for key, attr in out.attrs.items():
                if key not in OUTPUT_ATTRS:
                    self.add(out, attr.line, f'output "{name}": unsupported argument "{key}"{_hint(key, OUTPUT_ATTRS)}')
            for sub in out.blocks:
                if sub.type not in OUTPUT_BLOCKS:
                    self.add(out, sub.line, f'output "{name}": unsupported block type "{sub.type}"')
                else:
                    self.check_condition(sub, f'output "{name}": precondition')

    def check_duplicates(self, mod: Module) -> None:
        seen: dict[tuple[str, ...], Block] = {}
        for b in mod.blocks:
            if b.type not in ("resource", "data", "module", "variable", "output"):
                continue
            key = (b.type, *b.labels)
            if key in seen:
                first = seen[key]
                self.add(b, b.line, f"duplicate {b.type} {'.'.join(b.labels)} (first declared in {_rel(first.file)}:{first.line})")
            else:
                seen[key] = b
        locals_seen: dict[str, Block] = {}
        for b in mod.of_type("locals"):
            for name, attr in b.attrs.items():
                if name in locals_seen:
                    self.add(b, attr.line, f"duplicate local value {name}")
                locals_seen[name] = b

    def check_redefined(self, block: Block) -> None:
        for attr in block.redefined:
            first = block.attrs[attr.name]
            self.add(block, attr.line, f'argument "{attr.name}" is set twice in one block (first on line {first.line})')
        for sub in block.blocks:
            self.check_redefined(sub)

    # -- everything for one directory -------------------------------------------------------------------
    def check_module(self, mod: Module) -> None:
        self.findings.extend(mod.parse_findings)
        if mod.parse_findings:
            return
        for b in mod.blocks:
            self.check_redefined(b)
        for b in mod.blocks:
            if b.type == "resource":
                self.check_resource(b, "resource")
            elif b.type == "data":
                self.check_resource(b, "data")
            elif b.type == "module":
                self.check_module_call(mod, b)
        self.check_references(mod)
        self.check_layout(mod)
        self.check_duplicates(mod)


def _expressions(value: Any) -> Iterator[str]:
    """The `${...}` / `%{...}` parts of every string in a serialized value (keys included)."""
    if isinstance(value, str):
        yield from _template_spans(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _expressions(k)
            yield from _expressions(v)
    elif isinstance(value, list):
        for v in value:
            yield from _expressions(v)


def _template_spans(text: str) -> Iterator[str]:
    i = 0
    while True:
        m = re.compile(r"(?<![$%])[$%]\{").search(text, i)
        if not m:
            return
        depth = 0
        j = m.end() - 1
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        yield text[m.end() : j]
        i = j + 1


# ---------------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------------


def check_paths(paths: Iterable[Path] | None = None, schema_path: Path = DEFAULT_SCHEMA) -> list[Finding]:
    """Run every check on every directory containing *.tf under `paths`; return sorted findings."""
    paths = list(paths) if paths is not None else DEFAULT_PATHS
    schema_path = Path(schema_path)
    # Files may have changed since a previous call in the same process (tests, watch loops).
    parse_file.cache_clear()
    load_module.cache_clear()
    if not schema_path.is_file():
        return [Finding(_rel(schema_path), None, f"schema file missing; {REGENERATE_HINT}")]
    checker = Checker(load_schema(schema_path.resolve()), schema_path)
    for p in paths:
        if not Path(p).exists():
            checker.findings.append(Finding(_rel(Path(p)), None, "path does not exist"))
    for d in find_module_dirs(paths):
        checker.check_module(load_module(d))
    return sorted(set(checker.findings), key=lambda f: (f.file, f.line or 0, f.message))


def used_types(paths: Iterable[Path]) -> dict[str, set[str]]:
    """{"resources": {...}, "data_sources": {...}} used by the *.tf under paths."""
    out: dict[str, set[str]] = {"resources": set(), "data_sources": set()}
    for d in find_module_dirs(paths):
        for b in load_module(d).blocks:
            if b.type in ("resource", "data") and len(b.labels) == 2:
                out["resources" if b.type == "resource" else "data_sources"].add(b.labels[0])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Offline Terraform checks against the derived AWS provider schema.")
    ap.add_argument("paths", nargs="*", type=Path, help="files or directories (default: modules/ environments/)")
    ap.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    ap.add_argument("-q", "--quiet", action="store_true", help="print findings only")
    args = ap.parse_args(argv)
    started = time.monotonic()
    paths = args.paths or DEFAULT_PATHS
    findings = check_paths(paths, args.schema)
    for f in findings:
        print(f)
    if not args.quiet:
        n_dirs = len(find_module_dirs(paths))
        print(
            f"tfcheck: {len(findings)} finding(s) in {n_dirs} director{'y' if n_dirs == 1 else 'ies'} "
            f"({time.monotonic() - started:.2f}s)",
            file=sys.stderr,
        )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
