"""Writes a request did not declare: the statement that would fail under load on SQLite.

A request's transaction takes SQLite's write lock when it begins only if it may write
(``datapass.database.may_write``: unsafe methods, ``@writes`` views, ``write_intent``
blocks). A write in a transaction begun without it fails at once with ``database is
locked`` when another connection wrote meanwhile. The suite runs every request inside the
test's own transaction, so it never sees which BEGIN a request would emit: this recorder
checks, at every write statement of a request, that the request had declared it may write.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, has_request_context, request, request_started, request_tearing_down
from sqlalchemy import event
from sqlalchemy.engine import Engine

from datapass.database import _write_intent, may_write

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@contextmanager
def undeclared_writes(app: Flask, session, engine: Engine) -> Iterator[list[str]]:
    """« METHOD path: statement » for each write of a request that had not declared it, or
    made outside requests in a block declared as reading (the worker's deliveries).

    Only requests the app serves count (between Flask's ``request_started`` and its
    teardown), not a test's own rows written inside a ``test_request_context``."""
    found: list[str] = []
    serving = threading.local()

    def started(_sender, **_extra):
        # The test's own pending rows (factories) go first: not the request's writes.
        session.flush()
        serving.active = True

    def finished(_sender, **_extra):
        serving.active = False

    def check(_connection, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(WRITES) or may_write():
            return
        first_line = statement.split("\n")[0]
        if _write_intent.get() is False:  # the worker's deliveries (write_intent(False))
            found.append(f"in a block declared as reading: {first_line}")
        elif has_request_context() and getattr(serving, "active", False):
            found.append(f"{request.method} {request.path}: {first_line}")

    request_started.connect(started, app)
    request_tearing_down.connect(finished, app)
    event.listen(engine, "before_cursor_execute", check)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", check)
        request_started.disconnect(started, app)
        request_tearing_down.disconnect(finished, app)
