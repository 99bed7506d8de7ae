"""Bearer tokens and the Lambda authorizer: hashes only, constant-time comparison, the status codes callers get
in front of the gateway, the token script, and no token in any log line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import load_event
from gateway_support import TOKENS_TABLE, stack  # noqa: F401
from sleepwake.aws import clients as aws
from sleepwake.gateway.tokens import TOKEN_RE, TokenError, bearer_token, token_hash
from sleepwake.handlers import authorizer as authorizer_entry

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import tokens as tokens_tool


def authorize(token_header: str | None) -> dict:
    event = load_event("authorizer_request.json")
    if token_header is None:
        event["headers"].pop("authorization")
        event["identitySource"] = []
    else:
        event["headers"]["authorization"] = token_header
        event["identitySource"] = [token_header]
    return authorizer_entry.handler(event, None)


def table_dump() -> str:
    return json.dumps(aws.client("dynamodb").scan(TableName=TOKENS_TABLE)["Items"])


def test_a_created_token_is_stored_only_as_its_hash(stack):
    token = stack.tokens.create("app-one", now=stack.clock.now())
    assert TOKEN_RE.match(token)
    dump = table_dump()
    assert token not in dump and token[4:] not in dump
    assert f"token#{token_hash(token)}" in dump and "name#app-one" in dump


def test_a_valid_token_is_authorized_with_its_name(stack):
    token = stack.tokens.create("app-one", now=stack.clock.now())
    assert authorize(f"Bearer {token}") == {"isAuthorized": True, "context": {"token_name": "app-one"}}
    assert authorize(f"bearer   {token}  ")["isAuthorized"] is True  # scheme is case-insensitive


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "swk_" + "a" * 43,
        "Bearer not-a-token",
        "Bearer swk_" + "a" * 43,  # well-formed, unknown
    ],
)
def test_missing_malformed_and_unknown_tokens_are_refused(stack, header):
    stack.tokens.create("app-one", now=stack.clock.now())
    assert authorize(header) == {"isAuthorized": False}


def test_expired_and_revoked_tokens_are_refused(stack):
    expiring = stack.tokens.create("short-lived", now=stack.clock.now(), expires_at=stack.clock.now() + 3600)
    revoked = stack.tokens.create("revoked", now=stack.clock.now())
    assert authorize(f"Bearer {expiring}")["isAuthorized"] is True
    stack.clock.advance(3600)
    assert authorize(f"Bearer {expiring}") == {"isAuthorized": False}
    assert stack.tokens.revoke("revoked") is True
    assert authorize(f"Bearer {revoked}") == {"isAuthorized": False}
    assert stack.tokens.revoke("revoked") is False
    assert "revoked" not in table_dump()


def test_the_stored_hash_is_compared_in_constant_time(stack, monkeypatch):
    import hmac

    calls = []
    original = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr("sleepwake.gateway.tokens.hmac.compare_digest", spy)
    token = stack.tokens.create("app-one", now=stack.clock.now())
    authorize(f"Bearer {token}")
    assert calls == [(token_hash(token), token_hash(token))]


def test_malformed_tokens_cost_no_lookup(stack, monkeypatch):
    looked_up = []
    monkeypatch.setattr("sleepwake.gateway.tokens.TokenStore.lookup", lambda self, digest: looked_up.append(digest))
    authorize("Bearer definitely-not-ours")
    assert looked_up == []


def test_token_names_are_validated_and_unique(stack):
    stack.tokens.create("app-one", now=stack.clock.now())
    with pytest.raises(TokenError, match="a token named 'app-one' exists"):
        stack.tokens.create("app-one", now=stack.clock.now())
    for bad in ("", "-dash", "has space", "x" * 65, "name#evil"):
        with pytest.raises(TokenError, match="a token name is 1-64"):
            stack.tokens.create(bad, now=stack.clock.now())
    with pytest.raises(TokenError, match="the expiry must be in the future"):
        stack.tokens.create("late", now=stack.clock.now(), expires_at=stack.clock.now() - 1)


def test_listing_follows_every_page(stack):
    for name in ("c-app", "a-app", "b-app", "d-app", "e-app"):
        stack.tokens.create(name, now=stack.clock.now())
    listed = stack.tokens.list(page_size=1)  # a page per item: the second page used to crash similar code
    assert [t["name"] for t in listed] == ["a-app", "b-app", "c-app", "d-app", "e-app"]
    assert all(set(t) == {"name", "created_at", "expires_at"} for t in listed)


def test_bearer_token_parsing():
    assert bearer_token({"Authorization": "Bearer abc"}) == "abc"
    assert bearer_token({}, ["Bearer xyz"]) == "xyz"
    assert bearer_token({"authorization": "Token abc"}) is None
    assert bearer_token(None) is None


# ---- what callers see in front of the gateway (API Gateway's documented behaviour, emulated) -------------------
def test_status_codes_in_front_of_the_gateway(stack):
    token = stack.tokens.create("app-one", now=stack.clock.now())
    revoked = stack.tokens.create("gone", now=stack.clock.now())
    stack.tokens.revoke("gone")
    api = stack.emulator()
    missing = api.request("GET", "/status")
    assert (missing.status, missing.json()) == (401, {"message": "Unauthorized"})
    empty = api.request("GET", "/status", headers={"Authorization": "  "})
    assert empty.status == 401
    wrong = api.request("GET", "/status", headers={"Authorization": "Bearer swk_" + "b" * 43})
    gone = api.request("GET", "/status", headers={"Authorization": f"Bearer {revoked}"})
    garbage = api.request("GET", "/status", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    # the same answer whether the token never existed, was revoked or is garbage: nothing to learn from it
    assert wrong.status == gone.status == garbage.status == 403
    assert wrong.body == gone.body == garbage.body == b'{"message":"Forbidden"}'
    ok = api.request("GET", "/status", headers={"Authorization": f"Bearer {token}"})
    assert ok.status == 200 and ok.json()["state"] == "asleep"
    unknown_route = api.request("GET", "/admin", headers={"Authorization": f"Bearer {token}"})
    assert unknown_route.status == 404


def test_authorizer_results_are_cached_for_the_ttl(stack):
    token = stack.tokens.create("app-one", now=stack.clock.now())
    api = stack.emulator(ttl_seconds=300)
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(3):
        assert api.request("GET", "/lease", headers=headers).status == 200
    assert api.authorizer_calls == 1
    stack.tokens.revoke("app-one")
    assert api.request("GET", "/lease", headers=headers).status == 200  # cached: revocation takes up to the TTL
    stack.clock.advance(301)
    assert api.request("GET", "/lease", headers=headers).status == 403
    assert api.authorizer_calls == 2


def test_the_caller_is_the_token_name(stack):
    token = stack.tokens.create("app-one", now=stack.clock.now())
    api = stack.emulator()
    answer = api.request(
        "POST",
        "/invoke",
        b'{"inputs": "x"}',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Prefer": "respond-async"},
    )
    request_id = answer.json()["request_id"]
    item = aws.client("dynamodb").get_item(
        TableName="sleepwake-test-state", Key={"pk": {"S": f"request#{request_id}"}}
    )["Item"]
    assert item["caller"] == {"S": "token:app-one"}


# ---- the token script ---------------------------------------------------------------------------------------
def test_token_script_creates_once_lists_and_revokes(stack, capsys):
    assert (
        tokens_tool.main(["--table", TOKENS_TABLE, "create", "ci-job", "--expires-days", "30"], now=stack.clock.now())
        == 0
    )
    out = capsys.readouterr()
    token = out.out.strip()
    assert TOKEN_RE.match(token) and "shown once" in out.err and token not in out.err
    assert authorize(f"Bearer {token}")["isAuthorized"] is True
    capsys.readouterr()  # the authorizer's log line
    assert tokens_tool.main(["--table", TOKENS_TABLE, "list"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [t["name"] for t in listed] == ["ci-job"]
    assert listed[0]["expires_at"] == int(stack.clock.now() + 30 * 86400)
    assert token not in json.dumps(listed)
    assert tokens_tool.main(["--table", TOKENS_TABLE, "create", "ci-job"], now=stack.clock.now()) == 2
    assert "exists" in capsys.readouterr().err
    assert tokens_tool.main(["--table", TOKENS_TABLE, "revoke", "ci-job"]) == 0
    assert tokens_tool.main(["--table", TOKENS_TABLE, "revoke", "ci-job"]) == 1
    assert authorize(f"Bearer {token}")["isAuthorized"] is False


def test_no_token_appears_in_any_log_line(stack, capsys, caplog):
    token = stack.tokens.create("app-one", now=stack.clock.now())
    api = stack.emulator(ttl_seconds=0)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    api.request("POST", "/invoke", b'{"inputs": "x"}', headers=headers)
    api.request("POST", "/invoke", b'{"inputs": "x"}', headers={**headers, "Prefer": "respond-async"})
    api.request("POST", "/lease", b'{"minutes": 5}', headers=headers)
    api.request("GET", "/status", headers={"Authorization": f"Bearer {token[:-1]}x"})
    authorize(f"Bearer {token}")
    stack.tokens.revoke("app-one")
    authorize(f"Bearer {token}")
    out = capsys.readouterr().out
    logs = out + caplog.text
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [line["logger"] for line in lines if line["message"] == "authorization"]  # the authorizer logged
    assert token not in logs and token[4:] not in logs and token[:-1] not in logs
