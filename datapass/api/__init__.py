"""DataPass's machine API: one blueprint, ``api``, for everything machines call.

- ``/api/v1/…``: the developer API (``v1.py``; OpenAPI in ``openapi.yaml``, served at
  ``/api/openapi.yaml``), authenticated by OAuth 2 bearer tokens;
- ``/api/oauth/token``: the OAuth 2 token endpoint (``oauth.py``, authlib's server);
- ``/api/oauth/introspect`` and ``/api/introspect``: API providers' token introspection
  (``introspection.py``), authenticated by HTTP Basic or by the token itself, answered by
  the fast lane (``lane.py``) in front of Flask.

No browser session is involved, hence no CSRF token. The modules declare their routes on
``bp``; ``register`` imports them, then registers the blueprint. The developers' pages
(applications, documentation) are the ``developers`` blueprint (``views/developers.py``).
"""

from __future__ import annotations

import json
import time

from flask import Blueprint, Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from datapass.extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)  # machine clients authenticate with credentials or tokens, not cookies
MACHINE_PATH_PREFIX = "/api/"


class BrowserSessionInterface(SecureCookieSessionInterface):
    """The signed session cookie, for browsers only: a machine endpoint (``/api/…``) gets
    the null session, so that no cookie is read or verified, no user loaded (Flask-Login finds
    no user id in it) and no cookie sent back (an empty, unmodified session is not saved).

    The signing serializer is built once per set of keys instead of at every request (and
    again to send the cookie): the same keys, salt and signature.

    A cookie is verified (its signature) once per process and set of keys: the exact cookie
    that passed is kept with its timestamp and its JSON (at most ``VERIFIED_COOKIES``), and
    at its next requests only its age is checked again (``PERMANENT_SESSION_LIFETIME``,
    itsdangerous's rule) and its JSON decoded anew into the request's own session. Any other
    value, a single byte changed, goes through itsdangerous as before. What the session
    designates (the server-side session, its user, their roles) is read at every request.
    A kept JSON with none of Flask's tags (a tuple, bytes, a date…: the session's values are
    strings, numbers, lists and dicts) is decoded by ``json.loads`` alone, without Flask's
    scan for tags of every value (the same dict)."""

    VERIFIED_COOKIES = 1024
    # (keys, their serializer, cookie -> (timestamp, its JSON, whether it holds no tag))
    _kept: tuple[tuple, URLSafeTimedSerializer | None, dict[str, tuple[int, str, bool]]] | None
    _kept = None

    def _kept_for(self, app) -> tuple[tuple, URLSafeTimedSerializer | None, dict]:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = self._kept
        if kept is None or kept[0] != keys:
            kept = self._kept = (keys, super().get_signing_serializer(app), {})
        return kept

    def get_signing_serializer(self, app) -> URLSafeTimedSerializer | None:
        return self._kept_for(app)[1]

    def open_session(self, app, request):
        if request.path.startswith(MACHINE_PATH_PREFIX):
            return self.make_null_session(app)
        _, serializer, verified = self._kept_for(app)
        if serializer is None:
            return None  # no secret key: Flask's null session
        # ``in`` first: werkzeug's ``get`` raises and catches an HTTP exception when absent.
        name, cookies = self.get_cookie_name(app), request.cookies
        value = cookies[name] if name in cookies else None  # noqa: SIM401
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = verified.get(value)
        if known is not None:
            signed_at, text, plain = known
            age = int(time.time()) - signed_at
            if 0 <= age <= max_age:
                data = json.loads(text) if plain else self.serializer.loads(text)
                return self.session_class(data)
            verified.pop(value, None)
            return self.session_class()  # itsdangerous's SignatureExpired
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if len(verified) >= self.VERIFIED_COOKIES:
            verified.clear()
        text = self.serializer.dumps(data)
        # Tags (`` t``, `` d``…) make the plain decoding differ from the tagged one.
        verified[value] = (int(signed_at.timestamp()), text, json.loads(text) == data)
        return self.session_class(data)

    def save_session(self, app, session, response) -> None:
        if session.accessed:
            # Flask's ``response.vary.add("Cookie")`` (a header set parsed and written back);
            # the later ones it makes when the cookie is sent find it there.
            vary = response.headers.getlist("Vary")
            if not vary:
                response.headers["Vary"] = "Cookie"
            elif "cookie" not in {part.strip().lower() for v in vary for part in v.split(",")}:
                response.vary.add("Cookie")
            session.accessed = False  # this request's session is being saved: its last use
        if not session.modified and not (
            session and session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]
        ):
            return  # Flask's answer: no cookie to send or delete (``should_set_cookie``)
        super().save_session(app, session, response)


def register(app: Flask) -> None:
    from datapass.api import introspection, lane, oauth, v1  # noqa: F401  (declare the routes)

    app.session_interface = BrowserSessionInterface()
    oauth.init_app(app)
    app.register_blueprint(bp)
    lane.install(app)  # the introspections, answered before Flask
