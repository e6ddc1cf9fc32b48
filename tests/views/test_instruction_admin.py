"""Instruction administration: message templates, rights, notification settings."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from datapass.extensions import db as _db
from datapass.models import InstructorNotificationSetting, MessageTemplate, User
from datapass.services.instructor_settings import notification_recipients
from tests.factories import UserFactory
from tests.support.oidc import csrf_token
from tests.support.queries import count_queries

DEFINITION = "api_particulier"
BASE = f"/instruction/{DEFINITION}"
NBSP = "\u00a0"

WHO_ROLES = {
    "applicant": [],
    "reporter": [f"{DEFINITION}:reporter"],
    "instructor": [f"{DEFINITION}:instructor"],
    "manager": [f"{DEFINITION}:manager"],
    "other_manager": ["autre_definition:manager"],
    "admin": ["admin"],
}


def token(client) -> str:
    """A CSRF token of the client's session (the sign-out form, or the sign-in page)."""
    page = client.get("/connexion")
    if page.status_code == 302:
        page = client.get("/")
    return csrf_token(page.text)


def post(client, path, data=None):
    return client.post(path, data={"csrf_token": token(client), **(data or {})})


def make_template(db, definition_id=DEFINITION, **values) -> MessageTemplate:
    template = MessageTemplate(
        definition_id=definition_id,
        kind=values.get("kind", "refuse"),
        title=values.get("title", "Refus faute de cadre juridique"),
        content=values.get("content", "Bonjour,\nla demande %{demande_id} est refusée."),
    )
    db.session.add(template)
    db.session.flush()
    return template


def reload(db, model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


# ---------------------------------------------------------------- role matrix

TEMPLATE_DATA = {
    "title": "Validation standard",
    "kind": "approve",
    "content": "Votre demande %{demande_id} est validée.",
}

# name: (method, path with {template} and {target}, data)
ROUTES = {
    "list": ("GET", f"{BASE}/modeles", None),
    "new": ("GET", f"{BASE}/modeles/nouveau", None),
    "create": ("POST", f"{BASE}/modeles/nouveau", TEMPLATE_DATA),
    "edit": ("GET", f"{BASE}/modeles/{{template}}/modifier", None),
    "update": ("POST", f"{BASE}/modeles/{{template}}/modifier", TEMPLATE_DATA),
    "delete": ("POST", f"{BASE}/modeles/{{template}}/supprimer", {}),
    "rights": ("GET", f"{BASE}/droits", None),
    "grant": (
        "POST",
        f"{BASE}/droits",
        {"email": "nouvel.agent@ccas.example.fr", "role": "reporter"},
    ),
    "revoke": ("POST", f"{BASE}/droits/retirer", {"email": "{target}", "role": "reporter"}),
    "settings": ("GET", "/instruction/parametres", None),
    "save_settings": ("POST", "/instruction/parametres", {}),
}
MANAGERS = {"manager", "admin"}
ALLOWED = {
    "list": {"instructor", *MANAGERS},
    "settings": {"reporter", "instructor", *MANAGERS},
    "save_settings": {"reporter", "instructor", *MANAGERS},
}


@pytest.mark.parametrize("who", ["anonymous", *WHO_ROLES])
@pytest.mark.parametrize("route", ROUTES)
def test_role_matrix(client, db, login_as, route, who):
    template = make_template(db)
    target = UserFactory(roles=[f"{DEFINITION}:reporter"])
    if who != "anonymous":
        login_as(roles=WHO_ROLES[who])
    method, path, data = ROUTES[route]
    path = path.format(template=template.id)
    if method == "GET":
        response = client.get(path)
    else:
        data = {key: value.replace("{target}", target.email) for key, value in data.items()}
        response = post(client, path, data)

    if who == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/connexion")
    elif who in ALLOWED.get(route, MANAGERS):
        assert response.status_code == (200 if method == "GET" else 302), response.text
        if method == "POST":
            assert "/connexion" not in response.headers["Location"]
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/instruction/inconnue/modeles",
        "/instruction/inconnue/modeles/nouveau",
        "/instruction/inconnue/modeles/1/modifier",
        "/instruction/inconnue/droits",
    ],
)
@pytest.mark.parametrize("who", ["applicant", "manager", "admin"])
def test_unknown_definition_is_404(client, db, login_as, path, who):
    login_as(roles=WHO_ROLES[who])
    assert client.get(path).status_code == 404


