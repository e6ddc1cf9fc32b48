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

from flask import Blueprint, Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from datapass.extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)  # machine clients authenticate with credentials or tokens, not cookies
MACHINE_PATH_PREFIX = "/api/"


class BrowserSessionInterface(SecureCookieSessionInterface):
    """The signed session cookie, for browsers only: a machine endpoint (``/api/…``) gets
    the null session, so that no cookie is read or verified, no user loaded (Flask-Login finds
    no user id in it) and no cookie sent back (an empty, unmodified session is not saved).

    The signing serializer is built once per set of keys instead of at every request (and
    again to send the cookie): the same keys, salt and signature, each cookie verified as
    before (``loads`` checks the signature and the age at every call)."""

    _kept: tuple[tuple, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = self._kept
        if kept is None or kept[0] != keys:
            kept = self._kept = (keys, super().get_signing_serializer(app))
        return kept[1]

    def open_session(self, app, request):
        if request.path.startswith(MACHINE_PATH_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


def register(app: Flask) -> None:
    from datapass.api import introspection, lane, oauth, v1  # noqa: F401  (declare the routes)

    app.session_interface = BrowserSessionInterface()
    oauth.init_app(app)
    app.register_blueprint(bp)
    lane.install(app)  # the introspections, answered before Flask
