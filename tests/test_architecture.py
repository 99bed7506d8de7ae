"""The package's shape is the architecture: sub-packages in layers, imports pointing down only, one boto3 client
factory, one BadEvent, no private name used outside its module, and nothing offline inside the Lambda package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lambda_src" / "sleepwake"
# Lower layers never import higher ones; packages on the same layer never import each other.
LAYERS = {
    "common": 0,
    "domain": 1,
    "aws": 2,
    "manager": 3,
    "gateway": 4,
    "asyncjobs": 4,
    "handlers": 5,
}
OFFLINE = ("sleepwake_sim", "sleepwake_client")


def _modules(base: Path, package: str) -> dict[str, Path]:
    found = {}
    for path in sorted(base.rglob("*.py")):
        parts = path.relative_to(base).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((package, *parts))] = path
    return found


def _imports(module: str, path: Path) -> list[tuple[int, str, list[str]]]:
    """Every import in the file (lazy ones inside functions too): (line, imported module, names)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target, [alias.name for alias in node.names]))
    return found


def _layer(module: str) -> tuple[str, int] | None:
    parts = module.split(".")
    if parts[0] != "sleepwake" or len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return parts[1], LAYERS[parts[1]]


def import_violations(base: Path = PACKAGE, package: str = "sleepwake") -> list[str]:
    problems = []
    for module, path in _modules(base, package).items():
        own = _layer(module)
        for line, target, _names in _imports(module, path):
            where = f"{path.relative_to(base.parent)}:{line}"
            if target.split(".")[0] in OFFLINE:
                problems.append(f"{where}: the Lambda package imports {target}, which is not in the zip")
                continue
            other = _layer(target)
            if own is None or other is None or own[0] == other[0]:
                continue
            if other[1] > own[1]:
                problems.append(f"{where}: {own[0]} (layer {own[1]}) imports {target} from a higher layer")
            elif other[1] == own[1]:
                problems.append(f"{where}: {own[0]} imports {target}, a package on its own layer")
    return problems


def test_the_sub_packages_are_the_layers_the_architecture_names():
    present = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert present == set(LAYERS)
    stray = [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    assert stray == [], "every module belongs to a sub-package"


def test_imports_point_down_only():
    assert import_violations() == []


def test_the_import_check_catches_an_upward_import(tmp_path):
    # a copy of the package in which the domain reaches up into the manager must be reported
    bad = tmp_path / "sleepwake"
    for path in _modules(PACKAGE, "sleepwake").values():
        target = bad / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    policy = bad / "domain" / "policy.py"
    policy.write_text(policy.read_text() + "\n\ndef _late():\n    from sleepwake.manager.service import Manager\n")
    problems = import_violations(bad, "sleepwake")
    assert len(problems) == 1 and "domain (layer 1) imports sleepwake.manager.service" in problems[0]


@pytest.mark.parametrize(
    "base,package",
    [
        (PACKAGE, "sleepwake"),
        (ROOT / "client" / "sleepwake_client", "sleepwake_client"),
        (ROOT / "sim" / "sleepwake_sim", "sleepwake_sim"),
    ],
)
def test_no_private_name_is_imported_from_another_module(base, package):
    leaks = []
    for module, path in _modules(base, package).items():
        for line, target, names in _imports(module, path):
            if target.split(".")[0] in ("sleepwake", *OFFLINE) and target != module:
                leaks += [f"{path.name}:{line}: {target}.{n}" for n in names if n.startswith("_")]
    assert leaks == []


def test_one_boto3_client_factory():
    """boto3 clients are made in sleepwake.aws.clients only (cached, lazily, with the project's retry config)."""
    makers = []
    for module, path in _modules(PACKAGE, "sleepwake").items():
        if module == "sleepwake.aws.clients":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("client", "resource", "Session", "session"):
                owner = node.value
                if isinstance(owner, ast.Name) and owner.id == "boto3":
                    makers.append(f"{module}:{node.lineno}")
        if "import boto3\n" in path.read_text():
            makers.append(f"{module}: imports boto3")
    assert makers == []


def test_one_bad_event_class():
    defined = []
    for module, path in _modules(PACKAGE, "sleepwake").items():
        tree = ast.parse(path.read_text())
        defined += [module for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == "BadEvent"]
    assert defined == ["sleepwake.common.errors"]
