"""Editors: their role, the editor as technical contact, the link builder, funnel, customers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import pytest
from werkzeug.datastructures import MultiDict

from datapass import blocks, permissions, workflow
from datapass.catalog import get_catalog
from datapass.models import Authorization, AuthorizationRequest
from datapass.models.authorization import AUTHORIZATION_OBSOLETE, AUTHORIZATION_REVOKED
from datapass.services import authorization_requests, decisions, editors, users
from datapass.services.users import RoleError
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request

MILLESIME = "api-particulier-ccas-arche-mc2"
SONATE = "api-particulier-ccas-arpege"
GENERIC = "api-particulier"
ARCHE = "arche_mc2"
BASE = "https://datapass.example.fr/formulaires/x/demande/nouveau"


@pytest.fixture(autouse=True)
def request_context(app, db):
    # Timeline events queue emails whose links need a request context.
    with app.test_request_context():
        yield


def form(uid: str):
    return get_catalog().form(uid)


def support_email(editor_id: str = ARCHE) -> str:
    return get_catalog().editors[editor_id].contact.email


# ---------------------------------------------------------------- the role


def test_parse_role_knows_editors():
    definitions, known = {"api_particulier"}, {"arche_mc2", "arpege"}
    assert users.parse_role(" editor:arche_mc2 ", definitions, known) == "editor:arche_mc2"
    for bad in ("editor:inconnu", "editor:", "editor"):
        with pytest.raises(RoleError, match="Unknown editor"):
            users.parse_role(bad, definitions, known)
    assert users.parse_role("api_particulier:developer", definitions, known)


def test_an_editor_role_implies_no_definition_role(db):
    staff = UserFactory(roles=["editor:arche_mc2"])
    assert staff.editor_ids == {"arche_mc2"}
    for role in ("reporter", "instructor", "manager", "developer"):
        assert not staff.has_role("api_particulier", role)
        assert staff.definitions_with_role(role) == set()
    assert not permissions.can_access_instruction(staff)
    assert permissions.developer_definitions(staff) == []
    request = submitted_request()
    assert permissions.workflow_role(staff, request) == workflow.STRANGER
    assert not permissions.can_view_request(staff, request)


def test_grant_role_command_accepts_an_editor(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "grant-role", "Chef@Arche.example.fr", "editor:arche_mc2"]
    )
    assert result.exit_code == 0, result.output
    assert "editor:arche_mc2 granted to chef@arche.example.fr" in result.output
    refused = runner.invoke(args=["users", "grant-role", "x@y.fr", "editor:inconnu"])
    assert refused.exit_code != 0 and "Unknown editor 'inconnu'" in refused.output


def test_editor_space_access(db):
    staff = UserFactory(roles=["editor:arche_mc2"])
    assert permissions.can_use_editor_space(staff, "arche_mc2")
    assert not permissions.can_use_editor_space(staff, "arpege")
    assert not permissions.can_use_editor_space(UserFactory(), "arche_mc2")
    admin = UserFactory(roles=["admin"])
    assert permissions.can_use_editor_space(admin, "arpege")
    assert not permissions.can_use_editor_space(admin, "inconnu")
    assert [e.id for e in permissions.editor_spaces(staff)] == ["arche_mc2"]
    assert permissions.editor_spaces(admin) == []


# ---------------------------------------------------------------- the editor as technical contact


def test_millesime_starts_with_its_editor_locked_as_technical_contact(db):
    catalog_form = form(MILLESIME)
    request = authorization_requests.start_request_for_applicant(UserFactory(), catalog_form)
    assert request.data["contact_technique_family_name"] == "Support Millésime Action Sociale"
    assert request.data["contact_technique_given_name"] == ""
    assert request.data["contact_technique_email"] == support_email()
    assert permissions.technical_contact_is_editor(request)
    # Whatever is written (the API, a crafted post), the locked contact stays.
    authorization_requests.write_answers(
        request, catalog_form, {"contact_technique_email": "pirate@example.fr"}
    )
    assert request.data["contact_technique_email"] == support_email()
    _, problems = blocks.clean_answers(catalog_form, {"contact_technique_email": "x@y.fr"})
    assert [(p.field, p.title) for p in problems] == [
        ("contact_technique_email", "Champ verrouillé")
    ]
    # « C’est moi » never overwrites it.
    assert (
        blocks.get("contacts").self_contact(catalog_form, "contact_technique", UserFactory()) == {}
    )


def test_an_organisation_contact_needs_no_first_name_nor_title(db):
    request = submitted_request(form_uid=MILLESIME)
    assert request.state == workflow.SUBMITTED
    assert request.data["contact_technique_given_name"] == ""
    assert "contact_technique" in {c.contact_type for c in request.contacts}


def test_sonate_proposes_its_editor_and_the_applicant_may_replace_it(db):
    catalog_form = form(SONATE)
    applicant = UserFactory()
    request = authorization_requests.start_request_for_applicant(applicant, catalog_form)
    assert permissions.technical_contact_is_editor(request)
    contacts = blocks.get("contacts")
    assert not contacts.validate(catalog_form, request).get("contact_technique_given_name")
    # Replaced by a person: a first name is required again.
    authorization_requests.write_answers(
        request, catalog_form, {"contact_technique_email": "julie.petit@ccas.example.fr"}
    )
    assert not permissions.technical_contact_is_editor(request)
    assert "contact_technique_given_name" in contacts.validate(catalog_form, request)
    assert contacts.self_contact(catalog_form, "contact_technique", applicant)


def test_is_editor_staff_for(db):
    arche = UserFactory(roles=["editor:arche_mc2"])
    arpege = UserFactory(roles=["editor:arpege"])
    millesime = submitted_request(form_uid=MILLESIME)
    generic = submitted_request(form_uid=GENERIC)
    assert permissions.is_editor_staff_for(arche, millesime)
    assert not permissions.is_editor_staff_for(arpege, millesime)
    assert not permissions.is_editor_staff_for(arche, generic)
    assert not permissions.is_editor_staff_for(UserFactory(roles=["admin"]), millesime)
    sonate = submitted_request(form_uid=SONATE, contact_technique_email="moi@ccas.example.fr")
    assert not permissions.is_editor_staff_for(arpege, sonate)


# ---------------------------------------------------------------- the link builder


def test_link_fields_are_the_allowlist_minus_what_the_demarche_locks():
    names = [f.name for f in editors.link_fields(form(MILLESIME))]
    assert "intitule" in names and "cadre_juridique_nature" in names
    assert not {"scopes", "modalities"} & set(names)  # static blocks on Millésime
    assert not any(name.startswith("contact") for name in names)
    assert set(names) <= blocks.PREFILLABLE_FIELDS
    generic = {f.name: f for f in editors.link_fields(form(GENERIC))}
    assert generic["scopes"].parameter == "scopes[]"
    assert "openid" not in dict(generic["scopes"].choices)  # hidden by the démarche


def test_build_refuses_what_a_link_cannot_prefill():
    args = MultiDict(
        [
            ("intitule", "Portail famille"),
            ("contact_technique_email", "x@y.fr"),
            ("scopes[]", "cnaf_quotient_familial"),
            ("inconnu", "1"),
        ]
    )
    link = editors.build_prefill_link(form(MILLESIME), args, BASE)
    assert link.url == f"{BASE}?intitule=Portail%20famille"
    assert set(link.refused) == {"contact_technique_email", "scopes[]", "inconnu"}
    prefix = "Ce champ ne peut pas être pré-rempli par un lien\u00a0: "
    assert link.refused["contact_technique_email"].startswith(prefix)
    assert "contacts" in link.refused["contact_technique_email"]
    assert link.refused["scopes[]"] == prefix + "il est fixé par la démarche."
    assert link.refused["inconnu"] == prefix + "ce paramètre n’existe pas dans cette démarche."


def test_build_refuses_a_scope_the_demarche_does_not_offer():
    args = MultiDict(
        [("scopes[]", "cnaf_quotient_familial"), ("scopes[]", "openid"), ("scopes", "inconnu")]
    )
    link = editors.build_prefill_link(form(GENERIC), args, BASE)
    assert link.url == f"{BASE}?scopes[]=cnaf_quotient_familial"
    assert link.errors["scopes"] == [
        "Ce champ ne peut pas être pré-rempli par un lien\u00a0: la valeur «\u00a0openid\u00a0» "
        "n’est pas proposée par cette démarche.",
        "Ce champ ne peut pas être pré-rempli par un lien\u00a0: la valeur «\u00a0inconnu\u00a0» "
        "n’est pas proposée par cette démarche.",
    ]


def test_build_warns_of_a_value_the_field_would_drop():
    args = MultiDict([("cadre_juridique_url", "pas une adresse"), ("intitule", "")])
    link = editors.build_prefill_link(form(GENERIC), args, BASE)
    assert link.url is None
    assert link.errors["cadre_juridique_url"][0].startswith("Cette valeur ne serait pas reprise")


def test_a_built_link_prefills_what_the_builder_accepted():
    catalog_form = form(GENERIC)
    args = MultiDict(
        [
            ("intitule", "Tarifs <b>sociaux</b> & cantine"),
            ("scopes", "cnaf_quotient_familial"),
            ("scopes", "cnaf_enfants"),
            ("date_prevue_mise_en_production", "2027-01-15"),
        ]
    )
    link = editors.build_prefill_link(catalog_form, args, BASE)
    query = MultiDict(parse_qsl(link.url.split("?", 1)[1]))
    assert blocks.prefill_from_query(catalog_form, query) == {
        "intitule": "Tarifs sociaux & cantine",
        "scopes": ["cnaf_enfants", "cnaf_quotient_familial"],
        "date_prevue_mise_en_production": "2027-01-15",
    }


# ---------------------------------------------------------------- the funnel


NOW = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)


def started_at(uid: str, created: datetime, events=(), applicant=None) -> AuthorizationRequest:
    applicant = applicant or UserFactory()
    request = AuthorizationRequest(
        definition_id="api_particulier",
        form_uid=uid,
        catalog_version="t",
        state=workflow.DRAFT,
        data={},
        organization=applicant.current_organization,
        applicant=applicant,
        created_at=created,
    )
    request.record_event("create", actor=applicant, at=created)
    for name, days in events:
        request.record_event(name, actor=applicant, at=created + timedelta(days=days))
    from datapass.extensions import db

    db.session.add(request)
    db.session.flush()
    return request


def funnel_fixture():
    march = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
    started_at(MILLESIME, march, [("submit", 1), ("approve", 4)])  # 3 days
    started_at(MILLESIME, march, [("submit", 1), ("refuse", 2)])  # 1 day
    started_at(MILLESIME, march + timedelta(days=3), [("submit", 0), ("approve", 8)])  # 8 days
    started_at(MILLESIME, march)  # a draft
    # Refused, then reopened? No: refused and approved later counts as validated.
    started_at(MILLESIME, datetime(2027, 2, 10, tzinfo=UTC), [("submit", 1), ("approve", 3)])
    started_at(MILLESIME, datetime(2025, 2, 10, tzinfo=UTC), [("submit", 1)])  # too old
    started_at(SONATE, march, [("submit", 1)])  # another editor's
    started_at(GENERIC, march, [("submit", 1), ("approve", 2)])  # a generic form


def test_funnel_per_demarche_and_month(db):
    funnel_fixture()
    rows = editors.funnel(ARCHE, now=NOW)
    assert [(r.catalog_form.uid, r.month.isoformat()) for r in rows] == [
        (MILLESIME, "2027-03-01"),
        (MILLESIME, "2027-02-01"),
    ]
    march, february = rows
    assert (march.started, march.submitted, march.validated, march.refused) == (4, 3, 2, 1)
    assert march.median_days == 3.0  # of 3, 1 and 8 days
    assert (february.started, february.submitted, february.validated) == (1, 1, 1)
    assert february.median_days == 2.0
    sonate = editors.funnel("arpege", now=NOW)
    assert [(r.catalog_form.uid, r.started, r.submitted) for r in sonate] == [(SONATE, 1, 1)]


# ---------------------------------------------------------------- customers' habilitations


@pytest.fixture
def instructor(db):
    return UserFactory(roles=["api_particulier:instructor"])


def approved(instructor, **kwargs) -> AuthorizationRequest:
    request = submitted_request(**kwargs)
    decisions.decide(request, "approve", instructor, version=request.version)
    return request


def test_customers_are_validated_requests_whose_technical_contact_is_the_editor(db, instructor):
    millesime = approved(instructor, form_uid=MILLESIME)
    submitted_request(form_uid=MILLESIME)  # not validated
    approved(instructor, form_uid=GENERIC)  # a generic form
    # Sonate proposes its editor; the wizard's helper types a person: keep the editor.
    sonate_editor = approved(instructor, form_uid=SONATE, **form(SONATE).editor_contact_answers())
    sonate_person = approved(instructor, form_uid=SONATE, contact_technique_email="a@ccas.fr")
    page = editors.customers_page(ARCHE)
    assert [row.authorization.authorization_request_id for row in page.rows] == [millesime.id]
    [row] = page.rows
    assert row.authorization.organization.siret == millesime.organization.siret
    assert row.scope_labels[0] == "Quotient familial CAF & MSA"
    assert row.token is not None and row.token.expires_at > NOW.replace(year=2026)
    arpege = [
        r.authorization.authorization_request_id for r in editors.customers_page("arpege").rows
    ]
    assert arpege == [sonate_editor.id]
    assert sonate_person.id not in arpege


def test_customers_show_a_revoked_habilitation_but_not_an_obsolete_one(db, instructor):
    request = approved(instructor, form_uid=MILLESIME)
    [authorization] = request.authorizations
    authorization.state = AUTHORIZATION_REVOKED
    db.session.flush()
    [row] = editors.customers_page(ARCHE).rows
    assert row.authorization.state == AUTHORIZATION_REVOKED
    authorization.state = AUTHORIZATION_OBSOLETE
    db.session.flush()
    assert editors.customers_page(ARCHE).rows == []


def habilitations(db, count: int, email: str | None = None) -> list[Authorization]:
    applicant = UserFactory()
    request = started_at(MILLESIME, NOW, applicant=applicant)
    rows = [
        Authorization(
            request=request,
            definition_id="api_particulier",
            form_uid=MILLESIME,
            organization=applicant.current_organization,
            applicant=applicant,
            data={
                "contact_technique_email": (email or support_email()).upper(),
                "scopes": ["cnaf_quotient_familial"],
            },
        )
        for _ in range(count)
    ]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def test_customers_keyset_pages_walk_every_row_once(db):
    created = habilitations(db, 30)
    habilitations(db, 3, email="autre@ccas.example.fr")
    first = editors.customers_page(ARCHE)
    assert len(first.rows) == 25 and first.previous_cursor is None
    second = editors.customers_page(ARCHE, after=first.next_cursor)
    assert len(second.rows) == 5 and second.next_cursor is None
    seen = [r.authorization.id for r in first.rows + second.rows]
    assert seen == sorted((a.id for a in created), reverse=True)
    back = editors.customers_page(ARCHE, before=second.previous_cursor)
    assert [r.authorization.id for r in back.rows] == seen[:25]
    assert back.previous_cursor is None and back.next_cursor == first.next_cursor


def test_editor_staff_get_no_instruction_email(db):
    from datapass.services.instructor_settings import notification_recipients

    staff = UserFactory(roles=["editor:arche_mc2"])
    reporter = UserFactory(roles=["api_particulier:reporter"])
    for kind in ("submission", "message"):
        recipients = notification_recipients("api_particulier", kind)
        assert reporter in recipients and staff not in recipients
