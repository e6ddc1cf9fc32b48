"""The signed-in user of a page that only reads: a read-only ``SessionUser`` built from the
session's one Core statement, its ORM ``User`` (``entity``) loaded only when some code needs
it; in a request that may write, the ORM ``User`` itself."""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import select
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm.exc import UnmappedInstanceError

from datapass.models import AuditEntry, AuthorizationRequest, User
from datapass.models.user import SessionUser
from datapass.services import sessions, support, users
from datapass.views.auth import SESSION_KEY
from tests.factories import UserFactory
from tests.support.http import post_form
from tests.support.queries import recorded_statements
from tests.views.test_admin_support import BANNER, impersonate

QUEUE = "/instruction/tableau-de-bord/demandes?tri=recent"
ROLE = "api_particulier:instructor"


def _signed_in():
    """The user flask-login kept for the request the test client just made."""
    return g._login_user


def _session_user(client, db, login_as, **attributes) -> tuple[User, SessionUser]:
    user = login_as(roles=[ROLE], **attributes)
    db.session.expunge_all()  # as in production: each request starts with nothing loaded
    assert client.get(QUEUE).status_code == 200
    signed_in = _signed_in()
    assert type(signed_in) is SessionUser
    return user, signed_in


def test_a_page_that_only_reads_gets_a_session_user_and_never_the_orm_user(client, db, login_as):
    user, signed_in = _session_user(client, db, login_as, job_title="Agent d’accueil")
    assert (signed_in.id, signed_in.email, signed_in.full_name) == (
        user.id,
        user.email,
        user.full_name,
    )
    assert signed_in.roles == {ROLE} and not signed_in.is_admin
    assert signed_in.has_role("api_particulier", "reporter")
    assert signed_in.get_id() == str(user.id) and signed_in.is_authenticated
    assert not any(isinstance(obj, User) for obj in db.session.identity_map.values())
    # The same user whichever object holds it, both ways.
    assert signed_in == db.session.get(User, user.id) and db.session.get(User, user.id) == signed_in
    assert signed_in != UserFactory()
    # The statement's compiled SQL comes from its own cache (``compiled_once``): the next
    # request finds it there (the cache lives as long as the process, so earlier tests' apps,
    # each with its own engine and dialect, may have left entries of their own).
    cache = sessions._read_statement()._options["compiled_cache"]
    entries = len(cache)
    assert entries >= 1
    assert client.get(QUEUE).status_code == 200 and len(cache) == entries


def test_a_request_that_may_write_gets_the_orm_user(client, db, login_as):
    user = login_as()
    response = post_form(
        client,
        "/compte/organisation-courante",
        {"organization_id": str(user.current_organization_id)},
        page="/compte",
    )
    assert response.status_code == 302
    assert type(_signed_in()) is User and _signed_in().entity is _signed_in()


def test_the_entity_is_loaded_once_on_demand_without_reading_the_roles(client, db, login_as):
    user, signed_in = _session_user(client, db, login_as)
    with recorded_statements() as statements:
        entity = signed_in.entity
        assert signed_in.entity is entity and entity.sub == user.sub
        assert signed_in.sub == user.sub  # any other column: read on the entity
        assert entity.roles == {ROLE}
    assert len(statements) == 1 and "user_roles" not in statements[0]
    assert entity is db.session.get(User, user.id)  # identity-mapped
    # Once loaded, the roles are the entity's: a role written through it shows at once.
    users.grant_role(user.email, "admin")
    assert signed_in.is_admin


def test_a_write_goes_through_the_entity(client, db, login_as):
    user, signed_in = _session_user(client, db, login_as)
    signed_in.entity.job_title = "Responsable du service"
    db.session.commit()
    db.session.expunge_all()
    assert db.session.get(User, user.id).job_title == "Responsable du service"


def test_the_session_user_is_read_only_and_refused_where_the_orm_expects_a_user(
    client, db, login_as
):
    _user, signed_in = _session_user(client, db, login_as)
    with pytest.raises(AttributeError):
        signed_in.job_title = "Autre"
    with pytest.raises(AttributeError):
        signed_in.anything_new = 1
    with pytest.raises(AttributeError):
        signed_in._sa_instance_state  # noqa: B018  (never the entity's state)
    with pytest.raises(ArgumentError, match="Mapped instance expected"):
        select(AuthorizationRequest).where(AuthorizationRequest.applicant == signed_in)
    with pytest.raises(UnmappedInstanceError):
        db.session.add(signed_in)
    with pytest.raises(AttributeError):
        signed_in.memberships.append(None)  # a tuple: changes go through the entity
    with pytest.raises(AttributeError, match="_sa_instance_state"):
        db.session.add(AuditEntry(kind="test", actor=signed_in))  # a relationship
    db.session.rollback()


def test_memberships_and_organisation_read_as_their_lazy_loads_without_the_entity(
    client, db, login_as
):
    user, signed_in = _session_user(client, db, login_as)
    with recorded_statements() as statements:
        assert signed_in.current_organization.id == user.current_organization_id
        assert [m.organization_id for m in signed_in.memberships] == [user.current_organization_id]
        assert signed_in.verified_organization_ids == {user.current_organization_id}
        assert signed_in.membership_for(user.current_organization_id).verified
    assert len(statements) == 2  # the organisation by its key, the memberships once
    assert signed_in._entity is None


def test_a_revoked_session_ends_on_the_next_request(client, db, login_as):
    user, _signed_in_user = _session_user(client, db, login_as)
    assert sessions.end_all_sessions(user) == 1
    response = client.get(QUEUE)
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_a_signed_out_session_ends_on_the_next_request(client, db, login_as):
    _session_user(client, db, login_as)
    with client.session_transaction() as cookie:
        key = cookie[SESSION_KEY]
    sessions.end_session(key)  # as from another browser tab
    response = client.get(QUEUE)
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_a_ban_takes_effect_on_the_next_request(client, db, login_as):
    user, _signed_in_user = _session_user(client, db, login_as)
    admin = UserFactory(roles=["admin"])
    support.ban(db.session.get(User, user.id), admin, "Usage abusif constaté")
    response = client.get(QUEUE)
    assert response.status_code == 403
    assert "Votre compte a été suspendu" in response.text


def test_a_revoked_role_takes_effect_on_the_next_request(client, db, login_as):
    user, _signed_in_user = _session_user(client, db, login_as)
    users.revoke_role(user.email, ROLE)
    db.session.expunge_all()
    assert client.get(QUEUE).status_code == 403


def test_an_impersonating_admin_reads_as_a_session_user_and_acts_as_the_orm_target(
    client, db, login_as
):
    admin = login_as(roles=["admin"], email="support@datapass.example.gouv.fr")
    target = UserFactory()
    db.session.commit()
    assert impersonate(client, target).status_code == 302
    db.session.expunge_all()
    assert f"{BANNER} {target.full_name}" in client.get("/tableau-de-bord").text
    acting = _signed_in()
    assert isinstance(acting, User) and acting.id == target.id
    assert type(acting.impersonator) is SessionUser and acting.impersonator.id == admin.id
    assert acting.impersonator._entity is None  # the admin's ORM row was never needed
    active = g.user_session
    assert active.user is acting.impersonator and active.impersonated_user_id == target.id
    # A request that may write acts as the ORM target, then the admin reads as themselves.
    response = post_form(client, "/admin/en-tant-que/arreter", page="/tableau-de-bord")
    assert response.status_code == 302
    assert type(_signed_in()) is User and _signed_in().id == target.id
    assert BANNER not in client.get("/tableau-de-bord").text
    assert type(_signed_in()) is SessionUser and _signed_in().id == admin.id
