"""The header's account entries, rendered once and given the user's name and CSRF token at
each request (views/layout.py ``layout_account``)."""

from __future__ import annotations

import re

from datapass.views import layout


def test_the_account_entries_carry_each_user_s_name_escaped_and_token(client, login_as):
    user = login_as(given_name="Zoé <b>", family_name="O'Hara & fils")
    page = client.get("/compte").text
    assert (
        'Mon compte<span class="datapass-header-user">&nbsp;(Zoé &lt;b&gt; O&#39;Hara &amp; fils)'
        in page
    )
    assert "\x00" not in page and "<b>" not in page
    (token,) = set(
        re.findall(
            r'name="csrf_token" value="([^"]+)">\s*<button class="fr-btn fr-icon-logout', page
        )
    )
    assert client.post("/deconnexion", data={"csrf_token": token}).status_code in (302, 303)
    # Another user, the same kept entries: their own name.
    other = login_as(given_name="Camille", family_name="Martin")
    assert other.full_name != user.full_name
    page = client.get("/compte").text
    assert f"&nbsp;({other.full_name})" in page and "Zoé" not in page


def test_signed_out_the_entries_are_the_sign_in_link(client, db):
    page = client.get("/").text
    assert 'href="/connexion">Se connecter</a>' in page
    assert "Se déconnecter" not in page and "\x00" not in page
    assert any(key[3] == "account" for key in layout._FRAGMENTS)
