"""A real S3 API server for the tests: moto in server mode, in a subprocess on a free port.

    with S3Server() as server:        # server.endpoint_url == "http://127.0.0.1:<port>"
        ...

It speaks S3's HTTP protocol to boto3 exactly as AWS or another provider would; its
objects live in the subprocess's memory and go with it.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request

from tests.support.smtp import free_port

# boto3 reads these when a client is made; moto accepts any.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "datapass-tests",
    "AWS_SECRET_ACCESS_KEY": "datapass-tests-secret",
    "AWS_DEFAULT_REGION": "eu-west-3",
}


class S3Server:
    def __init__(self):
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=1):  # noqa: S310
                    return self
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError("the S3 API server (moto) did not start") from None
                time.sleep(0.1)

    def __exit__(self, *exc):
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None