def test_unknown_definition_is_404_on_post(client, db, login_as):
    login_as(roles=["admin"])
    for path in (
        "/instruction/inconnue/modeles/nouveau",
        "/instruction/inconnue/modeles/1/supprimer",
        "/instruction/inconnue/droits",
        "/instruction/inconnue/droits/retirer",
    ):
        assert post(client, path, {"email": "a@b.fr", "role": "reporter"}).status_code == 404


def test_a_template_of_another_definition_is_404(client, db, login_as):
    other = make_template(db, definition_id="autre_definition")
    login_as(roles=[f"{DEFINITION}:manager"])
    assert client.get(f"{BASE}/modeles/{other.id}/modifier").status_code == 404
    assert post(client, f"{BASE}/modeles/{other.id}/supprimer").status_code == 404
    assert client.get(f"{BASE}/modeles/999999/modifier").status_code == 404
    assert reload(db, MessageTemplate, other.id) is not None


def test_post_without_csrf_token_is_refused(client, db, login_as):
    login_as(roles=[f"{DEFINITION}:manager"])
    response = client.post(f"{BASE}/modeles/nouveau", data=TEMPLATE_DATA)
    assert response.status_code == 400
    assert db.session.scalar(select(MessageTemplate)) is None


# ---------------------------------------------------------------- message templates


@pytest.fixture
def manager(login_as):
    return login_as(roles=[f"{DEFINITION}:manager"])


def test_list_shows_title_kind_label_and_text(client, db, manager):
    make_template(db)
    page = client.get(f"{BASE}/modeles")
    assert page.status_code == 200
    assert "<title>Modèles de message – API Particulier – DataPass</title>" in page.text
    assert "<h1>Modèles de message</h1>" in page.text
    assert "<caption>" in page.text
    assert "Refus faute de cadre juridique" in page.text
    assert "<td>Refus</td>" in page.text
    assert (
        '<td class="datapass-message">Bonjour,\nla demande %{demande_id} est refusée.' in page.text
    )
    assert "Nouveau modèle" in page.text
    assert ">Supprimer<" in page.text and "Modifier" in page.text


def test_instructors_see_the_list_read_only(client, db, login_as):
    make_template(db)
    login_as(roles=[f"{DEFINITION}:instructor"])
    page = client.get(f"{BASE}/modeles")
    assert page.status_code == 200
    assert "Refus faute de cadre juridique" in page.text
    assert "Nouveau modèle" not in page.text
    assert "Supprimer" not in page.text
    assert "/modifier" not in page.text
    assert f"{BASE}/droits" not in page.text


def test_empty_list_says_so(client, db, manager):
    assert "Aucun modèle de message pour l’instant." in client.get(f"{BASE}/modeles").text


def test_form_shows_fields_and_variables_hint(client, db, manager):
    page = client.get(f"{BASE}/modeles/nouveau")
    assert page.status_code == 200
    for label in ("Titre", "Type de décision", "Texte du message"):
        assert label in page.text
    for variable in ("%{demande_url}", "%{demande_intitule}", "%{demande_id}"):
        assert variable in page.text
    for label in ("Validation", "Demande de modifications", "Refus", "Révocation", "Message"):
        assert f">{label}</option>" in page.text


def test_create_template(client, db, manager):
    response = post(client, f"{BASE}/modeles/nouveau", TEMPLATE_DATA)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{BASE}/modeles")
    template = db.session.scalar(select(MessageTemplate))
    assert (template.definition_id, template.title, template.kind, template.content) == (
        DEFINITION,
        "Validation standard",
        "approve",
        "Votre demande %{demande_id} est validée.",
    )
    page = client.get(f"{BASE}/modeles")
    assert f"Le modèle «{NBSP}Validation standard{NBSP}» a été créé." in page.text


def test_create_requires_title_and_text(client, db, manager):
    response = post(client, f"{BASE}/modeles/nouveau", {"title": "  ", "kind": "refuse"})
    assert response.status_code == 422
    assert "<title>Erreur\u00a0: Nouveau modèle de message" in response.text
    assert "Le formulaire contient 2 erreurs" in response.text
    assert 'id="title-message-error">Indiquez le titre du modèle.' in response.text
    assert 'id="content-message-error">Écrivez le texte du message.' in response.text
    assert '<option selected value="refuse">' in response.text
    assert db.session.scalar(select(MessageTemplate)) is None


