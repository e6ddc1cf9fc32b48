"""What every request pays around its view (``datapass/request_cycle.py``, the session
cookie of ``api.BrowserSessionInterface``): work skipped when its answer is known, the
same answers otherwise."""

from __future__ import annotations

import time

import flask.app
import pytest
from flask.templating import _default_template_ctx_processor

from datapass.extensions import csrf, login_manager
from tests.support.http import post_form

PAGE = "/compte"
PUBLIC = "/accessibilite"


class Calls:
    """A callable that counts its calls, then calls the wrapped one."""

    def __init__(self, wrapped):
        self.wrapped, self.count = wrapped, 0

    def __call__(self, *args, **kwargs):
        self.count += 1
        return self.wrapped(*args, **kwargs)


def test_each_function_is_checked_for_a_coroutine_once(client, db, monkeypatch):
    client.get(PUBLIC)
    check = Calls(flask.app.iscoroutinefunction)
    monkeypatch.setattr(flask.app, "iscoroutinefunction", check)
    assert client.get(PUBLIC).status_code == 200
    assert check.count == 0


def test_off_session_protection_computes_no_client_identifier(app, client, db, monkeypatch):
    identifier = Calls(login_manager._session_identifier_generator)
    monkeypatch.setattr(login_manager, "_session_identifier_generator", identifier)
    client.get(PUBLIC)
    assert identifier.count == 0
    monkeypatch.setitem(app.config, "SESSION_PROTECTION", "basic")
    client.get(PUBLIC)
    assert identifier.count == 1


def test_a_remember_cookie_to_clear_is_still_cleared(client, db, login_as):
    login_as()
    with client.session_transaction() as session:
        session["_remember"] = "clear"
    response = client.get(PAGE)
    assert any(
        cookie.startswith("remember_token=;") for cookie in response.headers.getlist("Set-Cookie")
    )


def test_csrf_exemptions_are_looked_up_for_unsafe_methods_only(client, db, login_as, monkeypatch):
    login_as()
    page = client.get(PAGE)
    exempt = Calls(csrf._is_exempt)
    monkeypatch.setattr(csrf, "_is_exempt", exempt)
    client.get(PAGE)
    assert exempt.count == 0
    assert post_form(client, "/deconnexion", page=page).status_code in (302, 303)
    assert exempt.count == 1
    # Without its token, a form is refused as before.
    assert client.post("/deconnexion").status_code == 400


def test_blueprints_do_not_repeat_the_default_context_processor(app):
    assert app.template_context_processors[None].count(_default_template_ctx_processor) == 1
    for name, processors in app.template_context_processors.items():
        assert name is None or _default_template_ctx_processor not in processors, name


def test_csrf_token_comes_from_the_jinja_globals_alone(app, client, db, login_as):
    processors = app.template_context_processors[None]
    assert all(p.__qualname__ != csrf.PROCESSOR for p in processors)
    login_as()
    assert 'name="csrf_token" value="' in client.get(PAGE).get_data(as_text=True)


def _cookie(client, app) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


@pytest.fixture
def serializer_loads(app, monkeypatch):
    serializer = app.session_interface.get_signing_serializer(app)
    loads = Calls(serializer.loads)
    monkeypatch.setattr(serializer, "loads", loads)
    return loads


def test_a_verified_cookie_is_not_verified_again(app, client, db, login_as, serializer_loads):
    login_as()
    client.get(PAGE)  # the first page stores the CSRF token: a new cookie
    assert client.get(PAGE).status_code == 200
    verified = serializer_loads.count
    assert client.get(PAGE).status_code == 200  # signed in: its session still read
    assert client.get(PAGE).status_code == 200
    assert serializer_loads.count == verified


def test_a_changed_cookie_is_verified_and_refused(app, client, db, login_as, serializer_loads):
    login_as()
    assert client.get(PAGE).status_code == 200
    value = _cookie(client, app)
    forged = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], forged)
    before = serializer_loads.count
    response = client.get(PAGE)
    assert serializer_loads.count == before + 1
    assert response.status_code == 302  # signed out: to the sign-in page


def test_a_verified_cookie_still_expires(app, client, db, login_as, monkeypatch):
    login_as()
    assert client.get(PAGE).status_code == 200
    assert client.get(PAGE).status_code == 200  # its signature kept
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = time.time() + lifetime + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get(PAGE).status_code == 302


def test_a_verified_cookie_is_verified_again_under_new_keys(app, client, db, login_as, monkeypatch):
    login_as()
    assert client.get(PAGE).status_code == 200
    monkeypatch.setattr(app, "secret_key", "another-secret-key-for-this-test-only")
    assert client.get(PAGE).status_code == 302


def test_vary_cookie_once_on_a_page_that_reads_the_session(client, db, login_as):
    login_as()
    response = client.get(PAGE)
    vary = [part.strip() for value in response.headers.getlist("Vary") for part in value.split(",")]
    assert vary.count("Cookie") == 1


@pytest.mark.parametrize("path", [PUBLIC, "/nulle-part", "/static/css/nothing-here.css"])
def test_every_answer_of_flask_carries_the_security_headers_once(client, db, path):
    response = client.get(path)
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"):
        assert len(response.headers.getlist(name)) == 1, (path, name)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
