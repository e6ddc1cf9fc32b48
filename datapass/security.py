"""HTTP security headers for every response."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


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
        # DSFR's scripts set inline styles on elements (collapses, modals).
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


def register(app: Flask) -> None:
    policy = content_security_policy(app)
    production = app.config["DATAPASS_ENV"] == "production"

    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        return response