def test_unknown_variable_is_refused_and_input_kept(client, db, manager):
    data = {
        "title": "Mon modèle",
        "kind": "message",
        "content": "Voir %{demande_url} et %{lien_secret}, %{autre}",
    }
    response = post(client, f"{BASE}/modeles/nouveau", data)
    assert response.status_code == 422
    assert 'id="content-message-error">Variables inconnues' in response.text
    assert "%{autre}, %{lien_secret}" in response.text
    assert 'value="Mon modèle"' in response.text
    assert "Voir %{demande_url} et %{lien_secret}, %{autre}</textarea>" in response.text
    assert '<option selected value="message">' in response.text
    assert db.session.scalar(select(MessageTemplate)) is None


def test_title_is_unique_within_the_definition(client, db, manager):
    make_template(db, title="Refus standard")
    make_template(db, definition_id="autre_definition", title="Validation standard")
    duplicate = {**TEMPLATE_DATA, "title": "refus STANDARD "}
    response = post(client, f"{BASE}/modeles/nouveau", duplicate)
    assert response.status_code == 422
    assert "Un autre modèle de ce type d’habilitation porte déjà ce titre." in response.text
    assert 'value="refus STANDARD"' in response.text
    assert "Votre demande %{demande_id} est validée.</textarea>" in response.text
    # The same title on another definition is fine.
    assert post(client, f"{BASE}/modeles/nouveau", TEMPLATE_DATA).status_code == 302


def test_invalid_kind_is_refused(client, db, manager):
    response = post(client, f"{BASE}/modeles/nouveau", {**TEMPLATE_DATA, "kind": "pirate"})
    assert response.status_code == 422
    assert "Choisissez un type de décision dans la liste." in response.text


def test_edit_template(client, db, manager):
    template = make_template(db)
    page = client.get(f"{BASE}/modeles/{template.id}/modifier")
    assert page.status_code == 200
    assert 'value="Refus faute de cadre juridique"' in page.text
    assert '<option selected value="refuse">' in page.text
    data = {"title": "Refus motivé", "kind": "request_changes", "content": "Voir %{demande_url}"}
    response = post(client, f"{BASE}/modeles/{template.id}/modifier", data)
    assert response.status_code == 302
    template = reload(db, MessageTemplate, template.id)
    assert (template.title, template.kind, template.content) == (
        "Refus motivé",
        "request_changes",
        "Voir %{demande_url}",
    )


def test_edit_keeps_its_own_title_and_reports_errors(client, db, manager):
    template = make_template(db)
    make_template(db, title="Autre titre")
    same_title = {"title": template.title, "kind": "refuse", "content": "Nouveau texte"}
    assert post(client, f"{BASE}/modeles/{template.id}/modifier", same_title).status_code == 302
    taken = {"title": "Autre titre", "kind": "revoke", "content": "%{inconnue} texte tapé"}
    response = post(client, f"{BASE}/modeles/{template.id}/modifier", taken)
    assert response.status_code == 422
    assert "porte déjà ce titre" in response.text
    assert f"Variable inconnue{NBSP}: %{{inconnue}}" in response.text
    assert 'value="Autre titre"' in response.text
    assert "%{inconnue} texte tapé</textarea>" in response.text
    assert '<option selected value="revoke">' in response.text
    assert reload(db, MessageTemplate, template.id).content == "Nouveau texte"


def test_delete_template(client, db, manager):
    template = make_template(db)
    response = post(client, f"{BASE}/modeles/{template.id}/supprimer")
    assert response.status_code == 302
    assert reload(db, MessageTemplate, template.id) is None
    page = client.get(f"{BASE}/modeles")
    assert "a été supprimé." in page.text


def test_delete_is_post_only(client, db, manager):
    template = make_template(db)
    assert client.get(f"{BASE}/modeles/{template.id}/supprimer").status_code == 405


def test_template_list_query_count_does_not_grow(client, db, manager):
    make_template(db, title="Un")
    few = count_queries(client, f"{BASE}/modeles")
    for index in range(10):
        make_template(db, title=f"Modèle {index}")
    assert count_queries(client, f"{BASE}/modeles") == few


# ---------------------------------------------------------------- rights


def user_roles(db, email) -> set[str]:
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == email))
    return user.roles if user else set()


