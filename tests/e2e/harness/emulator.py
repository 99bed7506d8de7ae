"""moto on 127.0.0.1 (a free port), in this process, with the shims, IAM authorisation on, and an administrator
whose keys Terraform and the harness use."""

from __future__ import annotations

import os
import socket

from . import shims

REGION = "us-east-1"
ACCOUNT = shims.ACCOUNT
ADMIN_USER = "sleepwake-e2e-admin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    def __init__(self, port: int | None = None) -> None:
        os.environ.setdefault("AWS_XRAY_SDK_ENABLED", "false")
        # The moto server process must not think it is itself inside a Lambda, nor use real credentials.
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = None
        self.admin_key: tuple[str, str] | None = None

    def start(self) -> "Emulator":
        import logging

        from moto.server import ThreadedMotoServer

        # werkzeug logs every request, and a traceback for each error answer (denials included): the harness
        # reports what matters in its steps and its IAM listing
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        shims.apply_all()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self._create_admin()
        self.enforce_iam(True)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def _create_admin(self) -> None:
        from moto.iam.models import iam_backends

        iam = iam_backends[ACCOUNT]["aws"]
        iam.create_user(REGION, ADMIN_USER, path="/", tags=[])
        iam.put_user_policy(
            ADMIN_USER, "admin", '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
        )
        key = iam.create_access_key(ADMIN_USER)
        self.admin_key = (key.access_key_id, key.secret_access_key)
        shims.HOOKS.admin_access_key = key.access_key_id

    @staticmethod
    def enforce_iam(on: bool) -> None:
        from moto import settings

        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if on else float("inf")

    def admin_env(self) -> dict[str, str]:
        assert self.admin_key
        return {
            "AWS_ACCESS_KEY_ID": self.admin_key[0],
            "AWS_SECRET_ACCESS_KEY": self.admin_key[1],
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_XRAY_SDK_ENABLED": "false",
        }

    def client(self, service: str, credentials: dict | None = None):
        import boto3
        from botocore.config import Config

        key, secret = self.admin_key or ("x", "x")
        kwargs = dict(aws_access_key_id=key, aws_secret_access_key=secret)
        if credentials:
            kwargs = dict(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.url,
            config=Config(retries={"max_attempts": 2, "mode": "standard"}),
            **kwargs,
        )
