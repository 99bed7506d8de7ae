#!/usr/bin/env python3
"""Create, list and revoke the gateway's bearer tokens: `make token-create NAME=app ENV=dev`, etc.

    python tools/tokens.py create NAME [--expires-days N] --env dev   # prints the new token ONCE
    python tools/tokens.py list --env dev
    python tools/tokens.py revoke NAME --env dev

The tokens table comes from the environment's Terraform output `gateway_tokens_table_name` (or pass --table).
Only a SHA-256 hash of each token is stored: a lost token cannot be recovered, only revoked and replaced.
Revoked tokens keep working until the authorizer's cache TTL (default 5 minutes) runs out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from sleepwake.gateway.tokens import TokenError, TokenStore  # noqa: E402

TABLE_OUTPUT = "gateway_tokens_table_name"


def terraform_output(env: str, name: str, terraform: str) -> str:
    # SLEEPWAKE_TF_DIR: another working directory of the same root (make local-up keeps its state in .local/).
    root = Path(os.environ["SLEEPWAKE_TF_DIR"]) if os.environ.get("SLEEPWAKE_TF_DIR") else ROOT / "environments" / env
    if not root.is_dir():
        raise SystemExit(f"no environment {env!r} under environments/")
    result = subprocess.run([terraform, f"-chdir={root}", "output", "-raw", name], capture_output=True, text=True)
    if result.returncode != 0 or not result.stdout.strip():
        raise SystemExit(
            f"could not read output {name!r} of environments/{env} (is the gateway applied?): {result.stderr.strip()}"
        )
    return result.stdout.strip()


def main(argv: list[str] | None = None, *, now: float | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--env", help="environment whose Terraform outputs name the tokens table")
    where.add_argument("--table", help="the tokens table, directly")
    parser.add_argument("--terraform", default="terraform")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a token and print it once")
    create.add_argument("name")
    create.add_argument("--expires-days", type=int, default=None, help="expire after N days (default: never)")
    commands.add_parser("list", help="list token names, creation and expiry (never the tokens)")
    revoke = commands.add_parser("revoke", help="revoke the token with this name")
    revoke.add_argument("name")
    args = parser.parse_args(argv)

    table = args.table or terraform_output(args.env, TABLE_OUTPUT, args.terraform)
    store = TokenStore(table)
    now = time.time() if now is None else now
    try:
        if args.command == "create":
            if args.expires_days is not None and not 1 <= args.expires_days <= 3650:
                parser.error("--expires-days must be between 1 and 3650")
            expires = now + args.expires_days * 86400 if args.expires_days else None
            token = store.create(args.name, now=now, expires_at=expires)
            print(
                f"token {args.name!r} created"
                + (f", expires in {args.expires_days} days" if expires else "")
                + ". It is shown once and stored only as a hash; keep it in a secret store:",
                file=sys.stderr,
            )
            print(token)
            return 0
        if args.command == "list":
            print(json.dumps(store.list(), indent=2))
            return 0
        if store.revoke(args.name):
            print(f"token {args.name!r} revoked (cached authorizations end within the authorizer's cache TTL)")
            return 0
        print(f"no token named {args.name!r}", file=sys.stderr)
        return 1
    except TokenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
