"""HTTP security headers for every response; the size of every request body; the CSRF
token pages embed."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request, session
from flask_login import current_user

# The only pages that take files: the wizard's steps (the legal block's délibérations).
UPLOAD_ENDPOINTS = frozenset({"applicant.step"})


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _personal(response, req, request_globals) -> bool:
    """A page for a signed-in person, or an answer to a credentialed API call.

    Headers are looked up only when present: werkzeug raises and catches an HTTP exception
    for each one missing. The user is Flask-Login's of this request, loaded if no one has
    read ``current_user`` yet."""
    if req.endpoint == "static":
        return False
    for name, value in response.headers.items():
        if name.lower() == "cache-control" and "no-store" in value:
            return False
    if "HTTP_AUTHORIZATION" in req.environ and req.authorization:
        return True
    user = request_globals.get("_login_user")
    if user is None:
        user = current_user._get_current_object()
    return bool(getattr(user, "is_authenticated", False))


def content_security_policy(app: Flask) -> str:
    # Forms that sign in or out end with a redirect to the identity provider, which
    # browsers check against form-action.
    form_targets = ["'self'"]
    idp = _origin(app.config.get("OIDC_DISCOVERY_URL", ""))
    if idp:
        form_targets.append(idp)
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        # 'unsafe-inline' stays: DSFR's JavaScript sets style attributes at run time
        # (collapses' and accordions' heights, modals, tooltips' positions: ``--collapse``
        # custom properties and ``element.style``), which a CSP without it blocks; hashes
        # and nonces cannot cover attributes set by scripts. Scripts stay strict
        # ('self' only), so an injected style cannot run code (docs/security.md).
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'none'",
        "form-action": " ".join(form_targets),
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def fixed_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers every response carries (``with_fixed_headers``; the fast lane's own
    answers too, ``api/lane.py``)."""
    headers = [
        ("Content-Security-Policy", content_security_policy(app)),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if app.config["DATAPASS_ENV"] == "production":
        headers.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
    return headers


def with_fixed_headers(app: Flask) -> Callable[[Callable], Callable]:
    """The WSGI ``start_response`` wrapper that adds the fixed headers to every answer of
    Flask (``api/lane.py`` puts it around Flask's WSGI callable): to the status and header
    list Flask hands to the server, once it is final, after the hooks, the session's cookie
    and the error handlers. What a view set itself stays (setdefault's behaviour)."""
    fixed = [(name.lower(), name, value) for name, value in fixed_headers(app)]

    def wrap(start_response: Callable) -> Callable:
        def start(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            headers = headers + [(name, value) for key, name, value in fixed if key not in present]
            return start_response(status, headers, exc_info)

        return start

    return wrap


def register(app: Flask) -> None:
    # MAX_CONTENT_LENGTH (MAX_REQUEST_BYTES) bounds every body, url-encoded forms and JSON
    # included; the upload pages (UPLOAD_ENDPOINTS) get MAX_UPLOAD_REQUEST_BYTES, from the
    # request class (``request_cycle.DataPassRequest``). Over it: the French 413.
    app.before_request(reuse_signed_csrf_token)

    @app.after_request
    def _headers(response):
        # The request and ``g`` read once (each read through Flask's proxies is a lookup).
        req, request_globals = request._get_current_object(), g._get_current_object()
        keep_signed_csrf_token(app, req, request_globals)
        if _personal(response, req, request_globals):
            # Requests, steps, instruction, account, habilitations: no cache keeps a copy
            # (the browser's back button after sign-out, a shared proxy).
            response.headers["Cache-Control"] = "no-store"
        return response


# ---------------------------------------------------------------- CSRF token

# How long a signed CSRF token is handed out again to the same session (per process) rather
# than signed anew: Flask-WTF signs the session's token on every page that has a form (a
# serializer, JSON and an HMAC: some 5 % of a list page). The token stays valid
# ``WTF_CSRF_TIME_LIMIT`` (an hour) from its signature: a page given a kept one leaves at
# most this much less time to send its form.
CSRF_TOKEN_REUSE_SECONDS = 60
_MAX_SIGNED_TOKENS = 4096
_REUSED = "datapass_csrf_reused"
# (secret, the session's raw token) -> (its signed form, when signed)
_signed_tokens: dict[tuple[str, str], tuple[str, float]] = {}


def _token_key(app: Flask, req) -> tuple[str, tuple[str, str] | None]:
    config = app.config
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if req.endpoint == "static":  # no form; reading the session would add Vary: Cookie
        return field, None
    raw = session.get(field)
    if not isinstance(raw, str):
        return field, None
    return field, (config.get("WTF_CSRF_SECRET_KEY") or app.secret_key, raw)


def reuse_signed_csrf_token() -> None:
    """Before a request: the session's token signed less than ``CSRF_TOKEN_REUSE_SECONDS``
    ago, put where Flask-WTF looks first (``g``): its forms and the templates'
    ``csrf_token()`` take it as this request's."""
    field, key = _token_key(current_app._get_current_object(), request._get_current_object())
    kept = _signed_tokens.get(key) if key else None
    if kept is not None and time.time() - kept[1] < CSRF_TOKEN_REUSE_SECONDS:
        request_globals = g._get_current_object()
        setattr(request_globals, field, kept[0])
        setattr(request_globals, _REUSED, True)


def keep_signed_csrf_token(app: Flask, req, request_globals) -> None:
    """After a request: the token Flask-WTF signed for it (if any), kept for the next ones.
    A page that signed none (no form, or a kept token) returns before reading the session."""
    signed = request_globals.get(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    if signed is None or request_globals.get(_REUSED):
        return
    _, key = _token_key(app, req)
    if key is None:
        return
    if len(_signed_tokens) >= _MAX_SIGNED_TOKENS:
        _signed_tokens.clear()
    _signed_tokens[key] = (signed, time.time())
