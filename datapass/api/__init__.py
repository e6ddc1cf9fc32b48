"""DataPass's machine API: one blueprint, ``api``, for everything machines call.

- ``/api/v1/…``: the developer API (``v1.py``; OpenAPI in ``openapi.yaml``, served at
  ``/api/openapi.yaml``), authenticated by OAuth 2 bearer tokens;
- ``/api/oauth/token``: the OAuth 2 token endpoint (``oauth.py``, authlib's server);
- ``/api/oauth/introspect`` and ``/api/introspect``: API providers' token introspection
  (``introspection.py``), authenticated by HTTP Basic or by the token itself.

No browser session is involved, hence no CSRF token. The modules declare their routes on
``bp``; ``register`` imports them, then registers the blueprint. The developers' pages
(applications, documentation) are the ``developers`` blueprint (``views/developers.py``).
"""

from __future__ import annotations

from flask import Blueprint, Flask

from datapass.extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)  # machine clients authenticate with credentials or tokens, not cookies


def register(app: Flask) -> None:
    from datapass.api import introspection, oauth, v1  # noqa: F401  (declare the routes)

    oauth.init_app(app)
    app.register_blueprint(bp)
