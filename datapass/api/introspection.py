"""Token introspection for API providers: RFC 7662, and API Particulier's legacy endpoint."""

from __future__ import annotations

from flask import jsonify, request

from datapass import rate_limits
from datapass.api import bp
from datapass.services import tokens


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
def introspect():
    """RFC 7662: ``{"active": false}`` for anything but an active token of the client's
    definition.

    The API provider authenticates with its introspection client's credentials, in HTTP
    Basic."""
    credentials = request.authorization
    client = None
    if credentials is not None and credentials.type == "basic":
        client = tokens.authenticate_client(credentials.username or "", credentials.password or "")
    if client is None:
        return _unauthorized()
    response = jsonify(tokens.introspect(client, request.form.get("token", "")))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/introspect")
@rate_limits.introspection
def introspect_api_particulier():
    """API Particulier's legacy introspection: the token itself in ``X-Api-Key``; API
    Particulier's tokens only."""
    token = tokens.find_active(
        request.headers.get("X-Api-Key", ""),
        definition_id=tokens.LEGACY_INTROSPECTION_DEFINITION,
    )
    if token is None:
        response = jsonify(error="acces_denied", reason="Jeton inconnu ou inactif.")
        response.status_code = 401
        return response
    response = jsonify(
        _id=token.jti,
        name=token.authorization.request.intitule or "",
        scopes=token.scopes,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
