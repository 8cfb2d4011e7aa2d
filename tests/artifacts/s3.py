"""A real S3-compatible server for tests: moto's server mode in its own process, on a free
loopback port, with throwaway credentials."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import boto3
import httpx

from tests.servers import free_port

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "plinth-test",
    "AWS_SECRET_ACCESS_KEY": "plinth-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class MotoS3:
    """``python -m moto.server`` on 127.0.0.1; ``new_bucket()`` gives each test its own."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self.process.returncode}")
            try:
                httpx.get(f"{self.url}/moto-api/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise TimeoutError(f"moto server not ready on {self.url}")

    def stop(self) -> None:
        if self.process is not None:  # nothing to shut down cleanly: its state is throwaway
            self.process.kill()
            self.process.wait()

    def client(self) -> object:
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def new_bucket(self) -> str:
        name = f"plinth-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)  # type: ignore[attr-defined]
        return name
