"""The path every request takes around its view (« flaskpath »): the request and response
classes of ``request_cycle``, Flask-Login's user load, the session cookie's decoding and
saving. Each test checks that work known in advance is skipped, and that the answers stay
the same."""

from __future__ import annotations

import flask.sessions
import pytest
import werkzeug.datastructures.headers as werkzeug_headers
from flask import Response as FlaskResponse
from flask.json.tag import TaggedJSONSerializer
from werkzeug.exceptions import BadRequestKeyError

import datapass.request_cycle as request_cycle
from datapass import security
from datapass.extensions import login_manager
from tests.views.test_request_cycle import Calls


def counting(monkeypatch, owner, name: str) -> list[int]:
    """Replace ``owner.name`` (a method too) with a function that counts its calls."""
    wrapped, calls = getattr(owner, name), [0]

    def counted(*args, **kwargs):
        calls[0] += 1
        return wrapped(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


PAGE = "/compte"
PUBLIC = "/accessibilite"
STEP = "/demandes/1/etapes/contacts"


# ---------------------------------------------------------------- request bodies


def test_the_upload_limit_comes_from_the_request_class_not_a_hook(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1_000)
    monkeypatch.setitem(app.config, "MAX_UPLOAD_REQUEST_BYTES", 5_000)
    hooks = [h.__qualname__ for h in app.before_request_funcs[None]]
    assert not any("request_body" in name for name in hooks)
    with app.test_request_context(STEP, method="POST"):
        assert flask.request.endpoint in security.UPLOAD_ENDPOINTS
        assert flask.request.max_content_length == 5_000
    with app.test_request_context(PAGE, method="POST"):
        assert flask.request.max_content_length == 1_000
        flask.request.max_content_length = 10  # a view's own limit still wins
        assert flask.request.max_content_length == 10
    with app.test_request_context("/nulle-part", method="POST"):  # no route: the default
        assert flask.request.max_content_length == 1_000


@pytest.mark.parametrize(
    ("path", "size", "refused"),
    [(STEP, 2_000, False), (STEP, 6_000, True), ("/compte/organisation", 2_000, True)],
)
def test_bodies_are_bounded_by_page(app, client, db, monkeypatch, path, size, refused):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1_000)
    monkeypatch.setitem(app.config, "MAX_UPLOAD_REQUEST_BYTES", 5_000)
    response = client.post(
        path, data={"x": "1" * size}, content_type="application/x-www-form-urlencoded"
    )
    assert (response.status_code == 413) is refused


# ---------------------------------------------------------------- cookies


def test_a_cookie_header_is_parsed_once_per_process(app, client, db, login_as, monkeypatch):
    parse = Calls(request_cycle.parse_cookie)
    monkeypatch.setattr(request_cycle, "parse_cookie", parse)
    monkeypatch.setattr(request_cycle.DataPassRequest, "_parsed_cookies", {})
    login_as()
    client.get(PAGE)  # the first page stores the CSRF token: a new cookie
    assert client.get(PAGE).status_code == 200
    parsed = parse.count
    assert client.get(PAGE).status_code == 200
    assert client.get(PAGE).status_code == 200
    assert parse.count == parsed
    client.set_cookie("another", "value")  # another header: parsed, both cookies read
    with app.test_request_context(PAGE, headers={"Cookie": "a=1; b=2"}):
        assert dict(flask.request.cookies) == {"a": "1", "b": "2"}
    assert parse.count == parsed + 1
    assert client.get(PAGE).status_code == 200
    assert parse.count == parsed + 2


def test_kept_parsed_cookies_cannot_be_changed(app):
    with app.test_request_context(PAGE, headers={"Cookie": "a=1"}), pytest.raises(TypeError):
        flask.request.cookies["a"] = "2"


def test_a_plain_session_is_decoded_without_flask_tags(app, client, db, login_as, monkeypatch):
    tagged = counting(monkeypatch, TaggedJSONSerializer, "loads")
    login_as()
    client.get(PAGE)
    assert client.get(PAGE).status_code == 200
    before = tagged[0]
    assert client.get(PAGE).status_code == 200  # a kept cookie, plain JSON: json.loads
    assert tagged[0] == before


def test_a_session_with_tagged_values_keeps_their_types(app):
    interface = app.session_interface
    with app.test_request_context():
        session = interface.session_class({"pair": (1, 2), "raw": b"\x00", "plain": [1]})
        response = app.response_class()
        session.modified = True
        interface.save_session(app, session, response)
    cookie = response.headers["Set-Cookie"].split(";")[0]
    for _ in range(2):  # verified, then kept: the same values
        with app.test_request_context(headers={"Cookie": cookie}):
            opened = interface.open_session(app, flask.request)
        assert opened == {"pair": (1, 2), "raw": b"\x00", "plain": [1]}
        assert type(opened["pair"]) is tuple


# ---------------------------------------------------------------- responses


def test_a_response_without_headers_gets_its_type_without_an_exception(app, monkeypatch):
    raised = Calls(BadRequestKeyError)
    monkeypatch.setattr(werkzeug_headers, "BadRequestKeyError", raised)
    with app.app_context():
        ours = app.response_class("ok")
        assert raised.count == 0
        flasks = FlaskResponse("ok")
        assert raised.count == 1  # werkzeug's search among no headers
    assert ours.headers.to_wsgi_list() == flasks.headers.to_wsgi_list()
    given = app.response_class("ok", headers={"X-Test": "1"})
    assert given.headers["Content-Type"] == "text/html; charset=utf-8"
    assert app.response_class("{}", mimetype="application/json").mimetype == "application/json"


def test_session_saved_only_when_a_cookie_is_to_be_sent(app, client, db, login_as, monkeypatch):
    login_as()
    save = counting(monkeypatch, flask.sessions.SecureCookieSessionInterface, "save_session")
    client.get(PAGE)
    assert save[0] == 1  # the first page stores the CSRF token
    response = client.get(PAGE)
    assert "Set-Cookie" not in response.headers and response.headers["Vary"] == "Cookie"
    assert save[0] == 1
    with client.session_transaction() as session:
        session["datapass_next"] = "/compte"  # a modified session is saved as before
    assert save[0] == 2


# ---------------------------------------------------------------- the user


def test_the_authorization_header_is_read_only_for_a_header_loader(app, client, db, monkeypatch):
    loader = Calls(lambda header: None)
    headers = {"Authorization": "Basic dGVzdDp0ZXN0"}
    assert client.get(PUBLIC, headers=headers).status_code == 200
    monkeypatch.setattr(login_manager, "_header_callback", loader)
    assert client.get(PUBLIC, headers=headers).status_code == 200
    assert loader.count == 1
    assert client.get(PUBLIC).status_code == 200  # no header: not called
    assert loader.count == 1


def test_a_page_that_signed_no_csrf_token_does_not_look_for_it(app, client, db, monkeypatch):
    key = Calls(security._token_key)
    monkeypatch.setattr(security, "_token_key", key)
    client.get("/nulle-part")
    assert key.count == 1  # before the request; nothing signed, nothing to keep after it
