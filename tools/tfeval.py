#!/usr/bin/env python3
"""Evaluate Terraform variable validations, and a root's composition per inference mode, offline.

`terraform validate` / `plan` cannot run here (no registry), so this evaluates the subset of HCL the repository
uses in `validation` conditions, `count` switches and outputs, on python-hcl2's parse tree (hcl2.parses), the
way Terraform would:

* literals, strings with `${...}`, tuples, objects, `[for ...]` / `{for ...}` expressions;
* `var.x`, `local.x` (evaluated on demand), attribute and index access, `module.m[*].out` splats;
* `&& || ! == != < > <= >= + - * / %`, `cond ? a : b` (both branches must be understood; only the chosen one is
  evaluated, as Terraform reports only its errors), and no short-circuit: an error or a null in either operand
  of `&&` / `||` is an error, as in the Terraform versions the modules allow;
* functions: can, try, contains, alltrue, anytrue, length, regex, regexall, lower, upper, floor, ceil, abs, min, max,
  startswith, endswith, strcontains, keys, values, concat, compact, coalesce, distinct, one, tostring, tonumber,
  jsondecode;
* variable types with `optional(type, default)` attributes, whose defaults are filled in before the validations
  run, as Terraform does.

Anything else raises `Unsupported` -- an expression this evaluator does not understand never passes silently.
Values only known at apply time (module outputs, resource attributes, `filebase64sha256(...)`, `jsonencode`)
evaluate to `UNKNOWN`; a validation whose result is unknown is reported as deferred, as Terraform defers it.

    python tools/tfeval.py modules/serverless-endpoint --var 'serverless_config={"memory_size_in_mb": 1500}'
    python tools/tfeval.py environments/dev --tfvars environments/dev/terraform.tfvars --var inference_mode='"async"'

Library use: `validate(module_dir, inputs) -> Report`, `Composition(root_dir, inputs)` for module calls and
outputs per mode (tests/terraform/test_validations.py and test_environments.py).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import hcl2
from hcl2.rules.abstract import LarkToken
from hcl2.rules.base import AttributeRule, BlockRule
from hcl2.rules.containers import ObjectElemKeyExpressionRule, ObjectRule, TupleRule
from hcl2.rules.expressions import BinaryOpRule, ConditionalRule, ExprTermRule, UnaryOpRule
from hcl2.rules.for_expressions import ForObjectExprRule, ForTupleExprRule
from hcl2.rules.functions import FunctionCallRule
from hcl2.rules.indexing import (
    AttrSplatExprTermRule,
    FullSplatExprTermRule,
    GetAttrExprTermRule,
    IndexExprTermRule,
    SqbIndexRule,
)
from hcl2.rules.literal_rules import FloatLitRule, IdentifierRule, IntLitRule, LiteralValueRule
from hcl2.rules.strings import InterpolationRule, StringPartRule, StringRule
from hcl2.rules.whitespace import NewLineOrCommentRule
from hcl2.utils import process_escape_sequences


class Unsupported(Exception):
    """An expression or function this evaluator does not implement: never treated as a pass."""


class EvalError(Exception):
    """What Terraform would report as an evaluation error (null attribute, bad regex match, wrong type...)."""


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()  # known only at apply time


def _contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    return False


# ---- parsing -----------------------------------------------------------------------------------------------------

def _children(rule: Any) -> list:
    return [c for c in getattr(rule, "children", [])
            if c is not None and not isinstance(c, (LarkToken, NewLineOrCommentRule))]


def _label(label: Any) -> str:
    return str(label.serialize()).strip('"')


@dataclass
class Block:
    type: str
    labels: list[str]
    attrs: dict[str, Any]  # name -> expression rule
    blocks: list["Block"]


def _block(rule: BlockRule) -> Block:
    labels = [_label(x) for x in rule.labels]
    attrs, blocks = {}, []
    for child in rule.body.children:
        if isinstance(child, AttributeRule):
            attrs[str(child.identifier.serialize())] = child.expression
        elif isinstance(child, BlockRule):
            blocks.append(_block(child))
    return Block(labels[0], labels[1:], attrs, blocks)


def parse_dir(path: Path) -> list[Block]:
    blocks = []
    for tf in sorted(Path(path).glob("*.tf")):
        for child in hcl2.parses(tf.read_text(encoding="utf-8")).body.children:
            if isinstance(child, BlockRule):
                blocks.append(_block(child))
    return blocks


def parse_tfvars(path: Path) -> dict[str, Any]:
    """A .tfvars file's values (literals only: tfvars cannot reference anything)."""
    values = {}
    for child in hcl2.parses(Path(path).read_text(encoding="utf-8")).body.children:
        if isinstance(child, AttributeRule):
            values[str(child.identifier.serialize())] = Evaluator({}).eval(child.expression)
    return values


