"""base.html's layout in one call per page (views/layout.py ``page_layout``): every page the
same bytes as with the layout rendered part by part (``REFERENCE``: base.html calling each
part's own global, as it did before), for every set of roles, while impersonated, with
flashed messages, signed out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, DictLoader

from datapass import models
from datapass.views import layout
from tests.views.test_layout_fragments import PAGES, ROLES, _sign_in

BASE = Path(__file__).resolve().parents[2] / "templates" / "base.html"
# base.html's reads of ``page_layout`` and what it called for each before.
PART_BY_PART = {
    "{%- set layout_parts = page_layout(current_user) -%}": "",
    "{{ layout_parts.head }}": "{{ layout_head() }}",
    "{% if layout_parts.impersonated %}": (
        "{% if current_user and is_impersonated(current_user) %}"
    ),
    "{{ layout_parts.home }}": "{{ path_for('public.home') }}",
    "{{ layout_parts.account }}": "{{ layout_account(current_user) }}",
    "{{ layout_parts.navigation }}": "{{ layout_navigation() }}",
    "layout_parts.flashes": "get_flashed_messages(with_categories=true)",
    "{{ layout_parts.footer }}": "{{ layout_footer() }}",
    "{{ layout_parts.scripts }}": "{{ layout_scripts() }}",
}


def _reference_source() -> str:
    source = BASE.read_text()
    for read, call in PART_BY_PART.items():
        assert source.count(read) == 1, read
        source = source.replace(read, call)
    assert "layout_parts" not in source
    return source


TOKEN = re.compile(r'name="csrf_token" value="[^"]*"')
MORE_PAGES = ["/compte", "/connexion", "/accessibilite", "/page-qui-n-existe-pas"]


def _pages(client, flashes=()) -> dict[str, str]:
    texts = {}
    for page in PAGES + MORE_PAGES:
        if flashes:
            with client.session_transaction() as session:
                session["_flashes"] = list(flashes)
        texts[page] = TOKEN.sub('name="csrf_token" value=""', client.get(page).text)
    return texts


@pytest.fixture
def reference_layout(app):
    """Renders with base.html replaced by the reference while it is entered."""
    environment = app.jinja_env

    class Reference:
        def __enter__(self):
            self.loader = environment.loader
            environment.loader = ChoiceLoader(
                [DictLoader({"base.html": _reference_source()}), self.loader]
            )
            environment.cache.clear()

        def __exit__(self, *exc):
            environment.loader = self.loader
            environment.cache.clear()

    return Reference()


@pytest.mark.parametrize("who", list(ROLES))
def test_every_page_is_the_reference_layout_s(app, client, db, login_as, reference_layout, who):
    _sign_in(who, client, db, login_as)
    client.get("/")  # the sign-in's own flashes shown
    flashes = [("success", "Demande « D1 » enregistrée."), ("error", "<b>Refusée</b>")]
    for flashed in ((), flashes):
        pages = _pages(client, flashed)
        with reference_layout:
            assert _pages(client, flashed) == pages
    if who == "impersonating":
        assert "datapass-impersonation" in pages["/"]
    assert "&lt;b&gt;Refusée&lt;/b&gt;" in pages["/"]


def test_the_parts_are_kept_per_set_of_roles_and_section(app, client, db, login_as):
    layout._FRAGMENTS.clear()
    first = login_as(roles=["api_particulier:instructor"], given_name="Camille")
    client.get("/")
    client.get("/plan-du-site")
    client.get(PAGES[7])
    kept = [key[4:] for key in layout._FRAGMENTS if key[3] == "page"]
    roles = frozenset(["api_particulier:instructor"])
    assert sorted(kept, key=repr) == sorted(
        [(roles, "public.home"), (roles, None), (roles, "instruction")], key=repr
    )
    # Another user with the same roles: the same parts, their own name.
    login_as(roles=["api_particulier:instructor"], given_name="Zoé <i>")
    text = client.get("/").text
    assert "(Zoé &lt;i&gt; " in text and first.full_name not in text
    assert [key[4:] for key in layout._FRAGMENTS if key[3] == "page"] == kept


def test_the_queue_s_tabs_follow_the_roles_at_once(client, db, login_as):
    """The queue's tabs and paths are kept per set of roles and definitions
    (views/queue_lines.py ``queue_frame``): a new role shows at the next page."""
    user = login_as(roles=["api_particulier:reporter"])
    text = client.get(PAGES[7]).text
    assert ">Demandes</a>" in text and "Modèles de messages" not in text and "Droits" not in text
    user.role_grants.append(models.UserRole(role="api_particulier:manager"))
    db.session.commit()
    text = client.get(PAGES[7]).text
    assert "Modèles de messages</a>" in text and "Droits</a>" in text
    assert 'href="/instruction/tableau-de-bord/demandes/export.csv?etat=submitted' in text


def test_templates_are_kept_in_a_dictionary_and_never_reloaded(app):
    """Looking a template up is a dictionary's lookup whatever the number of templates
    loaded (Jinja's LRU cache scanned its queue of all of them at each lookup)."""
    environment = app.jinja_env
    assert type(environment.cache) is dict
    assert not app.debug and environment.auto_reload is False
    names = environment.list_templates(filter_func=lambda name: name.endswith(".html"))
    assert len(names) > 50
    first = {name: environment.get_template(name) for name in names}
    assert all(environment.get_template(name) is first[name] for name in names)
    assert len(environment.cache) >= len(names)
