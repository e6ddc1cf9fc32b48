"""The bundled local OpenID Connect provider, for development, demonstrations and tests.

It is ``oidc-provider-mock`` (a real authorization server built on authlib) loaded
with the demo users' claims, plus one ProConnect behaviour: the userinfo endpoint
answers a signed JWT (``application/jwt``) instead of JSON, so the app's client is
exercised exactly as in production, and it names itself in the ``idp_id`` claim (``local``,
unless a user's claims say otherwise), as ProConnect names the provider that vouched for the
identity. Never used in production.

    python -m datapass.local_idp --port 5001
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable, Mapping

import flask
import oidc_provider_mock
from joserfc import jwt
from joserfc.jwk import RSAKey
from oidc_provider_mock import User
from oidc_provider_mock import _app as mock_internals
from oidc_provider_mock import _storage as mock_storage

from config import LOCAL_IDP_ID
from datapass.demo import DEMO_USERS

USERINFO_ENDPOINT = "oidc-provider-mock.userinfo"
# The claims a ProConnect identity carries (the demo users' extra keys are not sent).
CLAIM_KEYS = ("email", "given_name", "usual_name", "siret", "phone", "job_title", "uid", "idp_id")


# ProConnect names its scopes after the claims they release (scope ``given_name`` releases
# the ``given_name`` claim), where the mock only knows the OpenID ``profile`` scope.
PROCONNECT_SCOPES = ("given_name", "usual_name", "siret", "phone", "uid", "idp_id", "job_title")
for _claim in ("given_name",):
    mock_internals._SCOPES_TO_CLAIMS.setdefault(_claim, [_claim])
mock_storage.Client.SCOPES_SUPPORTED = tuple(
    dict.fromkeys((*mock_storage.Client.SCOPES_SUPPORTED, *PROCONNECT_SCOPES))
)


def demo_claims(users: Iterable[Mapping] = DEMO_USERS) -> list[User]:
    return [
        User(sub=user["sub"], claims={k: user[k] for k in CLAIM_KEYS if user.get(k)})
        for user in users
    ]


def create_idp_app(
    users: Iterable[User] | None = None,
    *,
    userinfo_jwt: bool = True,
    audience: str = "datapass-local",
    require_nonce: bool = True,
) -> flask.Flask:
    """A Flask app serving the provider; ``userinfo_jwt`` mimics ProConnect's signed userinfo."""
    app = oidc_provider_mock.app(
        user_claims=list(demo_claims() if users is None else users),
        require_nonce=require_nonce,
    )
    original = app.view_functions[USERINFO_ENDPOINT]

    def userinfo():
        response = flask.make_response(original())
        if response.status_code != 200:
            return response
        claims = json.loads(response.get_data())
        # Like ProConnect, name the identity provider that vouched for the identity.
        claims.setdefault("idp_id", LOCAL_IDP_ID)
        if not userinfo_jwt:
            return flask.jsonify(claims)
        now = int(time.time())
        claims.update(iss=flask.request.host_url.rstrip("/"), aud=audience, iat=now, exp=now + 60)
        storage = flask.g.oidc_provider_mock_storage
        key = RSAKey.import_key(storage.jwk.as_dict(is_private=True))
        token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        return flask.Response(token, mimetype="application/jwt")

    app.view_functions[USERINFO_ENDPOINT] = userinfo
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fournisseur d’identité local de DataPass")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--audience", default="datapass-local")
    parser.add_argument("--json-userinfo", action="store_true", help="userinfo as plain JSON")
    args = parser.parse_args(argv)
    app = create_idp_app(userinfo_jwt=not args.json_userinfo, audience=args.audience)
    print(f"Local identity provider on http://{args.host}:{args.port}")
    app.run(host=args.host, port=args.port, debug=False, use_reloader=False)


if __name__ == "__main__":
    main()