def test_rights_list_people_with_a_role(client, db, manager):
    UserFactory(email="rapporteur@ccas.example.fr", roles=[f"{DEFINITION}:reporter"])
    UserFactory(email="dev@ccas.example.fr", roles=[f"{DEFINITION}:developer"])
    UserFactory(email="ailleurs@ccas.example.fr", roles=["autre_definition:instructor"])
    UserFactory(email="admin@ccas.example.fr", roles=["admin"])
    page = client.get(f"{BASE}/droits")
    assert page.status_code == 200
    assert "<title>Droits – API Particulier – DataPass</title>" in page.text
    assert "<caption>" in page.text
    assert "rapporteur@ccas.example.fr" in page.text and "Rapporteur" in page.text
    assert "dev@ccas.example.fr" in page.text and "Développeur" in page.text
    assert manager.email in page.text and "Gestionnaire" in page.text
    assert "ailleurs@ccas.example.fr" not in page.text
    assert "admin@ccas.example.fr" not in page.text
    # Only the others' non-manager roles have a « Retirer » button.
    assert page.text.count(">Retirer<") == 2
    assert 'id="csrf_token"' not in page.text  # several forms, so no id (RGAA 8.2)
    # A manager is not offered « Gestionnaire » in the grant form.
    assert 'value="manager"' not in page.text
    for label in ("Adresse électronique", "Rôle", "Instructeur"):
        assert label in page.text


def test_grant_a_role_to_a_known_user(client, db, manager):
    colleague = UserFactory(email="collegue@ccas.example.fr")
    data = {"email": " Collegue@CCAS.example.fr ", "role": "instructor"}
    response = post(client, f"{BASE}/droits", data)
    assert response.status_code == 302
    assert user_roles(db, colleague.email) == {f"{DEFINITION}:instructor"}
    page = client.get(f"{BASE}/droits")
    assert (
        f"Le rôle «{NBSP}Instructeur{NBSP}» est attribué à collegue@ccas.example.fr." in page.text
    )


def test_grant_creates_a_pending_user(client, db, manager):
    data = {"email": "jamais.connectee@ccas.example.fr", "role": "reporter"}
    assert post(client, f"{BASE}/droits", data).status_code == 302
    user = db.session.scalar(select(User).where(User.email == data["email"]))
    assert user is not None and user.sub is None
    assert user.roles == {f"{DEFINITION}:reporter"}
    page = client.get(f"{BASE}/droits")
    assert "dès sa première connexion" in page.text
    assert "Pas encore connectée" in page.text


def test_granting_twice_says_so(client, db, manager):
    UserFactory(email="collegue@ccas.example.fr", roles=[f"{DEFINITION}:reporter"])
    data = {"email": "collegue@ccas.example.fr", "role": "reporter"}
    assert post(client, f"{BASE}/droits", data).status_code == 302
    assert "a déjà le rôle" in client.get(f"{BASE}/droits").text


def test_a_manager_cannot_grant_manager_or_admin(client, db, manager):
    UserFactory(email="collegue@ccas.example.fr")
    for role, message in (
        ("manager", "Seuls les administrateurs attribuent le rôle de gestionnaire."),
        ("admin", "Choisissez un rôle dans la liste."),
    ):
        response = post(
            client, f"{BASE}/droits", {"email": "collegue@ccas.example.fr", "role": role}
        )
        assert response.status_code == 422
        assert message in response.text
        assert 'value="collegue@ccas.example.fr"' in response.text
    assert user_roles(db, "collegue@ccas.example.fr") == set()


def test_an_admin_grants_manager(client, db, login_as):
    login_as(roles=["admin"])
    assert 'value="manager"' in client.get(f"{BASE}/droits").text
    data = {"email": "future.gestionnaire@ccas.example.fr", "role": "manager"}
    assert post(client, f"{BASE}/droits", data).status_code == 302
    assert user_roles(db, data["email"]) == {f"{DEFINITION}:manager"}
    # Still never admin through this page.
    data = {"email": "future.gestionnaire@ccas.example.fr", "role": "admin"}
    assert post(client, f"{BASE}/droits", data).status_code == 422
    assert "admin" not in user_roles(db, data["email"])


@pytest.mark.parametrize("roles", [[f"{DEFINITION}:manager"], ["admin"]])
def test_nobody_grants_themselves_a_role(client, db, login_as, roles):
    me = login_as(roles=roles)
    response = post(client, f"{BASE}/droits", {"email": me.email.upper(), "role": "developer"})
    assert response.status_code == 422
    assert "Vous ne pouvez pas modifier vos propres droits." in response.text
    assert user_roles(db, me.email) == set(roles)


