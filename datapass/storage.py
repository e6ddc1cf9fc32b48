"""Where uploaded files live: a small interface and its local-disk implementation.

Keys are random (``secrets.token_hex(16)``), never derived from what the user sent,
so a file name can neither collide with another nor escape the storage root. An
S3-compatible backend only has to implement the same four methods.
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


def new_key() -> str:
    return secrets.token_hex(16)


class LocalStorage:
    """Files on disk under ``root``, fanned out as ``ab/cd/abcd…`` to keep folders small."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """The file's path; refuses anything but a 32-character lowercase hex key."""
        if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
            raise ValueError(f"Invalid storage key: {key!r}")
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


def init_app(app: Flask) -> None:
    app.extensions["storage"] = LocalStorage(Path(app.config["STORAGE_DIR"]))


def get_storage() -> Storage:
    return current_app.extensions["storage"]
