"""The machine endpoints' fast lane: the two introspections answered before Flask.

API providers call ``POST /api/oauth/introspect`` and ``GET /api/introspect`` for every
request they serve. ``Lane`` wraps the app's WSGI callable and answers exactly these two
(method, path) pairs itself, without Flask's request and app contexts, hooks, session,
user, CSRF or ORM session: the rate limit (the ``limits`` package that Flask-Limiter uses,
its storage and ``RATELIMIT_*`` values, the same counters), the credentials, one statement
(``services/introspection.py`` on ``database.Connections``), the JSON answer with the
security headers of every response (``security.fixed_headers``).

Anything else goes to Flask, whose answers get the same security headers on their way to
the server (``security.with_fixed_headers``). Flask's routes (``api/introspection.py``)
give the same answers through the same functions: another method (``HEAD``, ``OPTIONS``), a
body that is not a plain url-encoded form of a declared length within ``MAX_REQUEST_BYTES``
(Flask answers 413 or parses multipart), a body that is not UTF-8. An unexpected error is
logged (no token or secret: only the exception) and answered as the API's JSON 500.
"""

from __future__ import annotations

import io
import logging
import math
import time
from functools import lru_cache
from http import HTTPStatus
from typing import NamedTuple
from urllib.parse import parse_qsl

from flask import Flask
from limits import RateLimitItem, parse_many
from werkzeug.datastructures import Authorization
from werkzeug.exceptions import InternalServerError, TooManyRequests

from datapass.crypto import digest
from datapass.database import Connections
from datapass.extensions import limiter
from datapass.rate_limits import MESSAGE
from datapass.security import fixed_headers, with_fixed_headers
from datapass.services import introspection
from datapass.views.errors import api_error_body

logger = logging.getLogger(__name__)

EXTENSION = "datapass_lane"
INTROSPECT_PATH = "/api/oauth/introspect"
LEGACY_PATH = "/api/introspect"
FORM = "application/x-www-form-urlencoded"
RATE_LIMIT_SCOPE = "introspection"  # Flask-Limiter's scope of the same limit


class Answer(NamedTuple):
    status: int
    body: dict
    headers: tuple[tuple[str, str], ...] = ()


UNAUTHORIZED = Answer(
    401,
    {
        "error": "invalid_client",
        "error_description": "Identifiants du client absents ou incorrects.",
    },
    (("WWW-Authenticate", 'Basic realm="datapass"'),),
)
UNKNOWN_TOKEN = Answer(401, {"error": "acces_denied", "reason": "Jeton inconnu ou inactif."})


def rate_limit_key(authorization: Authorization | None, api_key: str, remote_addr: str) -> str:
    """Per introspection client (HTTP Basic user), or per token (hashed), or per address."""
    if authorization is not None and authorization.username:
        return f"client:{authorization.username[:80]}"
    if api_key:
        return f"token:{digest(api_key)[:32]}"
    return f"ip:{remote_addr or '127.0.0.1'}"


@lru_cache(maxsize=16)
def _limit_items(value: str) -> tuple[RateLimitItem, ...]:
    return tuple(sorted(parse_many(value)))


