"""Rate limits on the calls that cost us or a partner something (Flask-Limiter).

Each limit is a configuration variable (``config.RATE_LIMITS``, docs/security.md) read at
request time, and counts per caller:

- introspection: per introspection client (HTTP Basic user), or per token (legacy endpoint),
  counted by the fast lane (``api/lane.py``) with the same storage, without Flask;
- the OAuth token endpoint: per client id;
- the sign-in callback: per IP address;
- webhook tests, SIRET look-ups, uploaded files and new drafts: per signed-in user (new drafts
  made through the API: per API client).

Counters live in ``RATELIMIT_STORAGE_URI`` (memory by default; a shared store such as Redis
when several processes serve: ``config.check_server`` refuses production with several
workers on memory). Over a limit: 429 with ``Retry-After``, a French page for people, JSON
under ``/api`` (``views/errors.py``). Keys never hold a secret: tokens are hashed.
"""

from __future__ import annotations

import math
import time

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from datapass.extensions import limiter

# The description of the 429 (the JSON ``detail`` under /api; the page has its own text).
MESSAGE = "Trop de requêtes : patientez avant de réessayer (voir l’en-tête Retry-After)."


def _limit(name: str):
    return lambda: current_app.config[name]


def _user_key() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{get_remote_address()}"


def _oauth_client_key() -> str:
    credentials = request.authorization
    client_id = credentials.username if credentials is not None else None
    client_id = client_id or request.form.get("client_id")
    return f"client:{client_id[:80]}" if client_id else f"ip:{get_remote_address()}"


def _api_client_key() -> str:
    client = g.get("api_client")
    return f"client:{client.client_id}" if client is not None else f"ip:{get_remote_address()}"


def _uploaded_files() -> int:
    return sum(1 for _, file in request.files.items(multi=True) if file.filename)


def _posts_a_siret() -> bool:
    return request.method == "POST" and bool(request.form.get("siret", "").strip())


oauth_token = limiter.limit(
    _limit("RATELIMIT_OAUTH_TOKEN"),
    key_func=_oauth_client_key,
    scope="oauth-token",
    error_message=MESSAGE,
)
sign_in = limiter.limit(_limit("RATELIMIT_SIGN_IN"), key_func=get_remote_address, scope="sign-in")
webhook_pings = limiter.shared_limit(
    _limit("RATELIMIT_WEBHOOK_PINGS"),
    scope="webhook-pings",
    key_func=_user_key,
    exempt_when=lambda: request.method != "POST",
)
sirene_lookups = limiter.shared_limit(
    _limit("RATELIMIT_SIRENE_LOOKUPS"),
    scope="sirene-lookups",
    key_func=_user_key,
    exempt_when=lambda: not _posts_a_siret(),
)
uploads = limiter.limit(
    _limit("RATELIMIT_UPLOADS"),
    key_func=_user_key,
    scope="uploads",
    exempt_when=lambda: _uploaded_files() == 0,
    cost=lambda: max(_uploaded_files(), 1),
)
new_drafts = limiter.shared_limit(
    _limit("RATELIMIT_NEW_DRAFTS"), scope="new-drafts", key_func=_user_key
)
api_new_drafts = limiter.shared_limit(
    _limit("RATELIMIT_NEW_DRAFTS"),
    scope="api-new-drafts",
    key_func=_api_client_key,
    error_message=MESSAGE,
)


def retry_after() -> int | None:
    """Seconds until the limit this request broke lets a call through again."""
    current = limiter.current_limit
    if current is None:
        return None
    return max(1, math.ceil(current.reset_at - time.time()))
