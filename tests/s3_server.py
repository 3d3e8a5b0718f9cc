"""moto's S3 in server mode, as its own process on 127.0.0.1: the S3 wire protocol the file store
speaks to a real bucket (boto3 signs and sends every request over a socket, as against AWS)."""

from __future__ import annotations

import os
import pathlib
import secrets
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from tests.harness import START_TIMEOUT_S, free_port, port_open, start_process, stop_process, wait_until

ACCESS_KEY = "AKIDRINGSIDETEST"
SECRET_KEY = "ringside-test-secret"
REGION = "us-east-1"


@dataclass
class S3Server:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, log_dir: pathlib.Path) -> S3Server:
        port = free_port()
        args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        process = start_process(args, env, log_dir / f"moto-{port}.log")
        wait_until(lambda: port_open(port) or process.poll() is not None, START_TIMEOUT_S, "moto's S3 server")
        assert process.poll() is None, "moto's server exited"
        return cls(port, process)

    def stop(self) -> None:
        stop_process(self.process)

    def client(self) -> Any:
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}),
        )

    def new_bucket(self) -> str:
        name = "ringside-" + secrets.token_hex(4)
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket: str, prefix: str = "files") -> dict[str, str]:
        """The settings that point a role's file store at `bucket`."""
        return {
            "RINGSIDE_FILES_URL": f"s3://{bucket}/{prefix}",
            "RINGSIDE_FILES_S3_ENDPOINT_URL": self.endpoint_url,
            "RINGSIDE_FILES_S3_REGION": REGION,
            "RINGSIDE_FILES_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "RINGSIDE_FILES_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "RINGSIDE_FILES_S3_ADDRESSING_STYLE": "path",
        }

    def keys(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def open_uploads(self, bucket: str) -> int:
        return len(self.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []))