class Lane:
    """The WSGI callable in front of Flask's (``app.wsgi_app``)."""

    def __init__(self, app: Flask, connections: Connections):
        self.app = app
        self.config = app.config
        self.connections = connections
        self.flask = app.wsgi_app
        self.with_fixed_headers = with_fixed_headers(app)
        self.headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
        self.headers += fixed_headers(app)

    # ------------------------------------------------------------ the answers

    def over_limit(self, key: str) -> Answer | None:
        """The 429 when this call breaks ``RATELIMIT_INTROSPECTION`` (counted), else None."""
        if not self.config["RATELIMIT_ENABLED"]:
            return None
        strategy = limiter.limiter
        identifiers = (self.config["RATELIMIT_KEY_PREFIX"], key, RATE_LIMIT_SCOPE)
        for item in _limit_items(self.config["RATELIMIT_INTROSPECTION"]):
            if not strategy.hit(item, *identifiers):
                reset_at = strategy.get_window_stats(item, *identifiers).reset_time
                wait = max(1, math.ceil(reset_at - time.time()))
                body = api_error_body(TooManyRequests(MESSAGE))
                return Answer(429, body, (("Retry-After", str(wait)),))
        return None

    def client_answer(
        self, authorization: Authorization | None, token: str, remote_addr: str
    ) -> Answer:
        """``POST /api/oauth/introspect`` (RFC 7662), the client in HTTP Basic."""
        refused = self.over_limit(rate_limit_key(authorization, "", remote_addr))
        if refused is not None:
            return refused
        if authorization is None or authorization.type != "basic":
            return UNAUTHORIZED
        result = introspection.introspect_for_client(
            self.connections, authorization.username or "", authorization.password or "", token
        )
        return UNAUTHORIZED if result is None else Answer(200, result)

    def legacy_answer(self, api_key: str, remote_addr: str) -> Answer:
        """``GET /api/introspect``: API Particulier's token in ``X-Api-Key``."""
        refused = self.over_limit(rate_limit_key(None, api_key, remote_addr))
        if refused is not None:
            return refused
        result = introspection.introspect_legacy(self.connections, api_key)
        return UNKNOWN_TOKEN if result is None else Answer(200, result)

    def dumps(self, answer: Answer) -> bytes:
        """The JSON of Flask's ``jsonify`` (its provider, compact, newline-terminated)."""
        return (self.app.json.dumps(answer.body, separators=(",", ":")) + "\n").encode()

    # ------------------------------------------------------------ WSGI

    def __call__(self, environ, start_response):
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        if path == INTROSPECT_PATH and method == "POST":
            token = self._form_token(environ)
            if token is None:
                return self.to_flask(environ, start_response)
            call = lambda: self.client_answer(  # noqa: E731
                Authorization.from_header(environ.get("HTTP_AUTHORIZATION")),
                token,
                environ.get("REMOTE_ADDR", ""),
            )
        elif path == LEGACY_PATH and method == "GET":
            call = lambda: self.legacy_answer(  # noqa: E731
                environ.get("HTTP_X_API_KEY", ""), environ.get("REMOTE_ADDR", "")
            )
        else:
            return self.to_flask(environ, start_response)
        try:
            answer = call()
        except Exception:
            if self._propagates():
                raise
            logger.exception("introspection failed (%s)", path)
            answer = Answer(500, api_error_body(InternalServerError()))
        body = self.dumps(answer)
        headers = [*self.headers, *answer.headers, ("Content-Length", str(len(body)))]
        status = HTTPStatus(answer.status)
        start_response(f"{status.value} {status.phrase}", headers)
        return [body]

    def to_flask(self, environ, start_response):
        """Flask's answer, with the security headers of every response."""
        return self.flask(environ, self.with_fixed_headers(start_response))

    def _propagates(self) -> bool:
        """Flask's rule: ``PROPAGATE_EXCEPTIONS``, by default in tests and debug."""
        propagate = self.config["PROPAGATE_EXCEPTIONS"]
        return (self.app.testing or self.app.debug) if propagate is None else propagate

    def _form_token(self, environ) -> str | None:
        """The ``token`` of a plain url-encoded body (``""`` when absent), or None for any
        other body (left to Flask, which reads it again)."""
        if not environ.get("CONTENT_TYPE", "").startswith(FORM):
            return None
        length = environ.get("CONTENT_LENGTH", "")
        limit = self.config["MAX_CONTENT_LENGTH"]
        if not length.isdigit() or environ.get("HTTP_TRANSFER_ENCODING"):
            return None
        if limit is not None and int(length) > limit:
            return None
        body = environ["wsgi.input"].read(int(length))
        try:
            text = body.decode()
        except UnicodeDecodeError:
            environ["wsgi.input"] = io.BytesIO(body)
            return None
        for name, value in parse_qsl(text, keep_blank_values=True):
            if name == "token":
                return value
        return ""


def install(app: Flask) -> Lane:
    """Put the lane in front of the app's WSGI callable (tests bind its connections)."""
    from datapass.extensions import db

    with app.app_context():
        lane = Lane(app, Connections(db.engine))
    app.wsgi_app = lane
    app.extensions[EXTENSION] = lane
    return lane
