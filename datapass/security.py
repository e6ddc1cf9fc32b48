"""HTTP security headers for every response; the size of every request body."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request
from flask_login import current_user

# The only pages that take files: the wizard's steps (the legal block's délibérations).
UPLOAD_ENDPOINTS = frozenset({"applicant.step"})


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _personal(response) -> bool:
    """A page for a signed-in person, or an answer to a credentialed API call."""
    if request.endpoint == "static" or "no-store" in (response.headers.get("Cache-Control") or ""):
        return False
    return bool(request.authorization) or bool(getattr(current_user, "is_authenticated", False))


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
    """The headers every response carries (the fast lane's answers too, ``api/lane.py``)."""
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


def register(app: Flask) -> None:
    fixed = fixed_headers(app)

    def _bound_request_body():
        # MAX_CONTENT_LENGTH (MAX_REQUEST_BYTES) bounds every body, url-encoded forms and JSON
        # included; the upload pages get MAX_UPLOAD_REQUEST_BYTES. Over it: the French 413.
        if request.endpoint in UPLOAD_ENDPOINTS:
            request.max_content_length = app.config["MAX_UPLOAD_REQUEST_BYTES"]

    # First of all hooks: CSRF protection reads the form, with the limit it finds then.
    app.before_request_funcs.setdefault(None, []).insert(0, _bound_request_body)

    fixed = [(name.lower(), name, value) for name, value in fixed]

    @app.after_request
    def _headers(response):
        # What a view set itself stays (setdefault's behaviour, one pass instead of a scan
        # of the headers per name).
        headers = response.headers
        present = {name.lower() for name, _ in headers.items()}
        headers.extend([(name, value) for key, name, value in fixed if key not in present])
        if _personal(response):
            # Requests, steps, instruction, account, habilitations: no cache keeps a copy
            # (the browser's back button after sign-out, a shared proxy).
            headers["Cache-Control"] = "no-store"
        return response
