"""IAM policy evaluation for the emulator, as AWS documents it (identity policies of the caller; explicit deny
wins; Action/NotAction, Resource/NotResource with wildcards; conditions with the operators the modules use).

moto's own evaluator checks every normal action against the resource "*" (so no statement naming a resource
ever matches) and turns a statement whose condition it cannot evaluate into an explicit deny, whatever its
effect. This module is what the `iam_enforcement` shim puts in its place. Every decision is recorded:

- `DECISIONS.denied`: (principal, action, resource, why) for every denied call (the scenarios print them);
- `DECISIONS.unevaluated`: condition keys the harness cannot know on the emulator (for example
  `aws:SourceAccount` on a service-to-service call); a statement whose only unknown is such a key is treated as
  matching *and listed*, never silently;
- `DECISIONS.unresolved`: actions whose resource the harness could not derive from the request (only the action
  was checked), listed too.
"""

from __future__ import annotations

import fnmatch
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Decisions:
    denied: list[tuple[str, str, str, str]] = field(default_factory=list)
    unevaluated: set[tuple[str, str, str]] = field(default_factory=set)  # (principal, action, condition key)
    unresolved: set[tuple[str, str]] = field(default_factory=set)  # (principal, action)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.denied.clear()
            self.unevaluated.clear()
            self.unresolved.clear()


DECISIONS = Decisions()

# Keys the harness can never supply from a request on the emulator; anything else missing is "absent".
UNKNOWABLE_PREFIXES = (
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:PrincipalOrgID",
    "kms:",
    "aws:ViaAWSService",
    "aws:CalledVia",
    "aws:SourceVpc",
    "aws:SourceIp",
)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _like(pattern: str, value: str) -> bool:
    # IAM wildcards: * and ?; fnmatch also treats [ ] specially, which IAM patterns never use.
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _match_any(patterns: Iterable[str], value: str) -> bool:
    return any(p == "*" or _like(p, value) for p in patterns)


def _action_matches(patterns: Iterable[str], action: str) -> bool:
    # Actions are case-insensitive.
    return any(_like(p.lower(), action.lower()) for p in patterns)


_STRING_TESTS = {
    "StringEquals": lambda want, got: got == want,
    "StringNotEquals": lambda want, got: got != want,
    "StringEqualsIgnoreCase": lambda want, got: got.lower() == want.lower(),
    "StringLike": lambda want, got: _like(want, got),
    "StringNotLike": lambda want, got: not _like(want, got),
    "ArnEquals": lambda want, got: got == want,
    "ArnLike": lambda want, got: _like(want, got),
    "ArnNotEquals": lambda want, got: got != want,
    "ArnNotLike": lambda want, got: not _like(want, got),
    "Bool": lambda want, got: str(got).lower() == str(want).lower(),
    "NumericLessThan": lambda want, got: float(got) < float(want),
    "NumericLessThanEquals": lambda want, got: float(got) <= float(want),
    "NumericGreaterThan": lambda want, got: float(got) > float(want),
    "NumericGreaterThanEquals": lambda want, got: float(got) >= float(want),
    "NumericEquals": lambda want, got: float(got) == float(want),
}
_NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


class Unknowable(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def condition_holds(test: str, key: str, wanted: list[str], context: dict[str, Any]) -> bool:
    """One condition operator on one key. Raises Unknowable for a key the emulator cannot supply."""
    qualifier = ""
    if ":" in test and test.split(":", 1)[0] in ("ForAllValues", "ForAnyValue"):
        qualifier, test = test.split(":", 1)
    if_exists = test.endswith("IfExists")
    if if_exists:
        test = test[: -len("IfExists")]
    if test == "Null":
        present = key in context and context[key] not in (None, [], "")
        return any(str(w).lower() == ("false" if present else "true") for w in wanted)
    if key not in context:
        if any(key.startswith(p) for p in UNKNOWABLE_PREFIXES):
            raise Unknowable(key)
        if qualifier == "ForAllValues":
            return True  # vacuously true over an empty set, as AWS documents
        if if_exists:
            return True
        return test in _NEGATED  # a missing key fails positive tests, satisfies negated ones
    compare = _STRING_TESTS.get(test)
    if compare is None:
        raise Unknowable(f"{key} ({test})")
    values = [str(v) for v in _as_list(context[key])]
    if qualifier == "ForAllValues":
        return all(any(compare(str(w), v) for w in wanted) for v in values)
    if qualifier == "ForAnyValue":
        return any(any(compare(str(w), v) for w in wanted) for v in values)
    if test in _NEGATED:
        return all(all(compare(str(w), v) for w in wanted) for v in values)
    return any(any(compare(str(w), v) for w in wanted) for v in values)


def statement_applies(
    statement: dict, action: str, resource: str | None, context: dict[str, Any], unknown: set[str]
) -> bool:
    if "Action" in statement and not _action_matches(_as_list(statement["Action"]), action):
        return False
    if "NotAction" in statement and _action_matches(_as_list(statement["NotAction"]), action):
        return False
    if resource is not None:
        if "Resource" in statement and not _match_any(_as_list(statement["Resource"]), resource):
            return False
        if "NotResource" in statement and _match_any(_as_list(statement["NotResource"]), resource):
            return False
    for test, keys in (statement.get("Condition") or {}).items():
        for key, wanted in keys.items():
            try:
                if not condition_holds(test, key, [str(w) for w in _as_list(wanted)], context):
                    return False
            except Unknowable as exc:
                unknown.add(exc.key)
    return True


def evaluate(
    documents: list[str | dict], action: str, resources: list[str] | None, context: dict[str, Any]
) -> tuple[bool, str, set[str]]:
    """(allowed, why, unknown condition keys) for one action on every resource (all must be allowed)."""
    statements: list[dict] = []
    for document in documents:
        parsed = json.loads(document) if isinstance(document, str) else document
        statements += _as_list(parsed.get("Statement"))
    unknown: set[str] = set()
    for resource in resources if resources is not None else [None]:
        allowed = False
        for statement in statements:
            if statement_applies(statement, action, resource, context, unknown):
                if statement.get("Effect") == "Deny":
                    return False, f"explicit deny ({statement.get('Sid', 'no sid')}) on {resource}", unknown
                allowed = True
        if not allowed:
            return False, f"no statement allows {action} on {resource or '(resource not derived)'}", unknown
    return True, "allowed", unknown
