"""The signed CSRF token a page embeds is reused by the session's next pages for a minute
(``security.reuse_signed_csrf_token``), never by another session, and still validated as
Flask-WTF's."""

from __future__ import annotations

from datapass import security
from datapass.views.auth import SESSION_KEY
from tests.support.http import csrf_token, post_form

PAGE = "/compte"


def _token(client) -> str:
    return csrf_token(client.get(PAGE).get_data(as_text=True))


def _entry(signed: str):
    (key,) = [k for k, (s, _) in security._signed_tokens.items() if s == signed]
    return key


def test_the_sessions_next_pages_reuse_its_signed_token(client, db, login_as):
    login_as()
    first = _token(client)
    assert csrf_token(client.get("/tableau-de-bord").get_data(as_text=True)) == first
    # The reused token is Flask-WTF's own: a form posted with it is accepted.
    response = post_form(client, "/deconnexion", page=client.get(PAGE))
    assert response.status_code in (302, 303)


def test_another_session_of_the_same_user_never_gets_it(app, client, db, login_as):
    login_as()
    with client.session_transaction() as session:
        signed_in = {SESSION_KEY: session[SESSION_KEY], "_user_id": session["_user_id"]}
    other = app.test_client()
    with other.session_transaction() as session:
        session.update(signed_in)
    assert _token(client) != _token(other)


def test_a_token_older_than_the_reuse_window_is_signed_again(client, db, login_as):
    login_as()
    first = _token(client)
    key = _entry(first)
    aged = security._signed_tokens[key][1] - security.CSRF_TOKEN_REUSE_SECONDS
    security._signed_tokens[key] = (first, aged)
    client.get(PAGE)
    # Signed anew now (the value may be equal within the same second: its time is in
    # seconds, hence the check on when it was signed).
    assert security._signed_tokens[key][1] > aged + security.CSRF_TOKEN_REUSE_SECONDS - 5


def test_a_forged_token_is_still_refused(client, db, login_as):
    login_as()
    _token(client)
    response = client.post("/deconnexion", data={"csrf_token": "forged"})
    assert response.status_code == 400
