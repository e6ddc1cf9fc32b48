"""Free-text search through the index: today's results, kept up to date in the write's
transaction (datapass/services/search_index.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import String, cast, func, or_, select

from datapass.models import AuthorizationRequest, Organization
from datapass.models.base import utcnow
from datapass.models.search_document import search_documents
from datapass.search_text import like_pattern
from datapass.services import queue, search_index
from tests.factories import AuthorizationRequestFactory, OrganizationFactory, UserFactory


@pytest.fixture
def requests(db):
    def make(organization_name, intitule, **answers):
        applicant = UserFactory(current_organization=OrganizationFactory(name=organization_name))
        return AuthorizationRequestFactory(
            applicant=applicant,
            intitule=intitule,
            data={"intitule": intitule, **answers},
            last_submitted_at=utcnow(),
            state="submitted",
        )

    return [
        make(
            "Mairie de Saint-Étienne",
            "Cantine scolaire",
            description="Tarification de la CANTINE selon le quotient familial",
            contact_metier_family_name="Lefèvre",
        ),
        make(
            "CCAS de Lyon",
            "Aides facultatives",
            description="Secours d’urgence pour les familles",
            volume="200 appels par jour",
            scopes=["cnaf_quotient_familial", "cnaf_adresse"],
        ),
        make("Commune de Brest", "Crèche municipale", description="Accueil petite enfance"),
    ]


def _legacy_ids(text: str) -> set[int]:
    """The search before the index: every answer cast to text and scanned."""
    pattern = like_pattern(text.lower())
    return set(
        db_scalars(
            select(AuthorizationRequest.id)
            .join(AuthorizationRequest.organization)
            .where(
                or_(
                    func.lower(Organization.name).like(pattern, escape="\\"),
                    func.lower(AuthorizationRequest.intitule).like(pattern, escape="\\"),
                    func.lower(cast(AuthorizationRequest.data, String)).like(pattern, escape="\\"),
                )
            )
        )
    )


def db_scalars(statement):
    from datapass.extensions import db

    return db.session.scalars(statement).all()


def _found(text: str) -> set[int]:
    """What the instructors' queue finds now (through the index)."""
    criteria = queue.QueueCriteria(
        definitions=["api_particulier"], states=list(queue.QUEUE_STATES), query=text
    )
    return {row.id for row in queue.queue_page(criteria).rows}


@pytest.mark.parametrize(
    "text",
    [
        "cantine",
        "CANTINE",
        "quotient",
        "cnaf_quotient",
        "lyon",
        "fac",
        "200 appels",
        "Saint-",
        "enfance",
        "Brest",
        "secours",
        "100%",
        "zzz",
    ],
)
def test_indexed_search_finds_what_the_scan_found(requests, text):
    assert _found(text) == _legacy_ids(text)


@pytest.mark.parametrize(
    ("text", "which"),
    [
        ("etienne", 0),
        ("ÉTIENNE", 0),
        ("Saint-Étienne", 0),
        ("lefevre", 0),
        ("LEFÈVRE", 0),
        ("d'urgence", 1),
        ("creche", 2),
    ],
)
def test_accents_case_and_apostrophes_never_matter(requests, text, which):
    """Intended difference: the scan depended on the engine (SQLite lowers ASCII only and
    stores answers as JSON escapes, « Lef\\u00e8vre »); the index finds them on both."""
    assert _found(text) == {requests[which].id}


def test_answers_keys_are_not_searched(requests):
    """Intended difference: the scan matched the JSON text, keys included."""
    assert _found("description") == set()
    assert _found("intitule") == set()


def test_the_index_follows_every_write_in_its_transaction(db, requests):
    first, second, _ = requests
    first.data = {**first.data, "description": "Restauration collective"}
    db.session.flush()
    assert _found("restauration") == {first.id}
    assert _found("cantine") == {first.id}  # still its intitulé

    second.organization.name = "CCAS de Villeurbanne"
    db.session.flush()
    assert _found("villeurbanne") == {second.id} and _found("lyon") == set()

    first.applicant.family_name = "Quillebeuf"
    db.session.flush()
    assert _found("quillebeuf") == {first.id}

    savepoint = db.session.begin_nested()
    first.intitule = "Périscolaire"
    db.session.flush()
    assert _found("periscolaire") == {first.id}
    savepoint.rollback()
    assert _found("periscolaire") == set()


def test_a_deleted_request_leaves_the_index(db, requests):
    first = requests[0]
    db.session.delete(first)
    db.session.flush()
    assert _found("cantine") == set()
    remaining = db.session.scalars(select(search_documents.c.authorization_request_id)).all()
    assert first.id not in remaining


def test_rebuild_writes_every_document(db, requests):
    db.session.execute(search_documents.delete())
    assert _found("cantine") == set()
    assert search_index.rebuild() >= len(requests)
    assert _found("cantine") == {requests[0].id}