# ---- types -------------------------------------------------------------------------------------------------------

def convert(value: Any, type_rule: Any, where: str) -> Any:
    """Convert an input to a variable's type constraint, filling optional attributes' defaults (None = null)."""
    if value is None or value is UNKNOWN:
        return value
    node = _unwrap(type_rule)
    if isinstance(node, IdentifierRule):
        kind = str(node.serialize())
        if kind == "any":
            return value
        if kind == "string":
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise EvalError(f"{where}: a string is required")
            return value if isinstance(value, str) else _to_string(value)
        if kind == "number":
            if isinstance(value, bool):
                raise EvalError(f"{where}: a number is required")
            if isinstance(value, str):
                try:
                    return _number(float(value))
                except ValueError:
                    raise EvalError(f"{where}: a number is required") from None
            if not isinstance(value, (int, float)):
                raise EvalError(f"{where}: a number is required")
            return value
        if kind == "bool":
            if isinstance(value, str) and value in ("true", "false"):
                return value == "true"
            if not isinstance(value, bool):
                raise EvalError(f"{where}: a bool is required")
            return value
        raise Unsupported(f"type {kind}")
    if isinstance(node, FunctionCallRule):
        name = _function_name(node)
        args = node.arguments.arguments if node.arguments else []
        if name in ("list", "set"):
            if not isinstance(value, list):
                raise EvalError(f"{where}: a {name} is required")
            return [convert(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
        if name == "map":
            if not isinstance(value, dict):
                raise EvalError(f"{where}: a map is required")
            return {k: convert(v, args[0], f"{where}[{k!r}]") for k, v in value.items()}
        if name == "object":
            if not isinstance(value, dict):
                raise EvalError(f"{where}: an object is required")
            spec = _unwrap(args[0])
            if not isinstance(spec, ObjectRule):
                raise Unsupported(f"object type at {where}")
            out, seen = {}, set()
            for element in spec.elements:
                attr = _object_key(element, Evaluator({}))
                seen.add(attr)
                attr_type = _unwrap(element.expression)
                if isinstance(attr_type, FunctionCallRule) and _function_name(attr_type) == "optional":
                    optional_args = attr_type.arguments.arguments
                    given = value.get(attr)
                    if given is None and len(optional_args) > 1:
                        given = Evaluator({}).eval(optional_args[1])
                    out[attr] = convert(given, optional_args[0], f"{where}.{attr}")
                else:
                    if attr not in value:
                        raise EvalError(f"{where}: attribute {attr!r} is required")
                    out[attr] = convert(value[attr], element.expression, f"{where}.{attr}")
            extra = set(value) - seen
            if extra:
                raise EvalError(f"{where}: unexpected attribute(s) {sorted(extra)}")
            return out
        raise Unsupported(f"type {name}(...)")
    raise Unsupported(f"type expression {type(node).__name__} at {where}")


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---- evaluation --------------------------------------------------------------------------------------------------

def _unwrap(rule: Any) -> Any:
    while isinstance(rule, ExprTermRule):
        rule = rule.expression
    return rule


def _operator(rule: UnaryOpRule) -> str:
    token = rule.children[0]
    return str(token.serialize() if hasattr(token, "serialize") else token).strip()


def _function_name(rule: FunctionCallRule) -> str:
    return "::".join(str(i.serialize()) for i in rule.identifiers)


def _object_key(element: Any, evaluator: "Evaluator") -> str:
    key = element.key
    if isinstance(key, ObjectElemKeyExpressionRule):
        return _to_string(evaluator.eval(key.expression))
    inner = key.value
    if isinstance(inner, IdentifierRule):
        return str(inner.serialize())
    return _to_string(evaluator.eval(inner))


@dataclass
class ModuleRef:
    """`module.name`: counted in (instances == 1) or out (0), or without count (instances None)."""

    name: str
    instances: int | None


def _regex(pattern: str, text: str) -> Any:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise EvalError(f"invalid regex {pattern!r}: {exc}") from None
    match = compiled.search(text)
    if not match:
        raise EvalError(f"regex {pattern!r} does not match {text!r}")
    if compiled.groupindex:
        return {name: match.group(name) for name in compiled.groupindex}
    if compiled.groups:
        return list(match.groups())
    return match.group(0)


def _regexall(pattern: str, text: str) -> list:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise EvalError(f"invalid regex {pattern!r}: {exc}") from None
    found = []
    for match in compiled.finditer(text):
        if compiled.groupindex:
            found.append({name: match.group(name) for name in compiled.groupindex})
        elif compiled.groups:
            found.append(list(match.groups()))
        else:
            found.append(match.group(0))
    return found


def _len(value: Any) -> int:
    if isinstance(value, (str, list, dict)):
        return len(value)
    raise EvalError(f"length() of {type(value).__name__}")


def _need_list(value: Any, name: str) -> list:
    if not isinstance(value, list):
        raise EvalError(f"{name}() needs a list, got {type(value).__name__}")
    return value


def _one(value: Any) -> Any:
    items = _need_list(value, "one")
    if len(items) > 1:
        raise EvalError(f"one() of a list with {len(items)} elements")
    return items[0] if items else None


def _coalesce(*args: Any) -> Any:
    for arg in args:
        if arg is not None and arg != "":
            return arg
    raise EvalError("coalesce(): no non-null, non-empty argument")


def _alltrue(items: list) -> bool:
    return all(_bool(x, "alltrue") for x in _need_list(items, "alltrue"))


def _anytrue(items: list) -> bool:
    return any(_bool(x, "anytrue") for x in _need_list(items, "anytrue"))


def _jsondecode(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise EvalError(f"jsondecode(): {exc}") from None


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise EvalError(f"{where}: a bool is required, got {value!r}")
    return value


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": lambda coll, v: v in _need_list(coll, "contains") if isinstance(coll, list) else v in coll,
    "alltrue": _alltrue,
    "anytrue": _anytrue,
    "length": _len,
    "regex": _regex,
    "regexall": _regexall,
    "lower": lambda s: s.lower(),
    "upper": lambda s: s.upper(),
    "floor": lambda n: _number(math.floor(n)),
    "ceil": lambda n: _number(math.ceil(n)),
    "abs": lambda n: abs(n),
    "min": lambda *n: min(n),
    "max": lambda *n: max(n),
    "startswith": lambda s, p: s.startswith(p),
    "endswith": lambda s, p: s.endswith(p),
    "strcontains": lambda s, p: p in s,
    "keys": lambda m: sorted(m),
    "values": lambda m: [m[k] for k in sorted(m)],
    "concat": lambda *lists: [x for items in lists for x in _need_list(items, "concat")],
    "compact": lambda items: [x for x in _need_list(items, "compact") if x not in (None, "")],
    "coalesce": _coalesce,
    "distinct": lambda items: list(dict.fromkeys(_need_list(items, "distinct"))),
    "one": _one,
    "tostring": lambda v: None if v is None else _to_string(v),
    "tonumber": lambda v: None if v is None else _number(float(v)),
    "jsondecode": _jsondecode,
}
# Understood, but their value is only known at apply time (files, hashes, encodings of unknown documents).
APPLY_TIME_FUNCTIONS = {"filebase64sha256", "filesha256", "file", "jsonencode", "timestamp", "uuid", "sort", "sha1",
                        "substr", "trimprefix", "split", "merge", "toset", "tomap", "tolist", "format", "join"}
SPECIAL_FUNCTIONS = {"can", "try"}
BINARY_OPERATORS = {"||", "&&", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%"}


class Evaluator:
    """Evaluates expression rules in a scope: {"var": {...}, "local": Locals, "module": {...}, ...}."""

    def __init__(self, scope: Mapping[str, Any]) -> None:
        self.scope = dict(scope)

    def with_names(self, **names: Any) -> "Evaluator":
        return Evaluator({**self.scope, **names})

    # Static pass: every construct in the expression must be understood, including branches not taken.
    def check(self, rule: Any) -> None:
        rule = _unwrap(rule)
        if isinstance(rule, (LiteralValueRule, IntLitRule, FloatLitRule, IdentifierRule)):
            return
        if isinstance(rule, FunctionCallRule):
            name = _function_name(rule)
            if name not in FUNCTIONS and name not in SPECIAL_FUNCTIONS and name not in APPLY_TIME_FUNCTIONS:
                raise Unsupported(f"function {name}()")
            if rule.arguments and rule.arguments.has_ellipsis:
                raise Unsupported(f"argument expansion (...) in {name}()")
        elif isinstance(rule, UnaryOpRule):
            if _operator(rule) not in ("!", "-"):
                raise Unsupported(f"unary operator {rule.operator!r}")
        elif isinstance(rule, BinaryOpRule):
            if str(rule.binary_term.binary_operator.serialize()).strip() not in BINARY_OPERATORS:
                raise Unsupported("binary operator")
        elif not isinstance(rule, (ConditionalRule, StringRule, StringPartRule, InterpolationRule, TupleRule,
                                   ObjectRule, GetAttrExprTermRule, IndexExprTermRule, SqbIndexRule,
                                   FullSplatExprTermRule, AttrSplatExprTermRule, ForTupleExprRule,
                                   ForObjectExprRule)) and type(rule).__name__ not in (
                "ArgumentsRule", "BinaryTermRule", "GetAttrRule", "ObjectElemRule", "ObjectElemKeyRule",
                "ObjectElemKeyExpressionRule", "ForIntroRule", "ForCondRule", "FullSplatRule", "AttrSplatRule",
                "BinaryOperatorRule"):
            raise Unsupported(f"expression {type(rule).__name__}: {rule.serialize()!r}")
        for child in _children(rule):
            self.check(child)

    def eval(self, rule: Any) -> Any:
        self.check(rule)
        return self._eval(rule)

    def _eval(self, rule: Any) -> Any:
        rule = _unwrap(rule)
        if isinstance(rule, LiteralValueRule):
            text = str(rule.token.serialize())
            return {"null": None, "true": True, "false": False}[text]
        if isinstance(rule, (IntLitRule, FloatLitRule)):
            return _number(float(rule.token.serialize()))
        if isinstance(rule, StringRule):
            return self._string(rule)
        if isinstance(rule, TupleRule):
            return [self._eval(e) for e in rule.elements]
        if isinstance(rule, ObjectRule):
            return {_object_key(e, self): self._eval(e.expression) for e in rule.elements}
        if isinstance(rule, IdentifierRule):
            return self._name(str(rule.serialize()))
        if isinstance(rule, GetAttrExprTermRule):
            return self._attr(self._eval(rule.expr_term), str(rule.get_attr.identifier.serialize()))
        if isinstance(rule, IndexExprTermRule):
            return self._index(self._eval(rule.children[0]), self._eval(rule.children[1].index_expression))
        if isinstance(rule, (FullSplatExprTermRule, AttrSplatExprTermRule)):
            return self._splat(rule)
        if isinstance(rule, UnaryOpRule):
            return self._unary(_operator(rule), self._eval(rule.expr_term))
        if isinstance(rule, BinaryOpRule):
            operator = str(rule.binary_term.binary_operator.serialize()).strip()
            return self._binary(operator, self._eval(rule.expr_term), self._eval(rule.binary_term.expr_term))
        if isinstance(rule, ConditionalRule):
            condition = self._eval(rule.condition)
            if condition is UNKNOWN:
                return UNKNOWN
            return self._eval(rule.if_true if _bool(condition, "condition") else rule.if_false)
        if isinstance(rule, FunctionCallRule):
            return self._call(rule)
        if isinstance(rule, (ForTupleExprRule, ForObjectExprRule)):
            return self._for(rule)
        raise Unsupported(f"expression {type(rule).__name__}")

    def _string(self, rule: StringRule) -> Any:
        parts = []
        for part in rule.string_parts:
            content = part.content
            if isinstance(content, InterpolationRule):
                value = self._eval(content.expression)
                if value is UNKNOWN:
                    return UNKNOWN
                if value is None or isinstance(value, (list, dict)):
                    raise EvalError(f"cannot interpolate {value!r} into a string")
                parts.append(_to_string(value))
            elif isinstance(content, LarkToken):
                parts.append(process_escape_sequences(str(content.serialize())))
            else:
                raise Unsupported(f"template directive in a string: {rule.serialize()!r}")
        return "".join(parts)

    def _name(self, name: str) -> Any:
        if name in self.scope:
            return self.scope[name]
        if name.startswith("aws_") or name in ("data", "terraform_data"):
            return UNKNOWN  # resource / data source attributes: known at apply
        raise Unsupported(f"reference to {name!r}")

    def _attr(self, base: Any, name: str) -> Any:
        if base is UNKNOWN:
            return UNKNOWN
        if isinstance(base, Locals):
            return base.get(name)
        if isinstance(base, ModuleNamespace):
            return base.get(name)
        if isinstance(base, ModuleRef):
            if base.instances is None:
                return UNKNOWN
            raise EvalError(f"module.{base.name} has count: index it (module.{base.name}[0].{name})")
        if base is None:
            raise EvalError(f"attempt to get attribute {name!r} from a null value")
        if not isinstance(base, dict):
            raise EvalError(f"cannot get attribute {name!r} of {type(base).__name__}")
        if name not in base:
            raise EvalError(f"no attribute {name!r}")
        return base[name]

    def _index(self, base: Any, key: Any) -> Any:
        if base is UNKNOWN or key is UNKNOWN:
            return UNKNOWN
        if isinstance(base, ModuleRef):
            if base.instances is None or not isinstance(key, int) or key >= base.instances:
                raise EvalError(f"module.{base.name}[{key!r}] does not exist (count = {base.instances})")
            return UNKNOWN
        if base is None:
            raise EvalError("attempt to index a null value")
        try:
            return base[key]
        except (KeyError, IndexError, TypeError):
            raise EvalError(f"invalid index {key!r}") from None

    def _splat(self, rule: Any) -> Any:
        base = self._eval(rule.expr_term)
        attrs = [str(a.identifier.serialize()) for a in rule.attr_splat.get_attrs if hasattr(a, "identifier")]
        if isinstance(base, ModuleRef):
            return [UNKNOWN] * (base.instances if base.instances is not None else 1)
        if base is UNKNOWN:
            return UNKNOWN
        items = [] if base is None else base if isinstance(base, list) else [base]
        out = []
        for item in items:
            for attr in attrs:
                item = self._attr(item, attr)
            out.append(item)
        return out

    def _unary(self, operator: str, value: Any) -> Any:
        if value is UNKNOWN:
            return UNKNOWN
        if operator == "!":
            return not _bool(value, "!")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise EvalError(f"-{value!r}: a number is required")
        return -value

    def _binary(self, operator: str, left: Any, right: Any) -> Any:
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        if operator in ("&&", "||"):
            # Both operands are evaluated and must be bools (no short-circuit).
            lhs, rhs = _bool(left, operator), _bool(right, operator)
            return (lhs and rhs) if operator == "&&" else (lhs or rhs)
        if operator in ("==", "!="):
            same = type(left) is type(right) or (isinstance(left, (int, float)) and isinstance(right, (int, float))
                                                 and not isinstance(left, bool) and not isinstance(right, bool))
            equal = same and left == right
            return equal if operator == "==" else not equal
        for value in (left, right):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise EvalError(f"{left!r} {operator} {right!r}: numbers are required")
        if operator == "<":
            return left < right
        if operator == ">":
            return left > right
        if operator == "<=":
            return left <= right
        if operator == ">=":
            return left >= right
        if operator == "+":
            return _number(left + right)
        if operator == "-":
            return _number(left - right)
        if operator == "*":
            return _number(left * right)
        if operator == "/":
            if right == 0:
                raise EvalError("division by zero")
            return _number(left / right)
        return _number(math.fmod(left, right))

    def _call(self, rule: FunctionCallRule) -> Any:
        name = _function_name(rule)
        args = rule.arguments.arguments if rule.arguments else []
        if name == "can":
            try:
                value = self._eval(args[0])
            except EvalError:
                return False
            return UNKNOWN if _contains_unknown(value) else True
        if name == "try":
            for arg in args:
                try:
                    return self._eval(arg)
                except EvalError:
                    continue
            raise EvalError("try(): no argument could be evaluated")
        values = [self._eval(a) for a in args]
        if name in APPLY_TIME_FUNCTIONS or any(v is UNKNOWN for v in values):
            return UNKNOWN
        if any(_contains_unknown(v) for v in values) and name not in ("concat", "one", "length"):
            # A list with an element known only at apply: these three do not look at the elements' values.
            return UNKNOWN
        try:
            return FUNCTIONS[name](*values)
        except EvalError:
            raise
        except (TypeError, ValueError, AttributeError) as exc:
            raise EvalError(f"{name}(): {exc}") from None

    def _for(self, rule: Any) -> Any:
        intro = rule.for_intro
        collection = self._eval(intro.iterable)
        if collection is UNKNOWN:
            return UNKNOWN
        first = str(intro.first_iterator.serialize())
        second = str(intro.second_iterator.serialize()) if intro.second_iterator is not None else None
        if isinstance(collection, dict):
            pairs = [(k, collection[k]) for k in sorted(collection)]
        elif isinstance(collection, list):
            pairs = list(enumerate(collection))
        else:
            raise EvalError(f"cannot iterate over {collection!r}")
        is_object = isinstance(rule, ForObjectExprRule)
        if is_object and rule.ellipsis is not None:
            raise Unsupported("grouping (...) in a for expression")
        out_list, out_map = [], {}
        for key, value in pairs:
            names = {first: value} if second is None else {first: key, second: value}
            inner = self.with_names(**names)
            if rule.condition is not None:
                keep = inner._eval(rule.condition.condition_expr)
                if keep is UNKNOWN:
                    return UNKNOWN
                if not _bool(keep, "for ... if"):
                    continue
            if is_object:
                out_map[_to_string(inner._eval(rule.key_expr))] = inner._eval(rule.value_expr)
            else:
                out_list.append(inner._eval(rule.value_expr))
        return out_map if is_object else out_list


class Locals:
    """`local.x`, evaluated on first use (so a local that needs something unsupported only fails if used)."""

    def __init__(self, definitions: Mapping[str, Any], scope_factory: Callable[[], Mapping[str, Any]]) -> None:
        self.definitions = definitions
        self.scope_factory = scope_factory
        self.cache: dict[str, Any] = {}
        self.active: set[str] = set()

    def get(self, name: str) -> Any:
        if name in self.cache:
            return self.cache[name]
        if name not in self.definitions:
            raise EvalError(f"local.{name} is not declared")
        if name in self.active:
            raise EvalError(f"local.{name} refers to itself")
        self.active.add(name)
        try:
            value = Evaluator(self.scope_factory()).eval(self.definitions[name])
        finally:
            self.active.discard(name)
        self.cache[name] = value
        return value


class ModuleNamespace:
    def __init__(self, refs: Mapping[str, ModuleRef]) -> None:
        self.refs = refs

    def get(self, name: str) -> ModuleRef:
        if name not in self.refs:
            raise EvalError(f"module.{name} is not declared")
        return self.refs[name]


# ---- a module's variables and their validations -----------------------------------------------------------------

@dataclass
class Variable:
    name: str
    type_rule: Any
    default_rule: Any  # None: required
    validations: list[tuple[Any, Any]]  # (condition rule, error_message rule)

    @property
    def required(self) -> bool:
        return self.default_rule is None


def variables_of(blocks: Iterable[Block]) -> dict[str, Variable]:
    found = {}
    for block in blocks:
        if block.type != "variable":
            continue
        validations = [(v.attrs["condition"], v.attrs["error_message"]) for v in block.blocks if v.type == "validation"]
        found[block.labels[0]] = Variable(block.labels[0], block.attrs.get("type"), block.attrs.get("default"),
                                          validations)
    return found


@dataclass
class Report:
    """Outcome of a module's validations for one set of inputs."""

    errors: dict[str, list[str]] = field(default_factory=dict)  # variable -> error messages of failed checks
    deferred: dict[str, int] = field(default_factory=dict)  # variable -> checks whose result is unknown
    values: dict[str, Any] = field(default_factory=dict)  # the converted inputs, defaults filled in

    @property
    def ok(self) -> bool:
        return not self.errors

    def messages(self) -> list[str]:
        return [m for name in sorted(self.errors) for m in self.errors[name]]


def input_values(variables: Mapping[str, Variable], inputs: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(inputs) - set(variables)
    if unknown:
        raise EvalError(f"no such variable(s): {', '.join(sorted(unknown))}")
    values = {}
    for name, variable in variables.items():
        if name in inputs:
            raw = inputs[name]
        elif variable.required:
            raise EvalError(f"variable {name!r} is required (it has no default)")
        else:
            raw = Evaluator({}).eval(variable.default_rule)
        values[name] = convert(raw, variable.type_rule, f"var.{name}") if variable.type_rule is not None else raw
    return values


def validate(module_dir: Path | str, inputs: Mapping[str, Any], blocks: list[Block] | None = None) -> Report:
    """Run every validation of the module's variables on `inputs` (missing ones take their defaults).

    Conditions may refer to other variables (Terraform >= 1.9), so all inputs are in scope for each."""
    blocks = blocks if blocks is not None else parse_dir(Path(module_dir))
    variables = variables_of(blocks)
    report = Report(values=input_values(variables, inputs))
    # Terraform >= 1.9 lets a condition use local values too (evaluated on demand, like everything else here).
    definitions = {n: e for b in blocks if b.type == "locals" for n, e in b.attrs.items()}
    scope: dict[str, Any] = {"var": report.values}
    scope["local"] = Locals(definitions, lambda: scope)
    evaluator = Evaluator(scope)
    for name, variable in sorted(variables.items()):
        for condition, message in variable.validations:
            try:
                result = evaluator.eval(condition)
            except EvalError as exc:
                report.errors.setdefault(name, []).append(f"error evaluating the condition: {exc}")
                continue
            if result is UNKNOWN:
                report.deferred[name] = report.deferred.get(name, 0) + 1
                continue
            if not isinstance(result, bool):
                report.errors.setdefault(name, []).append(f"the condition gave {result!r}, not a bool")
            elif not result:
                text = evaluator.eval(message)
                report.errors.setdefault(name, []).append(text if isinstance(text, str) else repr(text))
    return report


# ---- a root's composition for one set of inputs (one inference mode) --------------------------------------------

@dataclass
class ModuleCall:
    name: str
    source: str
    instances: int | None  # None: no count
    arguments: dict[str, Any]  # input name -> evaluated value (UNKNOWN when known only at apply)


class Composition:
    """Which module calls a root makes for given inputs, what it passes them, and what its outputs are."""

    def __init__(self, root: Path | str, inputs: Mapping[str, Any]) -> None:
        self.root = Path(root)
        self.blocks = parse_dir(self.root)
        self.report = validate(self.root, inputs, self.blocks)
        definitions = {n: e for b in self.blocks if b.type == "locals" for n, e in b.attrs.items()}
        self.refs: dict[str, ModuleRef] = {}
        self.locals = Locals(definitions, self._scope)
        self._calls = [b for b in self.blocks if b.type == "module"]
        for call in self._calls:
            self.refs[call.labels[0]] = ModuleRef(call.labels[0], None)  # provisional, for count expressions
        for call in self._calls:
            if "count" in call.attrs:
                count = Evaluator(self._scope()).eval(call.attrs["count"])
                if count is UNKNOWN or not isinstance(count, int):
                    raise EvalError(f"module.{call.labels[0]}: count must be known and whole, got {count!r}")
                self.refs[call.labels[0]] = ModuleRef(call.labels[0], count)

    def _scope(self) -> dict[str, Any]:
        return {"var": self.report.values, "local": self.locals, "module": ModuleNamespace(self.refs),
                "path": {"module": str(self.root), "root": str(self.root), "cwd": str(self.root)}}

    def module_calls(self) -> dict[str, ModuleCall]:
        """The module calls that exist (count 1 or no count), with their arguments evaluated."""
        calls = {}
        evaluator = Evaluator(self._scope())
        for call in self._calls:
            ref = self.refs[call.labels[0]]
            if ref.instances == 0:
                continue
            arguments = {name: evaluator.eval(expr) for name, expr in call.attrs.items()
                         if name not in ("source", "count", "for_each", "depends_on", "providers", "version")}
            calls[ref.name] = ModuleCall(ref.name, evaluator.eval(call.attrs["source"]), ref.instances, arguments)
        return calls

    def outputs(self) -> dict[str, Any]:
        evaluator = Evaluator(self._scope())
        return {b.labels[0]: evaluator.eval(b.attrs["value"]) for b in self.blocks if b.type == "output"}

    def module_reports(self) -> dict[str, Report]:
        """Each existing module call's arguments run through the called module's own validations."""
        reports = {}
        for name, call in self.module_calls().items():
            if not call.source.startswith(("./", "../")):
                continue
            reports[name] = validate((self.root / call.source).resolve(), call.arguments)
        return reports


# ---- command line -------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", type=Path, help="module or root directory")
    parser.add_argument("--tfvars", type=Path, action="append", default=[], help="a .tfvars file (literals)")
    parser.add_argument("--var", action="append", default=[], help="name=JSON value, e.g. max_concurrency=201")
    args = parser.parse_args(argv)
    inputs: dict[str, Any] = {}
    try:
        for path in args.tfvars:
            inputs.update(parse_tfvars(path))
        for item in args.var:
            name, _, raw = item.partition("=")
            inputs[name] = json.loads(raw)
        report = validate(args.module, inputs)
    except (EvalError, Unsupported) as exc:
        print(f"tfeval: {exc}", file=sys.stderr)
        return 2
    for name in sorted(report.errors):
        for message in report.errors[name]:
            print(f"var.{name}: {message}")
    deferred = sum(report.deferred.values())
    print(f"tfeval: {sum(map(len, report.errors.values()))} failed validation(s)"
          + (f", {deferred} deferred to apply time" if deferred else ""), file=sys.stderr)
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
