"""The instruction back-office: access, queue, search, CSV, decisions, locking, messages."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import event

from datapass.extensions import db as _db
from datapass.models import AuthorizationRequest
from datapass.models.message import APPLICANT_SIDE
from datapass.services import authorization_requests, messaging, submission
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.oidc import csrf_token
from tests.support.queries import count_queries, recorded_lazy_loads

INSTRUCTOR = "api_particulier:instructor"


@pytest.fixture
def instructor(login_as):
    return login_as(roles=[INSTRUCTOR])


def load(db, request_id):
    db.session.expire_all()
    return db.session.get(AuthorizationRequest, request_id)


def decide(client, request_id, event, reason="", version=None, **extra):
    page = client.get(f"/instruction/demandes/{request_id}/decisions/{event}")
    assert page.status_code == 200, page.status_code
    if version is None:
        version = page.text.split('name="version" type="hidden" value="')[1].split('"')[0]
    data = {"csrf_token": csrf_token(page.text), "version": version, "reason": reason, **extra}
    return client.post(f"/instruction/demandes/{request_id}/decisions/{event}", data=data)


# ---------------------------------------------------------------- access


@pytest.mark.parametrize(
    ("roles", "queue", "page", "act"),
    [
        ((), 403, 404, 404),
        (("api_particulier:developer",), 200, 200, 403),  # developer includes reporter
        (("api_particulier:reporter",), 200, 200, 403),
        ((INSTRUCTOR,), 200, 200, 200),
        (("api_particulier:manager",), 200, 200, 200),
        (("admin",), 200, 200, 200),
        (("autre_definition:instructor",), 403, 404, 404),
    ],
)
def test_role_matrix(client, db, login_as, roles, queue, page, act):
    request = submitted_request()
    login_as(roles=list(roles))
    assert client.get("/instruction/tableau-de-bord/demandes?tri=recent").status_code == queue
    assert client.get("/instruction/tableau-de-bord/habilitations").status_code == queue
    assert client.get("/instruction/tableau-de-bord/demandes/export.csv").status_code == queue
    assert client.get(f"/instruction/demandes/{request.id}").status_code == page
    status = client.get(f"/instruction/demandes/{request.id}/decisions/approve").status_code
    assert status == act


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get("/instruction/tableau-de-bord/demandes")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_the_applicant_cannot_decide(client, db, login_as):
    applicant = UserFactory()
    request = submitted_request(applicant)
    login_as(applicant)
    assert client.get(f"/instruction/demandes/{request.id}").status_code == 404
    token = csrf_token(client.get(f"/demandes/{request.id}").text)
    response = client.post(
        f"/instruction/demandes/{request.id}/decisions/approve",
        data={"csrf_token": token, "version": request.version},
    )
    assert response.status_code == 404
    assert load(db, request.id).state == "submitted"


# ---------------------------------------------------------------- queue


def test_queue_lists_and_searches(client, db, instructor):
    first = submitted_request(intitule="Cantine de Chaville")
    second = submitted_request(intitule="Aides facultatives")
    page = client.get("/instruction/tableau-de-bord/demandes?tri=recent").text
    assert page.index(f">D{second.id}<") < page.index(f">D{first.id}<")  # newest first
    oldest = client.get("/instruction/tableau-de-bord/demandes?tri=ancien").text
    assert oldest.index(f">D{first.id}<") < oldest.index(f">D{second.id}<")

    def found(q):
        text = client.get("/instruction/tableau-de-bord/demandes", query_string={"q": q}).text
        return {rid for rid in (first.id, second.id) if f">D{rid}<" in text}

    assert found(f"D{first.id}") == {first.id}
    assert found(str(second.id)) == {second.id}
    assert found(first.organization.siret) == {first.id}
    assert found(second.applicant.email.upper()) == {second.id}
    assert found("cantine") == {first.id}
    assert found(second.organization.name) == {second.id}
    assert found("Agents instructeurs") == {first.id, second.id}  # free text in the answers


def test_search_by_habilitation_id(client, db, instructor):
    request = submitted_request()
    decide(client, request.id, "approve")
    authorization = load(db, request.id).authorizations[0]
    text = client.get(
        "/instruction/tableau-de-bord/demandes",
        query_string={"q": f"H{authorization.id}", "etat": "validated"},
    ).text
    assert f">D{request.id}<" in text


def test_filters_by_state_form_and_editor(client, db, instructor):
    millesime = submitted_request()
    sonate = submitted_request(form_uid="api-particulier-ccas-arpege")
    text = client.get("/instruction/tableau-de-bord/demandes?editeur=arpege").text
    assert f">D{sonate.id}<" in text and f">D{millesime.id}<" not in text
    text = client.get(
        "/instruction/tableau-de-bord/demandes?formulaire=api-particulier-ccas-arche-mc2"
    ).text
    assert f">D{millesime.id}<" in text and f">D{sonate.id}<" not in text
    text = client.get("/instruction/tableau-de-bord/demandes?etat=refused").text
    assert f">D{millesime.id}<" not in text


def test_criteria_stay_when_coming_back(client, db, instructor):
    client.get("/instruction/tableau-de-bord/demandes?tri=ancien&q=chaville")
    back = client.get("/instruction/tableau-de-bord/demandes")
    assert back.status_code == 302
    assert "tri=ancien" in back.headers["Location"] and "q=chaville" in back.headers["Location"]


def _add_submitted(db, count, organization, applicant):
    from datetime import timedelta

    from datapass.models.base import utcnow

    start = utcnow()
    db.session.add_all(
        AuthorizationRequest(
            definition_id="api_particulier",
            form_uid="api-particulier-ccas-arche-mc2",
            catalog_version="t",
            state="submitted",
            data={"intitule": f"Demande {index}"},
            intitule=f"Demande {index}",
            organization=organization,
            applicant=applicant,
            last_submitted_at=start - timedelta(minutes=index),
            decision_deadline=start + timedelta(days=61, minutes=(index * 7) % 300),
        )
        for index in range(count)
    )
    db.session.commit()


def test_keyset_pagination_walks_every_row_once(client, db, instructor):
    applicant = UserFactory()
    _add_submitted(db, 60, applicant.current_organization, applicant)
    seen, url = [], "/instruction/tableau-de-bord/demandes?tri=recent"
    for _ in range(5):
        text = client.get(url).text
        seen += [int(part.split("<")[0]) for part in text.split(">D")[1:] if part[0].isdigit()]
        if 'fr-pagination__link--next fr-pagination__link--lg-label" href="' not in text:
            break
        url = text.split('fr-pagination__link--next fr-pagination__link--lg-label" href="')[1]
        url = url.split('"')[0].replace("&amp;", "&")
    assert len(seen) == 60 and len(set(seen)) == 60
    assert "avant=" in client.get(url).text  # a way back


def test_queue_query_count_is_constant(client, db, instructor):
    applicant = UserFactory()

    def count(path):
        return count_queries(client, path)

    _add_submitted(db, 10, applicant.current_organization, applicant)
    few = count("/instruction/tableau-de-bord/demandes?tri=recent")
    _add_submitted(db, 490, applicant.current_organization, applicant)
    many = count("/instruction/tableau-de-bord/demandes?tri=recent")
    assert many == few


def test_csv_export_streams_the_filtered_list(client, db, instructor):
    request = submitted_request(intitule='=HYPERLINK("http://x")')
    response = client.get("/instruction/tableau-de-bord/demandes/export.csv?tri=recent")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert rows[0][0] == "ID"
    row = next(r for r in rows if r[0] == f"D{request.id}")
    assert row[5] == request.organization.siret
    assert row[6].startswith("'=")  # no formula injection


# ---------------------------------------------------------------- decisions


def test_request_changes_needs_a_reason_then_applicant_resubmits_and_diff(client, db, login_as):
    applicant = UserFactory()
    request = submitted_request(applicant)
    login_as(roles=[INSTRUCTOR])
    empty = decide(client, request.id, "request_changes", reason="")
    assert empty.status_code == 422 and "motif" in empty.text
    assert (
        decide(client, request.id, "request_changes", reason="Joignez la délibération").status_code
        == 302
    )
    request = load(db, request.id)
    assert request.state == "changes_requested"
    assert request.events[-1].reason == "Joignez la délibération"

    form = authorization_requests.get_catalog().form(request.form_uid)
    authorization_requests.write_answers(request, form, {"intitule": "Nouveau nom"})
    db.session.commit()
    assert submission.submit_request(
        request, form, applicant, terms_accepted=True, dpo_informed=True
    ).ok
    page = client.get(f"/instruction/demandes/{request.id}").text
    assert "Nom du projet modifié : « Aides sociales facultatives » → « Nouveau nom »." in page
    assert "Réponse du demandeur" in client.get("/instruction/tableau-de-bord/demandes").text


def test_first_submission_diff_mentions_prefill(client, db, instructor):
    from datapass.catalog import get_catalog

    defaults = get_catalog().form("api-particulier-pass-famille").initialize_with
    untouched = submitted_request(
        form_uid="api-particulier-pass-famille",
        intitule=defaults["intitule"],
        cadre_juridique_nature=defaults["cadre_juridique_nature"],
    )
    page = client.get(f"/instruction/demandes/{untouched.id}").text
    assert "Premier dépôt sans modification des données pré-remplies." in page
    changed = submitted_request()
    page = client.get(f"/instruction/demandes/{changed.id}").text
    assert "Valeur pré-remplie modifiée : Nom du projet" in page


def test_approve_freezes_a_habilitation(client, db, instructor):
    request = submitted_request()
    assert decide(client, request.id, "approve", reason="Bienvenue").status_code == 302
    request = load(db, request.id)
    assert request.state == "validated" and request.last_validated_at
    [authorization] = request.authorizations
    assert authorization.state == "active" and authorization.data == request.data
    assert authorization.message == "Bienvenue"
    assert request.events[-1].name == "approve"


def test_refuse_needs_a_reason(client, db, instructor):
    request = submitted_request()
    assert decide(client, request.id, "refuse").status_code == 422
    assert decide(client, request.id, "refuse", reason="Hors cadre").status_code == 302
    assert load(db, request.id).state == "refused"


def test_reapproval_makes_the_previous_habilitation_obsolete(client, db, login_as):
    applicant = UserFactory()
    request = submitted_request(applicant)
    login_as(roles=[INSTRUCTOR])
    decide(client, request.id, "approve")
    request = load(db, request.id)
    authorization_requests.reopen_request(request, applicant)
    applicant.current_organization = request.organization
    form = authorization_requests.get_catalog().form(request.form_uid)
    authorization_requests.write_answers(request, form, {"intitule": "Version 2"})
    db.session.commit()
    assert submission.submit_request(
        request, form, applicant, terms_accepted=True, dpo_informed=True
    ).ok
    decide(client, request.id, "approve")
    states = [a.state for a in load(db, request.id).authorizations]
    assert states == ["obsolete", "active"]


def test_refusing_a_reopening_returns_to_the_validated_habilitation(client, db, login_as):
    applicant = UserFactory()
    request = submitted_request(applicant)
    login_as(roles=[INSTRUCTOR])
    decide(client, request.id, "approve")
    request = load(db, request.id)
    authorization_requests.reopen_request(request, applicant)
    form = authorization_requests.get_catalog().form(request.form_uid)
    authorization_requests.write_answers(request, form, {"intitule": "Version 2"})
    db.session.commit()
    submission.submit_request(request, form, applicant, terms_accepted=True, dpo_informed=True)
    assert decide(client, request.id, "refuse", reason="Non").status_code == 302
    request = load(db, request.id)
    assert request.state == "validated"
    assert request.data["intitule"] == "Aides sociales facultatives"
    assert request.authorizations[0].state == "active"


def test_revoke_the_request_or_one_habilitation(client, db, instructor):
    request = submitted_request()
    decide(client, request.id, "approve")
    assert decide(client, request.id, "revoke").status_code == 422
    assert decide(client, request.id, "revoke", reason="Fin du marché").status_code == 302
    request = load(db, request.id)
    assert request.state == "revoked" and request.authorizations[0].state == "revoked"

    other = submitted_request()
    decide(client, other.id, "approve")
    authorization = load(db, other.id).authorizations[0]
    token = csrf_token(client.get(f"/instruction/demandes/{other.id}").text)
    client.post(
        f"/instruction/habilitations/{authorization.id}/revocation",
        data={"csrf_token": token, "reason": "Abus"},
    )
    other = load(db, other.id)
    assert other.authorizations[0].state == "revoked" and other.state == "revoked"


def test_a_stale_decision_is_refused(client, db, instructor):
    request = submitted_request()
    page = client.get(f"/instruction/demandes/{request.id}/decisions/approve")
    token = csrf_token(page.text)
    response = client.post(
        f"/instruction/demandes/{request.id}/decisions/approve",
        data={"csrf_token": token, "version": request.version - 1},
    )
    assert response.status_code == 409
    assert "rechargez la page" in response.text and "Recharger la demande" in response.text
    assert load(db, request.id).state == "submitted"


def test_two_instructors_deciding_at_once_exactly_one_wins(app, db, login_as):
    request = submitted_request()
    first, second = app.test_client(), app.test_client()
    pages = []
    for client in (first, second):
        user = UserFactory(roles=[INSTRUCTOR])
        db.session.commit()
        from datapass.services.sessions import start_session
        from datapass.views.auth import SESSION_KEY

        key = start_session(user)
        db.session.commit()
        with client.session_transaction() as session:
            session[SESSION_KEY] = key
            session["_user_id"] = str(user.id)
        pages.append(client.get(f"/instruction/demandes/{request.id}/decisions/approve").text)
    versions = [p.split('name="version" type="hidden" value="')[1].split('"')[0] for p in pages]
    assert versions[0] == versions[1]
    won = first.post(
        f"/instruction/demandes/{request.id}/decisions/approve",
        data={"csrf_token": csrf_token(pages[0]), "version": versions[0]},
    )
    lost = second.post(
        f"/instruction/demandes/{request.id}/decisions/refuse",
        data={"csrf_token": csrf_token(pages[1]), "version": versions[1], "reason": "Non"},
    )
    assert won.status_code == 302 and lost.status_code == 409
    request = load(db, request.id)
    assert request.state == "validated" and len(request.authorizations) == 1


def test_version_check_at_flush_catches_a_race(db):
    from sqlalchemy.orm.exc import StaleDataError

    request = submitted_request()
    db.session.execute(
        AuthorizationRequest.__table__.update()
        .where(AuthorizationRequest.id == request.id)
        .values(version=AuthorizationRequest.version + 1)
    )
    request.intitule = "course"
    with pytest.raises(StaleDataError):
        db.session.flush()
    db.session.rollback()


# ---------------------------------------------------------------- templates and messages


def test_a_template_prefills_the_decision_with_a_preview(client, db, instructor):
    from datapass.models import MessageTemplate

    request = submitted_request()
    template = MessageTemplate(
        definition_id="api_particulier",
        kind="request_changes",
        title="Délibération manquante",
        content="Bonjour, pour %{demande_id} (%{demande_intitule}) : %{demande_url}",
    )
    db.session.add(template)
    db.session.commit()
    page = client.get(
        f"/instruction/demandes/{request.id}/decisions/request_changes?modele={template.id}"
    ).text
    assert "Aperçu du courriel envoyé au demandeur" in page
    assert f"pour D{request.id} (Aides sociales facultatives)" in page
    assert f"/demandes/{request.id}" in page


def _preview(page: str) -> tuple[str, str]:
    """The subject and text of the email preview, unescaped as the applicant reads them."""
    import html

    subject = page.split('id="apercu-objet">')[1].split("</span>")[0]
    text = page.split('id="apercu-texte">')[1].split("</div>")[0]
    return html.unescape(subject), html.unescape(text)


@pytest.mark.parametrize(
    ("event", "reason", "needle"),
    [
        ("refuse", "Le cadre juridique ne couvre pas les données.", "recours gracieux"),
        ("request_changes", "Joignez la délibération.", "soumettez-la de nouveau"),
        ("approve", "Bonne continuation.", "Bonne nouvelle"),
    ],
)
def test_the_decision_preview_is_the_email_that_is_sent(
    client, db, instructor, event, reason, needle
):
    from sqlalchemy import select

    from datapass.models import OutboxJob

    request = submitted_request()
    url = f"/instruction/demandes/{request.id}/decisions/{event}"
    page = client.get(url).text
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    data = {"csrf_token": csrf_token(page), "version": version, "reason": reason}
    previewed = client.post(url, data={**data, "apercu": "1"})
    assert previewed.status_code == 200
    assert load(db, request.id).state == "submitted"  # a preview decides nothing
    subject, text = _preview(previewed.text)
    assert reason in text and needle in text
    assert text.startswith("Bonjour") and "L’équipe d’instruction" in text
    assert client.post(url, data=data).status_code == 302
    key = {"refuse": "refused", "request_changes": "changes_requested", "approve": "approved"}
    sent = db.session.scalars(select(OutboxJob).where(OutboxJob.kind == "email")).all()
    email = next(job.payload for job in sent if job.payload["key"] == key[event])
    assert (email["subject"], email["text"]) == (subject, text)


def test_message_templates_are_offered_when_writing_to_the_applicant(client, db, instructor):
    from datapass.models import MessageTemplate

    request = submitted_request()
    template = MessageTemplate(
        definition_id="api_particulier",
        kind="message",
        title="Relance délibération",
        content="Pour %{demande_id}, merci de joindre la délibération.",
    )
    refusal = MessageTemplate(
        definition_id="api_particulier", kind="refuse", title="Refus type", content="Non."
    )
    db.session.add_all([template, refusal])
    db.session.commit()
    page = client.get(f"/instruction/demandes/{request.id}").text
    assert "Relance délibération" in page and "Refus type" not in page
    page = client.get(f"/instruction/demandes/{request.id}?modele={template.id}").text
    assert f"Pour D{request.id}, merci de joindre la délibération.</textarea>" in page


def test_messages_both_ways_with_unread_marker(client, db, login_as):
    applicant = UserFactory()
    request = submitted_request(applicant)
    messaging.post_message(request, applicant, "Une question", side=APPLICANT_SIDE)
    login_as(roles=[INSTRUCTOR])
    assert "Message non lu" in client.get("/instruction/tableau-de-bord/demandes").text
    page = client.get(f"/instruction/demandes/{request.id}").text
    assert "Une question" in page
    assert "Message non lu" not in client.get("/instruction/tableau-de-bord/demandes").text
    token = csrf_token(page)
    client.post(
        f"/instruction/demandes/{request.id}/messages",
        data={"csrf_token": token, "body": "Réponse"},
    )
    request = load(db, request.id)
    assert [m.sender_side for m in request.messages] == ["applicant", "instructor"]
    assert request.events[-1].name == "instructor_message"
    message = request.messages[0]
    client.post(
        f"/instruction/demandes/{request.id}/messages/{message.id}/traite",
        data={"csrf_token": token},
    )
    assert load(db, request.id).messages[0].processed_at is not None


def _transfer(client, request_id, email, version=None):
    page = client.get(f"/instruction/demandes/{request_id}").text
    if version is None:
        version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    return client.post(
        f"/instruction/demandes/{request_id}/transfert",
        data={"csrf_token": csrf_token(page), "version": version, "email": email},
        follow_redirects=True,
    )


def test_an_instructor_transfers_a_request_to_a_verified_member(client, db, instructor):
    request = submitted_request()
    applicant_id = request.applicant_id
    colleague = UserFactory(current_organization=request.organization)
    outsider = UserFactory()
    db.session.commit()
    refused = _transfer(client, request.id, outsider.email)
    assert "Le nouveau demandeur doit être un membre vérifié" in refused.text
    unknown = _transfer(client, request.id, "personne@ccas.example.fr")
    # The same refusal whether the address has an account or not: nothing is revealed.
    assert "Le nouveau demandeur doit être un membre vérifié" in unknown.text
    assert "Aucun compte" not in unknown.text
    stale = _transfer(client, request.id, colleague.email, version=request.version - 1)
    assert "rechargez la page" in stale.text
    assert load(db, request.id).applicant_id == applicant_id
    done = _transfer(client, request.id, colleague.email)
    assert f"La demande a été transférée à {colleague.email}." in done.text
    request = load(db, request.id)
    assert request.applicant_id == colleague.id and request.events[-1].name == "transfer"


def test_a_revocation_refused_by_the_service_is_flashed(client, db, instructor):
    request = submitted_request()
    decide(client, request.id, "approve")
    authorization = load(db, request.id).authorizations[0]
    token = csrf_token(client.get(f"/instruction/demandes/{request.id}").text)
    response = client.post(
        f"/instruction/habilitations/{authorization.id}/revocation",
        data={"csrf_token": token, "reason": " "},
        follow_redirects=True,
    )
    assert "Veuillez indiquer un motif." in response.text
    assert load(db, request.id).authorizations[0].state == "active"


def test_state_badges_have_one_colour_per_state(client, db, instructor):
    from datapass import workflow
    from datapass.models.authorization import AUTHORIZATION_STATE_BADGES, AUTHORIZATION_STATES

    assert set(workflow.STATE_BADGES) == set(workflow.STATES)
    assert set(AUTHORIZATION_STATE_BADGES) == set(AUTHORIZATION_STATES)
    request = submitted_request()
    badge = '<p class="fr-badge fr-badge--info fr-badge--sm">En cours d’instruction</p>'
    assert badge in client.get(f"/instruction/demandes/{request.id}").text
    assert badge in client.get("/instruction/tableau-de-bord/demandes").text
    decide(client, request.id, "approve")
    active = '<p class="fr-badge fr-badge--success fr-badge--sm">Active</p>'
    assert active in client.get("/instruction/tableau-de-bord/habilitations").text


def _captured_queue_sql(db, criteria_args):
    from werkzeug.datastructures import MultiDict

    from datapass.services import queue

    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    criteria = queue.QueueCriteria.from_args(MultiDict(criteria_args), ["api_particulier"])
    event.listen(_db.engine, "before_cursor_execute", record)
    try:
        queue.queue_page(criteria)
    finally:
        event.remove(_db.engine, "before_cursor_execute", record)
    return next(s for s in statements if "ORDER BY" in s[0])


@pytest.mark.parametrize(
    "criteria",
    [
        [("tri", "recent")],
        [("tri", "ancien")],
        [("tri", "recent"), ("etat", "submitted")],
        [("tri", "recent"), ("etat", "submitted"), ("etat", "validated"), ("etat", "refused")],
        [("tri", "echeance")],
        [("tri", "echeance"), ("etat", "submitted")],
        [("tri", "etat")],
        [("tri", "id")],
    ],
    ids=[
        "default",
        "oldest-first",
        "one-state",
        "three-states",
        "deadline",
        "deadline-one-state",
        "by-state",
        "by-number",
    ],
)
def test_queue_plan_walks_an_index_without_sorting(db, criteria):
    if _db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite plan; PostgreSQL plans are measured in docs/instruction.md")
    applicant = UserFactory()
    _add_submitted(db, 300, applicant.current_organization, applicant)
    statement, parameters = _captured_queue_sql(db, criteria)
    connection = db.session.connection().connection.driver_connection
    plan = " | ".join(
        row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
    )
    # The page's ids come from an index walk; only the final 26 rows are sorted again.
    page_ids = plan.split("SCAN anon_1")[0]
    assert "USE TEMP B-TREE FOR ORDER BY" not in page_ids, plan
    # The walk reads its index alone (the filtered columns are in it), never the requests'
    # rows (with their answers); by number, the table itself is the index.
    walk = "USING COVERING INDEX ix_authorization_requests_"
    assert walk in page_ids or (
        criteria == [("tri", "id")] and "authorization_requests" in page_ids
    ), plan


@pytest.mark.parametrize("sort", ["recent", "ancien"])
def test_queue_plan_with_drafts_walks_two_indexes(db, sort):
    """With « Brouillon », undated drafts and dated requests are walked apart, each on an
    index it reads alone, and only their two pages are merged (PostgreSQL sorted every
    request for ``NULLS LAST``: docs/performance.md)."""
    if _db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite plan; PostgreSQL plans are measured in docs/performance.md")
    applicant = UserFactory()
    _add_submitted(db, 300, applicant.current_organization, applicant)
    criteria = [("tri", sort), ("etat", "submitted"), ("etat", "draft")]
    statement, parameters = _captured_queue_sql(db, criteria)
    connection = db.session.connection().connection.driver_connection
    plan = " | ".join(
        row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
    )
    walks = plan.split("SCAN walk")[0]
    assert walks.count("USING COVERING INDEX ix_authorization_requests_") == 2, plan
    assert "TEMP B-TREE" not in walks, plan


def test_criteria_filter_by_definition_when_several(app):
    from werkzeug.datastructures import MultiDict

    from datapass.services.queue import QueueCriteria

    with app.app_context():
        both = QueueCriteria.from_args(MultiDict(), ["api_particulier", "autre"])
        assert (
            both.definitions == ["api_particulier", "autre"] and "definition" not in both.as_args()
        )
        one = QueueCriteria.from_args(
            MultiDict([("definition", "autre")]), ["api_particulier", "autre"]
        )
        assert one.definitions == ["autre"] and one.as_args()["definition"] == ["autre"]
        foreign = QueueCriteria.from_args(MultiDict([("definition", "x")]), ["api_particulier"])
        assert foreign.definitions == ["api_particulier"]


def test_queue_page_loads_nothing_lazily(client, db, instructor):
    for _ in range(3):
        submitted_request()
    with recorded_lazy_loads() as loads:
        assert client.get("/instruction/tableau-de-bord/demandes?tri=recent").status_code == 200
    assert loads == []


@pytest.mark.parametrize("unread_message", [False, True])
def test_request_page_loads_nothing_lazily(client, db, instructor, unread_message):
    request = submitted_request()
    messaging.post_message(request, request.applicant, "Une question", side=APPLICANT_SIDE)
    if not unread_message:
        messaging.mark_read(request, APPLICANT_SIDE)
    path = f"/instruction/demandes/{request.id}"
    db.session.expunge_all()  # as in production: the page starts with nothing loaded
    with recorded_lazy_loads() as loads:
        assert client.get(path).status_code == 200
    assert loads == []
