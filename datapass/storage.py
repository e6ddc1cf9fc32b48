"""Where uploaded files live: a small interface, on local disk or in S3-compatible storage.

Keys are random (``secrets.token_hex(16)``), never derived from what the user sent,
so a file name can neither collide with another nor escape the storage root. Local disk
(``STORAGE_DIR``) is the default; ``STORAGE_URL=s3://bucket/prefix`` puts the documents in
an S3-compatible object store (``S3_ENDPOINT_URL`` for another provider than AWS), which
every app machine and worker shares (docs/deployment.md).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, runtime_checkable
from urllib.parse import urlsplit

from flask import current_app

if TYPE_CHECKING:
    from flask import Flask

CHUNK_SIZE = 64 * 1024
KEY_PATTERN = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


@runtime_checkable
class Storage(Protocol):
    def save(self, stream: BinaryIO) -> StoredFile:
        """Store ``stream`` (read from its current position to its end) under a new key."""

    def open(self, key: str) -> BinaryIO:
        """The stored content, opened for binary reading; the caller closes it."""

    def delete(self, key: str) -> None:
        """Remove the content; a missing one is not an error."""

    def exists(self, key: str) -> bool:
        """Whether content is stored under ``key``."""

    def check(self) -> None:
        """Raise if the storage cannot be reached (the health check, ``/sante``)."""


def new_key() -> str:
    return secrets.token_hex(16)


def checked_key(key: str) -> str:
    """``key`` itself; refuses anything but a 32-character lowercase hex key."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"Invalid storage key: {key!r}")
    return key


class LocalStorage:
    """Files on disk under ``root``, fanned out as ``ab/cd/abcd…`` to keep folders small."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """The file's path; refuses anything but a 32-character lowercase hex key."""
        checked_key(key)
        return self.root / key[:2] / key[2:4] / key

    def save(self, stream: BinaryIO) -> StoredFile:
        key = new_key()
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        # Written next to the target, then renamed: readers never see a partial file.
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as temp:
                while chunk := stream.read(CHUNK_SIZE):
                    digest.update(chunk)
                    size += len(chunk)
                    temp.write(chunk)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise OSError(f"storage folder not writable: {self.root}")


class _Hashing:
    """A read-only stream that digests and counts what is read through it."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


class S3Storage:
    """Objects ``<prefix>/<key>`` in an S3 bucket (AWS, or any S3-compatible provider).

    An object appears whole or not at all (S3's PUT and multipart upload are atomic), so
    readers never see a partial file, on any machine. Credentials come from boto3's usual
    chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, an instance role…)."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )

    def object_key(self, key: str) -> str:
        checked_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def save(self, stream: BinaryIO) -> StoredFile:
        key = new_key()
        hashing = _Hashing(stream)
        self.client.upload_fileobj(hashing, self.bucket, self.object_key(key))
        return StoredFile(key=key, size=hashing.size, sha256=hashing.digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        # A local, seekable copy (memory, then a temporary file past 1 MB): downloads and
        # scans read it at their pace without holding an HTTP connection to the store.
        copy = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
        try:
            self.client.download_fileobj(self.bucket, self.object_key(key), copy)
        except BaseException as error:
            copy.close()
            if _is_missing(error):
                raise FileNotFoundError(key) from error
            raise
        copy.seek(0)
        return copy

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        except (BotoCoreError, ClientError) as error:
            # As a disk's failure would: the callers keep going (the purge retries).
            raise OSError(f"could not delete stored object {key}") from error

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except Exception as error:
            if _is_missing(error):
                return False
            raise
        return True

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


def _is_missing(error: BaseException) -> bool:
    """An S3 error that says the object does not exist (HEAD answers a bare 404)."""
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


def storage_from_config(config) -> Storage:
    """``STORAGE_URL`` (``s3://bucket/prefix``) when set, else the folder ``STORAGE_DIR``."""
    url = config.get("STORAGE_URL") or ""
    if url:
        parts = urlsplit(url)
        return S3Storage(
            parts.netloc, parts.path, endpoint_url=config.get("S3_ENDPOINT_URL") or None
        )
    return LocalStorage(Path(config["STORAGE_DIR"]))


def init_app(app: Flask) -> None:
    app.extensions["storage"] = storage_from_config(app.config)


def get_storage() -> Storage:
    return current_app.extensions["storage"]
