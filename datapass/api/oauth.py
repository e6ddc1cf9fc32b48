"""OAuth 2 client credentials for developer applications, on authlib's server.

Applications are ``ApiClient`` rows of kind ``developer`` created by users with the developer
role (``/developpeurs/applications``); their secret is shown once and only its SHA-256 kept.
``POST /api/oauth/token`` issues one-hour bearer tokens, also kept as a hash only.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from sqlalchemy import select

from datapass import rate_limits
from datapass.api import bp
from datapass.crypto import digest
from datapass.extensions import db
from datapass.models import ApiClient, OAuthAccessToken
from datapass.models.base import utcnow
from datapass.models.token import CLIENT_DEVELOPER

API_SCOPES = {
    "read_authorizations": "Lire les demandes et les habilitations de vos démarches",
    "write_authorizations": "Créer et modifier des brouillons de demandes",
    "read_webhooks": "Lire l’historique des appels de vos webhooks",
}
ACCESS_TOKEN_LIFETIME = timedelta(hours=1)


class OAuthClient:
    """authlib's client interface over an ``ApiClient`` row."""

    def __init__(self, row: ApiClient):
        self.row = row

    def get_client_id(self):
        return self.row.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        allowed = set(self.row.scopes or [])
        asked = (scope or "").split() or sorted(allowed)
        return " ".join(s for s in asked if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(self.row.secret_hash, digest(client_secret or ""))

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type == "client_credentials"


def query_client(client_id):
    row = db.session.scalar(
        select(ApiClient).where(
            ApiClient.client_id == client_id,
            ApiClient.kind == CLIENT_DEVELOPER,
            ApiClient.revoked_at.is_(None),
        )
    )
    return OAuthClient(row) if row is not None else None


def save_token(token, request):
    # authlib's glue: its server calls this and expects the token stored when it returns,
    # so it commits here (the one commit under datapass/api/).
    db.session.add(
        OAuthAccessToken(
            api_client_id=request.client.row.id,
            token_hash=digest(token["access_token"]),
            scope=token.get("scope", ""),
            expires_at=utcnow() + timedelta(seconds=token["expires_in"]),
        )
    )
    db.session.commit()


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class AccessToken:
    """authlib's token interface over an ``OAuthAccessToken`` row."""

    def __init__(self, row: OAuthAccessToken):
        self.row = row
        self.client = row.client

    def get_scope(self):
        return self.row.scope

    def is_expired(self):
        return self.row.expires_at <= utcnow()

    def is_revoked(self):
        return self.row.revoked_at is not None or self.client.revoked_at is not None


class HashedBearerTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        row = db.session.scalar(
            select(OAuthAccessToken).where(OAuthAccessToken.token_hash == digest(token_string))
        )
        return AccessToken(row) if row is not None else None


server = AuthorizationServer()
require_oauth = ResourceProtector()


@bp.post("/api/oauth/token")
@rate_limits.oauth_token
def issue_token():
    return server.create_token_response()


def init_app(app) -> None:
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {"client_credentials": 3600})
    server.init_app(app, query_client=query_client, save_token=save_token)
    server.register_grant(ClientCredentialsGrant)
    require_oauth.register_token_validator(HashedBearerTokenValidator())
