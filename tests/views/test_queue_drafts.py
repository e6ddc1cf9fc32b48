"""« Brouillon » in the instruction queue: instructors and reporters see the drafts, plain
ones (never submitted) included, in keyset pages of a constant number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from datapass.models import AuthorizationRequest
from datapass.models.base import utcnow
from tests.factories import UserFactory
from tests.support.queries import count_queries

QUEUE = "/instruction/tableau-de-bord/demandes"
NEXT = 'fr-pagination__link--next fr-pagination__link--lg-label" href="'
PREVIOUS = 'fr-pagination__link--prev fr-pagination__link--lg-label" href="'


def add(db, count, *, submitted: bool, applicant):
    start = utcnow()
    rows = [
        AuthorizationRequest(
            definition_id="api_particulier",
            form_uid="api-particulier-ccas-arche-mc2",
            catalog_version="t",
            state="submitted" if submitted else "draft",
            data={},
            intitule=f"{'Soumise' if submitted else 'Brouillon'} {index}",
            organization=applicant.current_organization,
            applicant=applicant,
            last_submitted_at=start - timedelta(minutes=index) if submitted else None,
        )
        for index in range(count)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def references(text):
    return [int(part.split("<")[0]) for part in text.split(">D")[1:] if part[0].isdigit()]


def walk(client, url, link=NEXT):
    """The pages' rows following ``link`` from ``url``, and the last page's text."""
    pages = []
    for _ in range(10):
        text = client.get(url).text
        pages.append(references(text))
        if link not in text:
            return pages, text
        url = text.split(link)[1].split('"')[0].replace("&amp;", "&")
    raise AssertionError("too many pages")


@pytest.mark.parametrize("role", ["api_particulier:instructor", "api_particulier:reporter"])
def test_the_draft_filter_lists_plain_drafts(client, db, login_as, role):
    login_as(roles=[role])
    applicant = UserFactory()
    [draft] = add(db, 1, submitted=False, applicant=applicant)
    [submitted] = add(db, 1, submitted=True, applicant=applicant)
    assert references(client.get(f"{QUEUE}?etat=draft").text) == [draft.id]
    assert draft.id not in references(client.get(QUEUE).text)  # not by default
    assert client.get(f"/instruction/demandes/{draft.id}").status_code == 200
    assert submitted.id not in references(client.get(f"{QUEUE}?etat=draft").text)


@pytest.mark.parametrize("sort", ["recent", "ancien", "id", "etat"])
def test_pages_walk_drafts_and_submitted_requests_once(client, db, login_as, sort):
    login_as(roles=["api_particulier:instructor"])
    applicant = UserFactory()
    rows = add(db, 30, submitted=False, applicant=applicant)
    rows += add(db, 30, submitted=True, applicant=applicant)
    pages, last = walk(client, f"{QUEUE}?etat=draft&etat=submitted&tri={sort}")
    seen = [row for page in pages for row in page]
    assert sorted(seen) == sorted(row.id for row in rows)
    if sort == "recent":  # the newest submissions first, drafts (no date) last
        assert set(seen[:30]) == {row.id for row in rows[30:]}
    back, _ = walk(client, last.split(PREVIOUS)[1].split('"')[0].replace("&amp;", "&"), PREVIOUS)
    assert back == pages[-2::-1]  # the way back shows the same pages


def test_the_draft_filter_costs_the_same_queries_whatever_the_rows(client, db, login_as):
    login_as(roles=["api_particulier:instructor"])
    applicant = UserFactory()

    path = f"{QUEUE}?etat=draft&etat=submitted&tri=recent"
    add(db, 3, submitted=False, applicant=applicant)
    few = count_queries(client, path)
    add(db, 100, submitted=False, applicant=applicant)
    add(db, 100, submitted=True, applicant=applicant)
    assert count_queries(client, path) == few
