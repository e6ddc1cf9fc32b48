"""Sign-in with OpenID Connect: the provider's answers turned into a user, organisation and session.

authlib speaks the protocol (discovery, state, nonce, ID token signature and claims);
this module adds what ProConnect needs on top: a userinfo endpoint that answers a
signed JWT, verified with the provider's keys, and the mapping of claims. The SIRET sent
makes a verified membership only when the provider that vouched for the identity (its
``idp_id``) is trusted to (``OIDC_SIRET_VERIFIED_IDPS``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy import select

from datapass.extensions import db, oauth
from datapass.models import Organization, User
from datapass.models.base import utcnow
from datapass.models.organization import IDENTITY_PROVIDER, UNTRUSTED_IDENTITY_PROVIDER
from datapass.services import organizations
from datapass.services.sessions import start_session
from datapass.siret import InvalidSiret

logger = logging.getLogger(__name__)

PROVIDER_NAME = "proconnect"


class SignInError(Exception):
    """Sign-in cannot go on; ``message`` is shown to the user (French)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def register_provider(app) -> None:
    """Register the identity provider from the configuration (discovery URL only)."""
    oauth.init_app(app)
    if not app.config.get("OIDC_DISCOVERY_URL"):
        return
    oauth.register(
        PROVIDER_NAME,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=app.config["OIDC_DISCOVERY_URL"],
        # PKCE (S256): a stolen authorization code is useless without this session's verifier.
        client_kwargs={
            "scope": app.config["OIDC_SCOPES"],
            "timeout": 10,
            "code_challenge_method": "S256",
        },
        overwrite=True,
    )


def provider():
    client = oauth.create_client(PROVIDER_NAME)
    if client is None:
        raise SignInError("La connexion n’est pas configurée sur ce serveur.")
    return client


def fetch_userinfo(client, token: dict, id_token_claims: dict) -> dict:
    """Call the userinfo endpoint; accept JSON or a signed JWT (ProConnect) verified with JWKS."""
    metadata = client.load_server_metadata()
    endpoint = metadata.get("userinfo_endpoint")
    if not endpoint:
        return dict(id_token_claims)
    response = client.get(endpoint, token=token)
    response.raise_for_status()
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    if content_type == "application/jwt":
        keys = KeySet.import_key_set(client.fetch_jwk_set())
        decoded = jwt.decode(response.text.strip(), keys)
        registry = JWTClaimsRegistry(
            iss={"essential": False, "value": metadata.get("issuer")},
            sub={"essential": True, "value": id_token_claims["sub"]},
        )
        registry.validate(decoded.claims)
        audience = decoded.claims.get("aud")
        if audience is not None:
            audiences = audience if isinstance(audience, list) else [audience]
            if client.client_id not in audiences:
                raise SignInError("La réponse du fournisseur d’identité ne nous est pas destinée.")
        claims = dict(decoded.claims)
    else:
        claims = response.json()
    if claims.get("sub") != id_token_claims.get("sub"):
        raise SignInError("La réponse du fournisseur d’identité est incohérente.")
    return claims


@dataclass(frozen=True)
class SignInResult:
    user: User
    session_key: str
    organization: Organization | None
    siret_problem: str | None = None
    # Read before the commit, for the page that follows: after it, reading them from
    # ``user`` would load the user, their roles and organisation again.
    full_name: str = ""
    has_organization: bool = False


def _clean(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def find_or_create_user(claims: dict) -> User:
    sub = _clean(claims.get("sub"))
    email = (_clean(claims.get("email")) or "").lower()
    if not sub or not email:
        raise SignInError(
            "Votre fournisseur d’identité n’a pas transmis votre identifiant ou votre adresse "
            "électronique : la connexion est impossible."
        )
    user = db.session.scalar(select(User).where(User.sub == sub))
    if user is None:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and user.sub is not None:
            # Never let one identity take over the account of another.
            logger.warning(
                "sign-in refused: email already bound to another subject (user %s)", user.id
            )
            raise SignInError(
                "Un autre compte utilise déjà cette adresse électronique. "
                "Contactez le support de DataPass."
            )
        if user is None:
            user = User(email=email)
            db.session.add(user)
        user.sub = sub
    user.email = email
    user.given_name = _clean(claims.get("given_name")) or user.given_name
    user.family_name = (
        _clean(claims.get("usual_name")) or _clean(claims.get("family_name")) or user.family_name
    )
    user.phone_number = (
        _clean(claims.get("phone")) or _clean(claims.get("phone_number")) or user.phone_number
    )
    user.job_title = (
        _clean(claims.get("job_title"))
        or _clean(claims.get("belonging_population"))
        or user.job_title
    )
    return user


def siret_vouched_by(idp_id: str | None) -> bool:
    """Is the identity provider ``idp_id`` (ProConnect's claim) trusted to vouch for the SIRET
    it sends? ``OIDC_SIRET_VERIFIED_IDPS`` lists those, ``*`` standing for every one."""
    trusted = current_app.config.get("OIDC_SIRET_VERIFIED_IDPS") or ()
    return "*" in trusted or (idp_id is not None and idp_id in trusted)


def sign_in(claims: dict) -> SignInResult:
    """Map the claims to a user and organisation, start a session, commit."""
    user = find_or_create_user(claims)
    if user.is_banned:
        db.session.rollback()
        raise SignInError("Votre compte a été suspendu. Contactez le support de DataPass.")
    organization = None
    siret_problem = None
    raw_siret = _clean(claims.get("siret"))
    if raw_siret:
        try:
            organization = organizations.find_or_create_organization(raw_siret)
        except InvalidSiret as error:
            siret_problem = error.message
        else:
            vouched = siret_vouched_by(_clean(claims.get("idp_id")))
            organizations.add_membership(
                user,
                organization,
                verified=vouched,
                reason=IDENTITY_PROVIDER if vouched else UNTRUSTED_IDENTITY_PROVIDER,
            )
            user.current_organization = organization
    if user.current_organization is None and user.memberships:
        user.current_organization = user.memberships[0].organization
    user.last_sign_in_at = utcnow()
    key = start_session(user)
    db.session.flush()
    result = SignInResult(
        user,
        key,
        organization,
        siret_problem,
        full_name=user.full_name,
        has_organization=user.current_organization is not None,
    )
    user_id = user.id
    db.session.commit()
    logger.info("user %s signed in", user_id)
    return result


def oidc_configured() -> bool:
    return bool(current_app.config.get("OIDC_DISCOVERY_URL"))
