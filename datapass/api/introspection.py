"""Token introspection for API providers: RFC 7662, and API Particulier's legacy endpoint.

The calls are answered by the fast lane (``api/lane.py``) before Flask. These routes name
the endpoints (``url_for``) and answer, through the same functions, what the lane leaves to
Flask: ``HEAD``, bodies that are not a plain url-encoded form (multipart, over the size
limit: Flask's 413), bodies that are not UTF-8.
"""

from __future__ import annotations

from flask import Response, current_app, request

from datapass.api import bp
from datapass.api.lane import EXTENSION, Answer


def _response(answer: Answer) -> Response:
    lane = current_app.extensions[EXTENSION]
    response = Response(lane.dumps(answer), answer.status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers.extend(answer.headers)
    return response


@bp.post("/api/oauth/introspect")
def introspect():
    """RFC 7662: ``{"active": false}`` for anything but an active token of the client's
    definition. The API provider authenticates with its introspection client's
    credentials, in HTTP Basic."""
    lane = current_app.extensions[EXTENSION]
    return _response(
        lane.client_answer(
            request.authorization, request.form.get("token", ""), request.remote_addr or ""
        )
    )


@bp.get("/api/introspect")
def introspect_api_particulier():
    """API Particulier's legacy introspection: the token itself in ``X-Api-Key``; API
    Particulier's tokens only."""
    lane = current_app.extensions[EXTENSION]
    return _response(
        lane.legacy_answer(request.headers.get("X-Api-Key", ""), request.remote_addr or "")
    )
