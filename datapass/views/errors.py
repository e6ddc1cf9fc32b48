"""Error pages: DSFR pages in French, JSON for the API."""

from __future__ import annotations

import logging

from flask import Flask, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden, HTTPException, InternalServerError

from datapass import database
from datapass.errors import UserError

logger = logging.getLogger(__name__)

PAGES = {400, 403, 404, 405, 413, 429, 500}
API_PREFIX = "/api"

CSRF_MESSAGE = (
    "Le formulaire a expiré ou a été envoyé depuis une autre page. Revenez en arrière, "
    "rechargez la page, puis envoyez le formulaire à nouveau."
)


class AccountSuspended(Forbidden):
    """A banned user's request (or sign-in): refused with its own French page."""

    description = "Votre compte a été suspendu. Contactez le support de DataPass."


def handle_account_suspended(error: AccountSuspended):
    if _is_api_request():
        return handle_http_error(error)
    return render_template("errors/suspended.html", code=403), 403


def _is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def api_error_body(error: HTTPException) -> dict:
    """The API's JSON error (the introspections' fast lane, ``api/lane.py``, answers it too)."""
    code = str(error.code or 500)
    return {"errors": [{"status": code, "title": error.name, "detail": error.description}]}


def _api_response(error: HTTPException):
    return jsonify(api_error_body(error)), error.code or 500


def _copy_headers(error: HTTPException, response):
    # Allow (405), Retry-After (429), WWW-Authenticate (401)… keep their meaning.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _with_retry_after(error: HTTPException, response):
    if error.code == 429 and "Retry-After" not in response.headers:
        from datapass.rate_limits import retry_after

        seconds = retry_after()
        if seconds is not None:
            response.headers["Retry-After"] = str(seconds)
    return response


def handle_http_error(error: HTTPException):
    if (error.code or 500) < 400:
        return error
    response, code = _error_response(error)
    return _with_retry_after(error, response), code


def _error_response(error: HTTPException):
    code = error.code or 500
    if _is_api_request():
        response, code = _api_response(error)
        return _copy_headers(error, response), code
    template = f"errors/{code if code in PAGES else 'error'}.html"
    try:
        body = render_template(template, error=error, code=code)
    except Exception:
        # The page itself failed (database down…): fall back to Werkzeug's plain page.
        logger.exception("error page %s could not be rendered", code)
        return error.get_response(), code
    return _copy_headers(error, make_response(body, code)), code


def handle_csrf_error(error: CSRFError):
    if _is_api_request():
        return handle_http_error(error)
    return render_template("errors/400.html", code=400, message=CSRF_MESSAGE), 400


def handle_internal_error(error: InternalServerError):
    # Leave the session usable for the error page's own queries (current user).
    database.discard_changes()
    return handle_http_error(error)


def handle_user_error(error: UserError):
    """A refusal no view caught: its French message, where the user came from.

    Views that show the message next to a field catch ``UserError`` themselves; the others
    let it through to here. The session is rolled back (services already did, this is a
    net), the message flashed, and the user sent back to the page they came from (a page
    of this site), or home; under ``/api`` a JSON 422.
    """
    database.discard_changes()
    if _is_api_request():
        body = {"errors": [{"status": "422", "title": "Refusé", "detail": error.message}]}
        return jsonify(body), 422
    from datapass.views.auth import safe_next

    flash(error.message, "error")
    return redirect(safe_next(request.referrer) or url_for("public.home"), code=303)


def register(app: Flask) -> None:
    app.register_error_handler(UserError, handle_user_error)
    app.register_error_handler(AccountSuspended, handle_account_suspended)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(InternalServerError, handle_internal_error)
    app.register_error_handler(HTTPException, handle_http_error)
