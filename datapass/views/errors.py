"""Error pages: DSFR pages in French, JSON for the API."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

logger = logging.getLogger(__name__)

PAGES = {400, 403, 404, 405, 413, 429, 500}
API_PREFIX = "/api"

CSRF_MESSAGE = (
    "Le formulaire a expiré ou a été envoyé depuis une autre page. Revenez en arrière, "
    "rechargez la page, puis envoyez le formulaire à nouveau."
)


def _is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def _api_response(error: HTTPException):
    code = error.code or 500
    body = {"errors": [{"status": str(code), "title": error.name, "detail": error.description}]}
    return jsonify(body), code


def _copy_headers(error: HTTPException, response):
    # Allow (405), Retry-After (429), WWW-Authenticate (401)… keep their meaning.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_http_error(error: HTTPException):
    code = error.code or 500
    if _is_api_request():
        response, code = _api_response(error)
        return _copy_headers(error, response), code
    if code < 400:
        return error
    template = f"errors/{code if code in PAGES else 'error'}.html"
    try:
        body = render_template(template, error=error, code=code)
    except Exception:
        # The page itself failed (database down…): fall back to Werkzeug's plain page.
        logger.exception("error page %s could not be rendered", code)
        return error.get_response()
    return _copy_headers(error, make_response(body, code))


def handle_csrf_error(error: CSRFError):
    if _is_api_request():
        return handle_http_error(error)
    return render_template("errors/400.html", code=400, message=CSRF_MESSAGE), 400


def handle_internal_error(error: InternalServerError):
    # Leave the session usable for the error page's own queries (current user).
    from datapass.extensions import db

    try:
        db.session.rollback()
    except Exception:
        logger.exception("rollback after an internal error failed")
    return handle_http_error(error)


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(InternalServerError, handle_internal_error)
    app.register_error_handler(HTTPException, handle_http_error)
