"""What every page pays, and the queue page: computed once what does not change, one
statement for the session and its user, the queue's statement built once per shape."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string, url_for
from markupsafe import Markup

from datapass import workflow
from datapass.services import accessibility
from datapass.services import queue as queue_service
from datapass.views import layout
from tests.support.authorization_requests import submitted_request
from tests.support.queries import page_statements, recorded_lazy_loads

QUEUE = "/instruction/tableau-de-bord/demandes"


@pytest.fixture
def instructor(login_as):
    return login_as(roles=["api_particulier:instructor"])


def test_paths_built_once_are_url_for_under_each_script_root(app):
    with app.test_request_context("/"):
        assert layout.path_for("public.home") == url_for("public.home")
        assert layout.static_path("css/datapass.css") == url_for(
            "static", filename="css/datapass.css"
        )
        path = layout.path_of("instruction.show", "request_id")
        assert path(42) == url_for("instruction.show", request_id=42)
        assert path(7) == url_for("instruction.show", request_id=7)
    # Behind a proxy mounting the site under a prefix, the kept paths follow it.
    with app.test_request_context("/", base_url="http://localhost/datapass"):
        assert layout.path_for("public.home") == "/datapass/"
        assert layout.path_of("instruction.show", "request_id")(42) == url_for(
            "instruction.show", request_id=42
        )
        assert url_for("instruction.show", request_id=42).startswith("/datapass/")


def test_path_of_refuses_an_endpoint_without_that_integer_argument(app):
    with app.test_request_context("/"), pytest.raises(ValueError):
        layout.path_of("public.home", "request_id")


def test_badges_are_the_dsfr_macro_rendered_once(app):
    with app.test_request_context("/"):
        shown = layout.badges()
        assert shown is layout.badges()
        for state, label in workflow.STATE_LABELS.items():
            expected = render_template_string(
                '{% import "dsfr/components.html" as dsfr %}'
                "{{ dsfr.badge(label, kind, small=true) }}",
                label=label,
                kind=workflow.STATE_BADGES.get(state),
            )
            assert shown["request"][state] == expected
            assert isinstance(shown["request"][state], Markup)
        macro = render_template_string(
            '{% from "_state_badges.html" import request_state_badge %}'
            "{{ request_state_badge(r) }}",
            r=type("R", (), {"state": workflow.SUBMITTED, "is_reopening": True})(),
        )
        assert macro == f"{shown['request'][workflow.SUBMITTED]} {shown['reopening']}"


def test_footer_state_is_the_self_assessment_s(client, db):
    state = accessibility.declared_state()
    assert state == accessibility.load_audit().state
    assert f"Accessibilité&nbsp;: {state}" in client.get("/").text


def test_session_user_and_roles_come_in_one_statement_without_lazy_load(client, db, instructor):
    for _ in range(3):
        submitted_request()
    db.session.expunge_all()  # as in production: each request starts with nothing loaded
    with recorded_lazy_loads() as loads:
        statements = page_statements(client, f"{QUEUE}?tri=recent")
    assert loads == []
    sessions = [s for s in statements if "user_sessions" in s]
    assert len(sessions) == 1
    # The user joined, the roles aggregated in a scalar subquery (no collection hydrated).
    assert "JOIN users" in sessions[0] and "FROM user_roles" in sessions[0]
    assert re.search(r"WHERE user_sessions\.key_hash = ", sessions[0])
    # The session, the page (and BEGIN on SQLite).
    assert len([s for s in statements if s != "BEGIN"]) == 2


def test_the_queue_statement_is_built_once_per_shape_and_filters_by_each_page_s_values(
    client, db, instructor
):
    submitted = submitted_request()
    changes = submitted_request()
    changes.state = workflow.CHANGES_REQUESTED
    db.session.commit()
    queue_service._PAGE_STATEMENTS.clear()

    def references(query):
        text = client.get(f"{QUEUE}?{query}").text
        return set(re.findall(r">(D\d+)</a>", text))

    assert references("etat=submitted&tri=recent") == {submitted.public_reference}
    built = dict(queue_service._PAGE_STATEMENTS)
    assert len(built) == 1
    # Same shape (one state), other value: the same statement, the other rows.
    assert references("etat=changes_requested&tri=recent") == {changes.public_reference}
    kept = queue_service._PAGE_STATEMENTS
    assert kept.keys() == built.keys()
    assert all(kept[key] is statement for key, statement in built.items())
    # Another shape (several states): a statement of its own.
    assert references("etat=submitted&etat=changes_requested&tri=recent") == {
        submitted.public_reference,
        changes.public_reference,
    }
    assert len(queue_service._PAGE_STATEMENTS) == 2
    # A search by number is a shape too; its value is a parameter.
    assert references(f"etat=submitted&etat=changes_requested&q={changes.id}") == {
        changes.public_reference
    }
    assert references(f"etat=submitted&etat=changes_requested&q={submitted.id}") == {
        submitted.public_reference
    }
    assert len(queue_service._PAGE_STATEMENTS) == 3


def test_cursor_values_are_parameters_of_the_cached_statement(client, db, instructor):
    created = [submitted_request() for _ in range(3)]
    queue_service._PAGE_STATEMENTS.clear()
    criteria = queue_service.QueueCriteria(definitions=["api_particulier"], sort="id")
    seen = []
    page = queue_service.queue_page(criteria)
    seen += [row.id for row in page.rows]
    assert seen == sorted((r.id for r in created), reverse=True)
    first = seen[0]
    cursor = queue_service.keyset.encode_cursor([first])
    after_first = queue_service.queue_page(criteria, after=cursor)
    cursor = queue_service.keyset.encode_cursor([seen[1]])
    after_second = queue_service.queue_page(criteria, after=cursor)
    assert [row.id for row in after_first.rows] == seen[1:]
    assert [row.id for row in after_second.rows] == seen[2:]
    assert len(queue_service._PAGE_STATEMENTS) == 2  # first page; pages after a cursor


def test_the_remembered_criteria_are_not_written_again(client, db, instructor):
    first = client.get(f"{QUEUE}?etat=submitted&tri=recent")
    assert "Set-Cookie" in first.headers  # the criteria are remembered
    again = client.get(f"{QUEUE}?etat=submitted&tri=recent")
    assert again.status_code == 200
    assert "Set-Cookie" not in again.headers  # unchanged: the session is not signed again
    other = client.get(f"{QUEUE}?etat=refused&tri=recent")
    assert "Set-Cookie" in other.headers
