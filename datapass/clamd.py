"""A small client of clamd, ClamAV's daemon: its INSTREAM command over TCP or a Unix socket.

    scan_stream("tcp://clamav.internal:3310", stream)   # None if clean, else the threat's name

The protocol (clamd(8)): send ``zINSTREAM\\0``, then the content in chunks, each prefixed by
its length as a 4-byte big-endian integer, then a zero-length chunk; clamd answers one line
ending in NUL: ``stream: OK``, ``stream: <signature> FOUND`` or ``<reason> ERROR``.
"""

from __future__ import annotations

import socket
import struct
from typing import BinaryIO
from urllib.parse import urlsplit

CHUNK_SIZE = 64 * 1024
DEFAULT_PORT = 3310
MAX_ANSWER = 4096


class ScannerError(RuntimeError):
    """clamd could not be reached or could not scan; the outbox retries the job."""


def parse_address(address: str) -> tuple[int, str | tuple[str, int]]:
    """``tcp://host:port``, ``host:port`` or ``unix:///path`` → (socket family, address)."""
    address = address.strip()
    if address.startswith("unix://"):
        return socket.AF_UNIX, address[len("unix://") :]
    if address.startswith("/"):
        return socket.AF_UNIX, address
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme != "tcp" or not parts.hostname:
        raise ValueError(f"Invalid clamd address: {address!r}")
    return socket.AF_INET, (parts.hostname, parts.port or DEFAULT_PORT)


def _connect(address: str, timeout: float) -> socket.socket:
    family, target = parse_address(address)
    if family == socket.AF_UNIX:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(target)
        return sock
    return socket.create_connection(target, timeout=timeout)


def _read_answer(sock: socket.socket) -> str:
    answer = b""
    while b"\0" not in answer and len(answer) < MAX_ANSWER:
        chunk = sock.recv(1024)
        if not chunk:
            break
        answer += chunk
    return answer.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def scan_stream(address: str, stream: BinaryIO, *, timeout: float = 30) -> str | None:
    """Send ``stream`` to clamd; None when it is clean, the threat's name when one is found.

    Raises ``ScannerError`` when clamd is unreachable or answers an error (too big, …).
    """
    try:
        with _connect(address, timeout) as sock:
            sock.sendall(b"zINSTREAM\0")
            while chunk := stream.read(CHUNK_SIZE):
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            answer = _read_answer(sock)
    except OSError as error:
        raise ScannerError(f"clamd at {address} unreachable: {error}") from error
    if answer.endswith(" FOUND"):
        threat = answer.removeprefix("stream:").removesuffix(" FOUND").strip()
        return threat or "unknown"
    if answer.endswith("OK"):
        return None
    raise ScannerError(f"clamd answered {answer[:200]!r}")
