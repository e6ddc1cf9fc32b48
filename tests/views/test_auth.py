"""Sign-in through the real authorization-code flow of the local provider."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from datapass.models import Membership, Organization, User, UserSession
from datapass.models.base import utcnow
from datapass.services.users import grant_role
from tests.support.http import post_form
from tests.support.oidc import (
    authorize,
    follow_callback,
    register_identity,
    sign_in,
    start_sign_in,
    tamper,
)

CCAS_SIRET = "26920023400012"


@pytest.fixture
def agent(idp_url):
    sub = "agent-test-ccas"
    register_identity(
        idp_url,
        sub,
        {
            "email": "Agent.Test@ccas-villedemo.fr",
            "given_name": "Léa",
            "usual_name": "Martin",
            "siret": CCAS_SIRET,
            "phone": "01 02 03 04 05",
        },
    )
    return sub


def test_userinfo_of_the_local_provider_is_a_signed_jwt(idp_url, agent):
    authorize_url = tamper(
        f"{idp_url}/oauth2/authorize",
        client_id="probe",
        response_type="code",
        redirect_uri="http://localhost/cb",
        scope="openid email",
        nonce="n",
        state="s",
    )
    code = requests.utils.urlparse(authorize(authorize_url, agent)).query.split("code=")[1]
    code = code.split("&")[0]
    token = requests.post(
        f"{idp_url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost/cb",
        },
        auth=("probe", "secret"),
        timeout=10,
    ).json()
    userinfo = requests.get(
        f"{idp_url}/userinfo",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert userinfo.headers["Content-Type"].startswith("application/jwt")
    assert userinfo.text.count(".") == 2


def test_full_sign_in_maps_claims_user_and_organisation(client, db, agent):
    response = sign_in(client, agent)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/compte")

    user = db.session.scalar(select(User).where(User.sub == agent))
    assert user.email == "agent.test@ccas-villedemo.fr"
    assert (user.given_name, user.family_name, user.phone_number) == (
        "Léa",
        "Martin",
        "01 02 03 04 05",
    )
    assert user.current_organization.siret == CCAS_SIRET
    [membership] = user.memberships
    assert membership.verified and membership.verification_reason == "identity_provider"
    # The registry stand-in did not answer: the organisation is kept, unverified.
    assert user.current_organization.last_refreshed_at is None

    profile = client.get("/compte")
    assert profile.status_code == 200
    assert "Léa Martin" in profile.text
    assert CCAS_SIRET in profile.text


def test_sign_in_renews_the_session(client, db, agent):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in(client, agent)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["datapass_sid"]


def test_next_target_is_honoured_for_same_site_paths(client, db, agent):
    response = sign_in(client, agent, next_url="/mentions-legales?x=1")
    assert response.headers["Location"].endswith("/mentions-legales?x=1")


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "http://localhost.evil.example/",
        "javascript:alert(1)",
        "\\\\evil.example",
    ],
)
def test_open_redirects_are_refused(client, db, agent, target):
    response = sign_in(client, agent, next_url=target)
    location = response.headers["Location"]
    assert "evil" not in location and "javascript" not in location
    assert location.endswith("/compte")


def test_sign_in_without_siret_asks_for_one(client, db, idp_url, sirene_url):
    register_identity(idp_url, "no-siret", {"email": "sans.siret@mairie.example.fr"})
    response = sign_in(client, "no-siret")
    assert "/compte/organisation" in response.headers["Location"]

    page = client.get("/compte/organisation")
    bad = post_form(client, "/compte/organisation", {"siret": "123"}, page=page)
    assert bad.status_code == 200
    assert "14 chiffres" in bad.text
    assert 'value="123"' in bad.text  # what was typed is kept

    good = post_form(client, "/compte/organisation", {"siret": "269 200 234 00012"}, page=page)
    assert good.status_code == 302
    user = db.session.scalar(select(User).where(User.sub == "no-siret"))
    assert user.current_organization.siret == CCAS_SIRET
    assert not user.memberships[0].verified


def test_invalid_siret_claim_does_not_block_sign_in(client, db, idp_url):
    register_identity(idp_url, "bad-siret", {"email": "bad@ccas.example.fr", "siret": "123456"})
    response = sign_in(client, "bad-siret")
    assert "/compte/organisation" in response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Organization)) == 0


def test_tampered_state_is_refused(client, db, agent):
    authorize_url = tamper(start_sign_in(client), state="forged-state")
    response = follow_callback(client, authorize(authorize_url, agent))
    assert response.status_code == 400
    assert "La demande de connexion a expiré" in response.text
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_tampered_nonce_is_refused(client, db, agent):
    authorize_url = tamper(start_sign_in(client), nonce="forged-nonce")
    response = follow_callback(client, authorize(authorize_url, agent))
    assert response.status_code == 400
    assert "La connexion a échoué" in response.text
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_code_issued_to_another_client_is_refused(client, db, agent):
    authorize_url = tamper(start_sign_in(client), client_id="another-client")
    response = follow_callback(client, authorize(authorize_url, agent))
    assert response.status_code == 400
    assert "La connexion a échoué" in response.text


def test_provider_error_is_explained(client, db):
    authorize_url = start_sign_in(client)
    denied = requests.post(
        authorize_url, data={"action": "deny"}, allow_redirects=False, timeout=10
    )
    response = follow_callback(client, denied.headers["Location"])
    assert response.status_code == 400
    assert "Vous avez annulé la connexion" in response.text


def test_callback_without_a_flow_is_refused(client, db):
    response = client.get("/auth/proconnect/callback?code=x&state=y")
    assert response.status_code == 400
    assert "La demande de connexion a expiré" in response.text


def test_sign_out_ends_the_session_and_goes_through_the_provider(client, db, agent, idp_url):
    sign_in(client, agent)
    response = post_form(client, "/deconnexion", page="/compte")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{idp_url}/oauth2/end_session")
    assert "id_token_hint=" in location
    assert "post_logout_redirect_uri=" in location
    assert client.get("/compte").status_code == 302  # signed out
    row = db.session.scalar(select(UserSession))
    assert row.revoked_at is not None


def test_sign_out_everywhere_refuses_other_sessions(app, db, agent):
    first, second = app.test_client(), app.test_client()
    sign_in(first, agent)
    sign_in(second, agent)
    assert second.get("/compte").status_code == 200

    response = post_form(first, "/deconnexion/tous-les-appareils", page="/compte")
    assert response.status_code == 302
    refused = second.get("/compte")
    assert refused.status_code == 302
    assert "/connexion" in refused.headers["Location"]
    assert (
        db.session.scalar(
            select(func.count()).select_from(UserSession).where(UserSession.revoked_at.is_(None))
        )
        == 0
    )


def test_session_expires_after_its_absolute_lifetime(client, db, agent):
    sign_in(client, agent)
    assert client.get("/compte").status_code == 200
    # Time travel: the session started 12 h and 1 min ago.
    row = db.session.scalar(select(UserSession))
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.get("/compte")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "Votre session a expiré" in page.text


def test_banned_user_is_refused(client, db, agent):
    sign_in(client, agent)
    user = db.session.scalar(select(User).where(User.sub == agent))
    user.banned_at = utcnow()
    db.session.commit()
    refused = client.get("/compte")  # the current session is refused, with its own page
    assert refused.status_code == 403
    assert "Compte suspendu" in refused.text
    assert client.get("/compte").status_code == 302  # then anonymous: the sign-in page
    response = sign_in(client, agent)
    assert response.status_code == 403
    assert "suspendu" in response.text


def test_pending_user_is_taken_over_at_first_sign_in(client, db, idp_url):
    grant_role("future.instructrice@dinum.example.gouv.fr", "api_particulier:instructor")
    register_identity(
        idp_url,
        "future-instructor",
        {"email": "future.instructrice@dinum.example.gouv.fr", "siret": "13002526500013"},
    )
    sign_in(client, "future-instructor")
    [user] = db.session.scalars(
        select(User).where(User.email == "future.instructrice@dinum.example.gouv.fr")
    ).all()
    assert user.sub == "future-instructor"
    assert user.has_role("api_particulier", "instructor")


def test_email_bound_to_another_identity_is_refused(client, db, idp_url, agent):
    sign_in(client, agent)
    register_identity(idp_url, "impostor", {"email": "agent.test@ccas-villedemo.fr"})
    other = client.application.test_client()
    response = sign_in(other, "impostor")
    assert response.status_code == 403
    assert "Un autre compte utilise déjà cette adresse" in response.text


def test_switch_current_organisation(client, db, login_as):
    from tests.factories import OrganizationFactory

    user = login_as()
    other = OrganizationFactory()
    user.memberships.append(Membership(organization=other, verified=False))
    db.session.commit()
    page = client.get("/compte")
    url = "/compte/organisation-courante"
    response = post_form(client, url, {"organization_id": other.id}, page=page)
    assert response.status_code == 302
    assert user.current_organization == other
    stranger = OrganizationFactory()
    refused = post_form(client, url, {"organization_id": stranger.id}, page=page)
    assert refused.status_code == 400


def test_state_changing_forms_need_csrf(client, db, login_as):
    login_as()
    assert client.post("/deconnexion/tous-les-appareils").status_code == 400
    assert client.post("/connexion").status_code == 400