def test_grant_validates_the_email(client, db, manager):
    response = post(client, f"{BASE}/droits", {"email": "pas-une-adresse", "role": "reporter"})
    assert response.status_code == 422
    assert "Saisissez une adresse électronique valide" in response.text
    assert 'value="pas-une-adresse"' in response.text
    response = post(client, f"{BASE}/droits", {"email": "", "role": "reporter"})
    assert "Indiquez l’adresse électronique de la personne." in response.text


def test_revoke_a_role(client, db, manager):
    colleague = UserFactory(
        email="collegue@ccas.example.fr",
        roles=[f"{DEFINITION}:instructor", f"{DEFINITION}:developer"],
    )
    data = {"email": colleague.email, "role": "instructor"}
    assert post(client, f"{BASE}/droits/retirer", data).status_code == 302
    assert user_roles(db, colleague.email) == {f"{DEFINITION}:developer"}
    page = client.get(f"{BASE}/droits")
    assert f"Le rôle «{NBSP}Instructeur{NBSP}» est retiré à collegue@ccas.example.fr." in page.text
    assert post(client, f"{BASE}/droits/retirer", data).status_code == 302
    assert "n’avait pas le rôle" in client.get(f"{BASE}/droits").text


def test_a_manager_cannot_revoke_their_own_role_nor_a_manager(client, db, manager):
    other = UserFactory(email="autre.gestionnaire@ccas.example.fr", roles=[f"{DEFINITION}:manager"])
    own = {"email": manager.email, "role": "manager"}
    assert post(client, f"{BASE}/droits/retirer", own).status_code == 302
    assert "Vous ne pouvez pas modifier vos propres droits." in client.get(f"{BASE}/droits").text
    assert user_roles(db, manager.email) == {f"{DEFINITION}:manager"}
    response = post(client, f"{BASE}/droits/retirer", {"email": other.email, "role": "manager"})
    assert response.status_code == 302
    assert "Seuls les administrateurs retirent" in client.get(f"{BASE}/droits").text
    assert user_roles(db, other.email) == {f"{DEFINITION}:manager"}


def test_an_admin_revokes_manager_but_not_their_own_roles(client, db, login_as):
    admin = login_as(roles=["admin", f"{DEFINITION}:manager"])
    other = UserFactory(email="autre.gestionnaire@ccas.example.fr", roles=[f"{DEFINITION}:manager"])
    response = post(client, f"{BASE}/droits/retirer", {"email": other.email, "role": "manager"})
    assert response.status_code == 302
    assert user_roles(db, other.email) == set()
    post(client, f"{BASE}/droits/retirer", {"email": admin.email, "role": "manager"})
    assert user_roles(db, admin.email) == {"admin", f"{DEFINITION}:manager"}


def test_revoke_rejects_roles_outside_the_definition(client, db, login_as):
    login_as(roles=["admin"])
    target = UserFactory(roles=["admin"])
    response = post(client, f"{BASE}/droits/retirer", {"email": target.email, "role": "admin"})
    assert response.status_code == 400
    assert user_roles(db, target.email) == {"admin"}


def test_rights_page_query_count_does_not_grow(client, db, manager):
    UserFactory(roles=[f"{DEFINITION}:reporter"])
    few = count_queries(client, f"{BASE}/droits")
    for _ in range(10):
        UserFactory(roles=[f"{DEFINITION}:instructor", f"{DEFINITION}:developer"])
    assert count_queries(client, f"{BASE}/droits") == few


# ---------------------------------------------------------------- notification settings


def settings_rows(db, user) -> dict[str, tuple[bool, bool]]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(InstructorNotificationSetting).where(
            InstructorNotificationSetting.user_id == user.id
        )
    )
    return {row.definition_id: (row.notify_submissions, row.notify_messages) for row in rows}


def test_settings_default_to_both_checked(client, db, login_as):
    login_as(roles=[f"{DEFINITION}:reporter"])
    page = client.get("/instruction/parametres")
    assert page.status_code == 200
    assert "<title>Mes notifications – DataPass</title>" in page.text
    assert "API Particulier" in page.text
    assert "Recevoir un courriel à chaque demande soumise" in page.text
    assert "Recevoir un courriel à chaque message d’un demandeur" in page.text
    # The two notifications and the weekly deadline digest (issue 14), all on by default.
    assert page.text.count("checked") == 3
    assert 'checked id="api_particulier__digest"' in page.text


