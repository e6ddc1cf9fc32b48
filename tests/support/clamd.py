"""A local server speaking clamd's protocol (PING, INSTREAM), flagging the EICAR test string.

ClamAV's signature database cannot be downloaded here; this stands for clamd in tests:

    with ClamdServer() as server:        # server.address == "tcp://127.0.0.1:<port>"
        ...
    server.scanned  # how many streams it scanned
"""

from __future__ import annotations

import socketserver
import struct
import threading

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Eicar-Test-Signature"
MAX_STREAM = 25 * 1024 * 1024  # clamd's StreamMaxLength default


def _read_exactly(rfile, size: int) -> bytes:
    data = rfile.read(size)
    if len(data) != size:
        raise ConnectionError("stream cut")
    return data


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        command = b""
        while not command.endswith((b"\0", b"\n")):
            byte = self.rfile.read(1)
            if not byte:
                return
            command += byte
        terminator = command[-1:]
        name = command[1:-1] if command[:1] in (b"z", b"n") else command[:-1]
        if name == b"PING":
            self.wfile.write(b"PONG" + terminator)
            return
        if name != b"INSTREAM":
            self.wfile.write(b"UNKNOWN COMMAND" + terminator)
            return
        content = bytearray()
        while True:
            (size,) = struct.unpack("!L", _read_exactly(self.rfile, 4))
            if size == 0:
                break
            content += _read_exactly(self.rfile, size)
            if len(content) > MAX_STREAM:
                self.wfile.write(b"INSTREAM size limit exceeded. ERROR" + terminator)
                return
        self.server.scanned += 1
        if EICAR in content:
            self.wfile.write(f"stream: {SIGNATURE} FOUND".encode() + terminator)
        else:
            self.wfile.write(b"stream: OK" + terminator)


class ClamdServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scanned = 0
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
