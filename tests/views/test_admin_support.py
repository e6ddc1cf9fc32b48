"""Administrators' support tools (/admin): users, bans, impersonation, organisations,
the transfer of a request to another organisation, and the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from datapass.extensions import db as _db
from datapass.models import AuditEntry, AuthorizationRequestEvent, OutboxJob, UserSession
from datapass.models.audit import (
    IMPERSONATED_WRITE,
    IMPERSONATION_STARTED,
    IMPERSONATION_STOPPED,
    REQUEST_TRANSFERRED,
    ROLE_GRANTED,
    ROLE_REVOKED,
    USER_BANNED,
    USER_UNBANNED,
    AuditLogIsAppendOnly,
)
from datapass.models.base import utcnow
from datapass.services import decisions, tokens
from datapass.services.impersonation import ImpersonationForbidden
from tests.factories import OrganizationFactory, UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import post_form, reload
from tests.views.test_instruction_admin import count_queries

BANNER = 'id="impersonation-notice-title">Vous agissez en tant que'


def entries(kind: str) -> list[AuditEntry]:
    _db.session.expire_all()
    return list(
        _db.session.scalars(
            select(AuditEntry).where(AuditEntry.kind == kind).order_by(AuditEntry.id)
        )
    )


@pytest.fixture
def admin(login_as):
    return login_as(roles=["admin"], email="support@datapass.example.gouv.fr")


# ---------------------------------------------------------------- users


def test_users_are_found_by_email_name_and_siret(client, db, admin):
    organization = OrganizationFactory(siret="21920023500014")
    found = UserFactory(email="louise.dupont@mairie.example.fr", family_name="Dupont")
    colleague = UserFactory(current_organization=organization, family_name="Bernard")
    other = UserFactory(family_name="Durand")
    db.session.commit()
    by_email = client.get("/admin/utilisateurs?q=louise.dupont").text
    assert found.email in by_email and other.email not in by_email
    by_name = client.get("/admin/utilisateurs?q=camille bernard").text
    assert colleague.email in by_name and found.email not in by_name
    by_siret = client.get("/admin/utilisateurs?q=219 200 235 00014").text
    assert colleague.email in by_siret and found.email not in by_siret


def test_the_user_list_pages_by_keyset_in_constant_queries(client, db, admin):
    for _ in range(3):
        UserFactory()
    few = count_queries(client, "/admin/utilisateurs")
    for _ in range(30):
        UserFactory()
    assert count_queries(client, "/admin/utilisateurs") == few
    first = client.get("/admin/utilisateurs").text
    assert first.count('href="/admin/utilisateurs/') == 25
    cursor = first.split('href="/admin/utilisateurs?avant=')[1].split('"')[0]
    second = client.get(f"/admin/utilisateurs?avant={cursor}").text
    assert second.count('href="/admin/utilisateurs/') == 34 - 25  # 33 agents and the admin


def test_a_role_is_granted_with_a_reason_audited_and_emailed(client, db, admin):
    other_admin = UserFactory(roles=["admin"])
    agent = UserFactory()
    db.session.commit()
    url = f"/admin/utilisateurs/{agent.id}/roles"
    page = f"/admin/utilisateurs/{agent.id}"
    refused = post_form(client, url, {"grant-role": "api_particulier:instructor"}, page=page)
    assert refused.status_code == 422
    assert "Indiquez le motif." in refused.text
    assert 'value="api_particulier:instructor"' in refused.text  # nothing typed is lost
    assert "api_particulier:instructor" not in reload(agent).roles
    unknown = post_form(client, url, {"grant-role": "api_inconnue:chef", "grant-reason": "x"})
    assert unknown.status_code == 422 and "Ce rôle n’existe pas" in unknown.text

    response = post_form(
        client,
        url,
        {"grant-role": "api_particulier:instructor", "grant-reason": "Renfort de l’équipe"},
        page=page,
    )
    assert response.status_code == 302
    assert "api_particulier:instructor" in reload(agent).roles
    [entry] = entries(ROLE_GRANTED)
    assert (entry.actor_id, entry.target_user_id) == (admin.id, agent.id)
    assert entry.reason == "Renfort de l’équipe"
    assert entry.details == {"role": "api_particulier:instructor"}
    [job] = [j for j in db.session.scalars(select(OutboxJob)) if j.payload["key"] == "role_changed"]
    assert job.payload["to"] == sorted([admin.email, other_admin.email])
    assert agent.email in job.payload["text"] and "Renfort de l’équipe" in job.payload["text"]

    revoked = post_form(
        client,
        f"/admin/utilisateurs/{agent.id}/roles/retrait",
        {"revoke-role": "api_particulier:instructor", "revoke-reason": "Départ"},
        page=page,
    )
    assert revoked.status_code == 302
    assert "api_particulier:instructor" not in reload(agent).roles
    assert [e.reason for e in entries(ROLE_REVOKED)] == ["Départ"]


# ---------------------------------------------------------------- bans


def test_a_ban_ends_every_session_at_once(app, client, db, admin):
    agent = UserFactory()
    db.session.commit()
    agent_client = app.test_client()
    from datapass.services.sessions import start_session
    from datapass.views.auth import SESSION_KEY

    for browser in (agent_client, app.test_client()):
        key = start_session(agent)
        db.session.commit()
        with browser.session_transaction() as session:
            session[SESSION_KEY] = key
            session["_user_id"] = str(agent.id)
    assert agent_client.get("/tableau-de-bord").status_code == 200

    page = f"/admin/utilisateurs/{agent.id}"
    url = f"/admin/utilisateurs/{agent.id}/suspension"
    missing = post_form(client, url, {"ban-reason": "  "}, page=page)
    assert missing.status_code == 422 and "Indiquez le motif" in missing.text
    assert (
        post_form(client, url, {"ban-reason": "Usurpation signalée"}, page=page).status_code == 302
    )

    refused = agent_client.get("/tableau-de-bord")
    assert refused.status_code == 403
    assert "Compte suspendu" in refused.text and "<title>" in refused.text
    sessions = db.session.scalars(select(UserSession).where(UserSession.user_id == agent.id))
    assert all(row.revoked_at is not None for row in sessions)
    [entry] = entries(USER_BANNED)
    assert entry.reason == "Usurpation signalée" and entry.target_user_id == agent.id
    assert "Compte suspendu" in client.get(page).text

    unban = post_form(
        client, f"/admin/utilisateurs/{agent.id}/reactivation", {"unban-reason": "Levée"}, page=page
    )
    assert unban.status_code == 302
    assert not reload(agent).is_banned
    assert [e.reason for e in entries(USER_UNBANNED)] == ["Levée"]


def test_an_admin_cannot_ban_themselves(client, db, admin):
    page = f"/admin/utilisateurs/{admin.id}"
    response = post_form(client, f"{page}/suspension", {"ban-reason": "Essai"}, page=page)
    assert response.status_code == 303
    assert not reload(admin).is_banned


# ---------------------------------------------------------------- impersonation


def impersonate(client, user, reason="Ticket 4242"):
    page = f"/admin/utilisateurs/{user.id}"
    return post_form(
        client,
        f"/admin/utilisateurs/{user.id}/se-connecter-en-tant-que",
        {"impersonate-reason": reason},
        page=page,
    )


def test_impersonation_needs_a_reason_and_shows_a_banner_on_every_page(client, db, admin):
    authorization_request = submitted_request()
    applicant = authorization_request.applicant
    db.session.commit()
    missing = impersonate(client, applicant, reason="")
    assert missing.status_code == 422 and "Indiquez le motif." in missing.text
    assert BANNER not in client.get("/tableau-de-bord").text

    response = impersonate(client, applicant)
    assert response.status_code == 302 and response.headers["Location"] == "/tableau-de-bord"
    for path in ("/tableau-de-bord", f"/demandes/{authorization_request.id}", "/compte"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert f"{BANNER} {applicant.full_name}" in page.text, path
        assert ">Arrêter</button>" in page.text
    assert client.get("/admin/utilisateurs").status_code == 403  # acting as the agent
    [started] = entries(IMPERSONATION_STARTED)
    assert (started.actor_id, started.target_user_id) == (admin.id, applicant.id)
    assert started.reason == "Ticket 4242"

    stopped = post_form(client, "/admin/en-tant-que/arreter", page="/tableau-de-bord")
    assert stopped.status_code == 302
    assert BANNER not in client.get("/admin/utilisateurs").text
    [stop] = entries(IMPERSONATION_STOPPED)
    assert stop.actor_id == admin.id and stop.details == {"expired": False}


def test_writes_made_while_impersonating_carry_both_identities(client, db, admin):
    authorization_request = submitted_request()
    applicant = authorization_request.applicant
    db.session.commit()
    impersonate(client, applicant)
    response = post_form(
        client,
        f"/demandes/{authorization_request.id}/messages",
        {"body": "Question posée pour la personne, au téléphone."},
        page=f"/demandes/{authorization_request.id}",
    )
    assert response.status_code in (302, 303)
    event = db.session.scalar(
        select(AuthorizationRequestEvent)
        .where(AuthorizationRequestEvent.name == "applicant_message")
        .order_by(AuthorizationRequestEvent.id.desc())
    )
    assert event.user_id == applicant.id
    assert event.payload["impersonated_by"] == admin.email
    writes = entries(IMPERSONATED_WRITE)
    assert writes and all(
        (w.actor_id, w.impersonator_id) == (applicant.id, admin.id) for w in writes
    )
    assert "messages" in writes[0].details["tables"]


def test_no_token_nor_decision_while_impersonating(client, db, admin):
    authorization_request = submitted_request()
    instructor = UserFactory(roles=["api_particulier:instructor"])
    decisions.decide(
        authorization_request, "approve", instructor, version=authorization_request.version
    )
    [authorization] = authorization_request.authorizations
    token = tokens.current_token(authorization)
    applicant = authorization_request.applicant
    other = submitted_request()
    db.session.commit()

    impersonate(client, applicant)
    page = client.get(f"/habilitations/{authorization.id}")
    assert page.status_code == 200 and "Afficher le jeton" not in page.text
    for action in ("jeton/afficher", "jeton/renouveler", "prolongation"):
        response = post_form(client, f"/habilitations/{authorization.id}/{action}", page=page)
        assert response.status_code == 403, action
    assert reload(token).sealed_value is not None

    post_form(client, "/admin/en-tant-que/arreter", page="/tableau-de-bord")
    impersonate(client, instructor)
    url = f"/instruction/demandes/{other.id}/decisions/refuse"
    request_page = f"/instruction/demandes/{other.id}"  # the decision page is not shown
    refused = post_form(
        client, url, {"reason": "Non", "version": str(other.version)}, page=request_page
    )
    assert refused.status_code == 303
    assert reload(other).state == "submitted"

    # The services refuse too, whoever calls them.
    instructor.impersonator = admin
    applicant.impersonator = admin
    with pytest.raises(ImpersonationForbidden):
        decisions.decide(other, "refuse", instructor, version=other.version, reason="Non")
    with pytest.raises(ImpersonationForbidden):
        tokens.reveal(token, applicant)
    with pytest.raises(ImpersonationForbidden):
        tokens.rotate(authorization, applicant)
    with pytest.raises(ImpersonationForbidden):
        tokens.prolong(authorization, applicant)
    instructor.impersonator = applicant.impersonator = None


def test_impersonation_ends_at_its_time_limit(app, client, db, admin):
    applicant = UserFactory()
    db.session.commit()
    impersonate(client, applicant)
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == admin.id))
    assert row.impersonation_expires_at - utcnow() <= timedelta(
        minutes=app.config["IMPERSONATION_MAX_MINUTES"]
    )
    row.impersonation_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    page = client.get("/admin/utilisateurs")
    assert page.status_code == 200  # the administrator again
    assert BANNER not in page.text
    assert "La connexion « en tant que » a pris fin" in page.text
    [stop] = entries(IMPERSONATION_STOPPED)
    assert stop.details == {"expired": True}


def test_no_impersonation_of_an_admin_or_a_banned_user(client, db, admin):
    other_admin = UserFactory(roles=["admin"])
    banned = UserFactory()
    banned.banned_at = utcnow()
    db.session.commit()
    for target in (other_admin, banned):
        response = impersonate(client, target)
        assert response.status_code == 303, target
        assert BANNER not in client.get("/tableau-de-bord").text
    assert entries(IMPERSONATION_STARTED) == []


def test_stopping_without_impersonating_is_refused(client, db, login_as):
    login_as()
    assert (
        post_form(client, "/admin/en-tant-que/arreter", page="/tableau-de-bord").status_code == 403
    )


# ---------------------------------------------------------------- organisations


def test_the_organisation_page_lists_members_requests_and_habilitations(client, db, admin):
    authorization_request = submitted_request()
    organization = authorization_request.organization
    unverified = UserFactory(current_organization=None, email="nouvelle@ccas.example.fr")
    from datapass.models import Membership

    unverified.memberships.append(Membership(organization=organization, verified=False))
    db.session.commit()
    few = count_queries(client, f"/admin/organisations/{organization.id}")
    page = client.get(f"/admin/organisations/{organization.id}").text
    assert authorization_request.applicant.email in page and unverified.email in page
    assert "Non vérifié" in page and f">D{authorization_request.id}<" in page
    for _ in range(3):
        submitted_request(authorization_request.applicant)
    assert count_queries(client, f"/admin/organisations/{organization.id}") == few


def test_an_admin_transfers_a_request_to_another_organisation(client, db, admin):
    authorization_request = submitted_request()
    instructor = UserFactory(roles=["api_particulier:instructor"])
    decisions.decide(
        authorization_request, "approve", instructor, version=authorization_request.version
    )
    source = authorization_request.organization
    target_agent = UserFactory(email="agent@cias.example.fr")
    target = target_agent.current_organization
    db.session.commit()
    url = f"/admin/organisations/{source.id}/transfert"
    page = f"/admin/organisations/{source.id}"
    data = {
        "request_id": str(authorization_request.id),
        "siret": target.siret,
        "email": target_agent.email,
        "reason": "",
    }
    missing = post_form(client, url, data, page=page)
    assert missing.status_code == 422 and "Indiquez le motif." in missing.text
    stranger = post_form(client, url, {**data, "email": admin.email, "reason": "Fusion"}, page=page)
    assert stranger.status_code == 422 and "membre vérifié" in stranger.text
    assert reload(authorization_request).organization_id == source.id

    done = post_form(client, url, {**data, "reason": "Fusion des CCAS"}, page=page)
    assert done.status_code == 302, done.text
    moved = reload(authorization_request)
    assert (moved.organization_id, moved.applicant_id) == (target.id, target_agent.id)
    assert all(a.organization_id == target.id for a in moved.authorizations)
    event = moved.events[-1]
    assert event.name == "transfer" and event.reason == "Fusion des CCAS"
    [entry] = entries(REQUEST_TRANSFERRED)
    assert entry.actor_id == admin.id and entry.authorization_request_id == moved.id
    assert entry.details == {"from_siret": source.siret, "to_siret": target.siret}


# ---------------------------------------------------------------- the journal


def test_the_journal_filters_and_pages(client, db, admin):
    from datapass.services import audit

    other = UserFactory(email="autre.admin@datapass.example.gouv.fr", roles=["admin"])
    for index in range(55):
        audit.record(USER_BANNED, actor=admin, reason=f"Motif {index}")
    audit.record(ROLE_GRANTED, actor=other, reason="Par l’autre")
    db.session.commit()
    first = client.get("/admin/journal?kind=user_banned").text
    assert first.count("Motif ") == 50 and "Par l’autre" not in first
    cursor = first.split("avant=")[1].split('"')[0]
    second = client.get(f"/admin/journal?kind=user_banned&avant={cursor}").text
    assert second.count("Motif ") == 5 and "Motif 0<" in second
    by_actor = client.get(f"/admin/journal?actor={other.email}").text
    assert "Par l’autre" in by_actor and "Motif 1" not in by_actor
    today = utcnow().date()
    future = (today + timedelta(days=2)).isoformat()
    assert "Aucune action." in client.get(f"/admin/journal?since={future}").text
    bad = client.get(f"/admin/journal?since={future}&until={today.isoformat()}")
    assert bad.status_code == 422 and "La date de fin doit suivre" in bad.text


def test_the_journal_is_never_editable(client, db, admin):
    from datapass.services import audit

    entry = audit.record(USER_BANNED, actor=admin, reason="Trace")
    db.session.commit()
    entry.reason = "Effacé"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(reload(entry))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert reload(entry).reason == "Trace"
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)("/admin/journal").status_code in (400, 405)


def test_client_and_webhook_changes_are_journaled(client, db, admin):
    response = post_form(
        client,
        "/admin/clients",
        {"name": "API Particulier (recette)", "definition_id": "api_particulier"},
    )
    assert response.status_code == 200
    [entry] = entries("client_changed")
    assert entry.actor_id == admin.id
    assert entry.details["change"] == "created"
    assert entry.details["label"] == "API Particulier (recette)"


def test_the_journal_answers_in_constant_queries(client, db, admin):
    from datapass.services import audit

    def some_entries(count):
        for _ in range(count):
            agent = UserFactory()
            audit.record(ROLE_GRANTED, actor=admin, target_user=agent, reason="Renfort")
        db.session.commit()

    some_entries(2)
    few = count_queries(client, "/admin/journal")
    some_entries(20)
    assert count_queries(client, "/admin/journal") == few


def test_webhook_changes_are_journaled_with_their_author(client, db, login_as):
    developer = login_as(roles=["api_particulier:developer"])
    from datapass.models import Webhook
    from datapass.services import webhooks

    webhook = Webhook(
        definition_id="api_particulier",
        url="https://fournisseur.example.fr/hook",
        events=["approve"],
        sealed_secret=webhooks.seal("secret"),
        created_by_id=developer.id,
    )
    db.session.add(webhook)
    db.session.commit()
    webhook.consecutive_failures = 3  # a delivery counter: not a change of the webhook
    db.session.commit()
    webhook.enabled = True
    db.session.commit()
    created, changed = entries("webhook_changed")
    assert created.details["change"] == "created" and created.actor_id is None  # no request
    assert changed.details == {
        "change": "changed",
        "fields": ["enabled"],
        "label": "https://fournisseur.example.fr/hook",
    }


def test_a_manager_granting_on_the_rights_page_is_the_journaled_actor(client, db, login_as):
    manager = login_as(roles=["api_particulier:manager"])
    colleague = UserFactory(email="collegue@ccas.example.fr")
    data = {"email": colleague.email, "role": "instructor"}
    response = post_form(client, "/instruction/api_particulier/droits", data)
    assert response.status_code == 302
    [entry] = entries(ROLE_GRANTED)
    assert (entry.actor_id, entry.target_user_id) == (manager.id, colleague.id)
    assert entry.details == {"role": "api_particulier:instructor"}
