"""Token introspection for API providers: RFC 7662, and API Particulier's legacy endpoint."""

from __future__ import annotations

from flask import jsonify, request

from datapass import rate_limits
from datapass.api import bp
from datapass.database import reads
from datapass.services import introspection


def _unauthorized():
    response = jsonify(
        error="invalid_client",
        error_description="Identifiants du client absents ou incorrects.",
    )
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Basic realm="datapass"'
    return response


@bp.post("/api/oauth/introspect")
@rate_limits.introspection
@reads  # a lookup: on SQLite, no write lock (the last use is stamped apart, once a minute)
def introspect():
    """RFC 7662: ``{"active": false}`` for anything but an active token of the client's
    definition.

    The API provider authenticates with its introspection client's credentials, in HTTP
    Basic."""
    credentials = request.authorization
    result = None
    if credentials is not None and credentials.type == "basic":
        result = introspection.introspect_for_client(
            credentials.username or "", credentials.password or "", request.form.get("token", "")
        )
    if result is None:
        return _unauthorized()
    response = jsonify(result)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/introspect")
@rate_limits.introspection
def introspect_api_particulier():
    """API Particulier's legacy introspection: the token itself in ``X-Api-Key``; API
    Particulier's tokens only."""
    result = introspection.introspect_legacy(request.headers.get("X-Api-Key", ""))
    if result is None:
        response = jsonify(error="acces_denied", reason="Jeton inconnu ou inactif.")
        response.status_code = 401
        return response
    response = jsonify(result)
    response.headers["Cache-Control"] = "no-store"
    return response