def test_settings_are_saved(client, db, login_as):
    user = login_as(roles=[f"{DEFINITION}:instructor"])
    response = post(client, "/instruction/parametres", {f"{DEFINITION}__messages": "y"})
    assert response.status_code == 302
    assert settings_rows(db, user) == {DEFINITION: (False, True)}
    page = client.get("/instruction/parametres")
    assert "Vos préférences de notification sont enregistrées." in page.text
    assert 'checked id="api_particulier__messages"' in page.text
    assert 'checked id="api_particulier__submissions"' not in page.text
    # Saving again updates the same row.
    post(client, "/instruction/parametres", {f"{DEFINITION}__submissions": "y"})
    assert settings_rows(db, user) == {DEFINITION: (True, False)}


def test_settings_ignore_definitions_the_user_does_not_follow(client, db, login_as):
    user = login_as(roles=[f"{DEFINITION}:reporter"])
    post(client, "/instruction/parametres", {"autre_definition__submissions": "y"})
    assert set(settings_rows(db, user)) == {DEFINITION}


def test_admins_without_a_definition_role_are_told_they_get_no_email(client, db, login_as):
    user = login_as(roles=["admin"])
    page = client.get("/instruction/parametres")
    assert page.status_code == 200
    assert "vous ne recevez donc aucun courriel" in page.text
    assert '<form method="post" novalidate>' not in page.text
    assert post(client, "/instruction/parametres").status_code == 302
    assert settings_rows(db, user) == {}


# ---------------------------------------------------------------- notification_recipients


def test_notification_recipients(db):
    reporter = UserFactory(email="a.rapporteur@ccas.example.fr", roles=[f"{DEFINITION}:reporter"])
    instructor = UserFactory(
        email="b.instructeur@ccas.example.fr", roles=[f"{DEFINITION}:instructor"]
    )
    manager = UserFactory(
        email="c.gestionnaire@ccas.example.fr",
        roles=[f"{DEFINITION}:manager", f"{DEFINITION}:reporter"],
    )
    admin_with_role = UserFactory(
        email="d.admin@ccas.example.fr", roles=["admin", f"{DEFINITION}:instructor"]
    )
    UserFactory(email="admin.seul@ccas.example.fr", roles=["admin"])
    elsewhere = UserFactory(email="ailleurs@ccas.example.fr", roles=["autre_definition:instructor"])
    UserFactory(email="demandeur@ccas.example.fr")
    banned = UserFactory(email="e.banni@ccas.example.fr", roles=[f"{DEFINITION}:instructor"])
    banned.banned_at = banned.created_at
    quiet = UserFactory(email="f.discret@ccas.example.fr", roles=[f"{DEFINITION}:instructor"])
    db.session.add_all(
        [
            InstructorNotificationSetting(
                user_id=quiet.id,
                definition_id=DEFINITION,
                notify_submissions=False,
                notify_messages=False,
            ),
            InstructorNotificationSetting(
                user_id=reporter.id,
                definition_id=DEFINITION,
                notify_submissions=False,
                notify_messages=True,
            ),
            # A setting of another definition changes nothing here.
            InstructorNotificationSetting(
                user_id=instructor.id,
                definition_id="autre_definition",
                notify_submissions=False,
                notify_messages=False,
            ),
        ]
    )
    db.session.flush()

    assert notification_recipients(DEFINITION, "submission") == [
        instructor,
        manager,
        admin_with_role,
    ]
    assert notification_recipients(DEFINITION, "message") == [
        reporter,
        instructor,
        manager,
        admin_with_role,
    ]
    assert notification_recipients("autre_definition", "message") == [elsewhere]
    assert notification_recipients("inconnue", "message") == []
    with pytest.raises(ValueError, match="Unknown notification kind"):
        notification_recipients(DEFINITION, "approval")


def test_notification_recipients_runs_a_constant_number_of_queries(db):
    def count(kind):
        statements = []

        def record(*args):
            statements.append(args[2])

        event.listen(_db.engine, "before_cursor_execute", record)
        try:
            recipients = notification_recipients(DEFINITION, kind)
            [user.roles for user in recipients]
        finally:
            event.remove(_db.engine, "before_cursor_execute", record)
        return len(recipients), len(statements)

    UserFactory(roles=[f"{DEFINITION}:instructor"])
    db.session.flush()
    db.session.expire_all()
    few_users, few = count("submission")
    for _ in range(15):
        UserFactory(roles=[f"{DEFINITION}:reporter"])
    db.session.flush()
    db.session.expire_all()
    many_users, many = count("submission")
    assert (few_users, many_users) == (1, 16)
    assert many == few <= 2
