"""The layout's parts and the queue's filter rendered once and kept (views/layout.py): the
same markup whoever renders them first, new markup as soon as what they depend on changes
(roles, catalogue, script root), values of the data escaped in the queue's lines."""

from __future__ import annotations

import dataclasses
import re

import pytest
from flask import render_template_string, url_for
from markupsafe import escape

from datapass import models, workflow
from datapass.views import layout
from datapass.views.template_helpers import html_text
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.catalogs import add_definition
from tests.support.queries import page_statements
from tests.views.test_admin_support import impersonate

QUEUE = "/instruction/tableau-de-bord/demandes"
PAGES = [
    "/",
    "/tableau-de-bord",
    "/developpeurs/applications",
    "/editeurs/arche_mc2",
    "/editeurs/arpege",
    "/admin/taches",
    "/plan-du-site",
    f"{QUEUE}?etat=submitted&tri=recent",
    "/instruction/tableau-de-bord/habilitations",
    "/instruction/brouillons",
]
ROLES = {
    "anonymous": None,
    "applicant": [],
    "instructor": ["api_particulier:instructor"],
    "manager": ["api_particulier:manager", "api_entreprise:reporter"],
    "developer": ["api_particulier:developer"],
    "editor staff": ["editor:arche_mc2"],
    "staff of two editors": ["editor:arche_mc2", "editor:arpege"],
    "admin": ["admin"],
    "impersonating": "impersonating",
}


def _layout(text: str) -> str:
    """What a page shows around its content (CSRF tokens aside: new at each session)."""
    text = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', text)
    return re.sub(r'<main id="contenu".*</main>', "", text, flags=re.S)


def _sign_in(who, client, db, login_as):
    roles = ROLES[who]
    if roles == "impersonating":
        login_as(roles=["admin"])
        target = UserFactory(roles=["api_particulier:instructor", "editor:arpege"])
        db.session.commit()
        impersonate(client, target)
    elif roles is not None:
        login_as(roles=roles)


def _clear():
    layout._FRAGMENTS.clear()


@pytest.mark.parametrize("who", list(ROLES))
def test_the_kept_layout_is_the_one_rendered_for_the_user(app, client, db, login_as, who):
    """Each page's layout rendered first for this user (nothing kept) and then again after
    every other role and page filled the kept fragments: the same markup."""
    monkeypatch = pytest.MonkeyPatch()
    add_definition(app, monkeypatch)
    try:
        _sign_in(who, client, db, login_as)
        first = {}
        for page in PAGES:
            _clear()
            first[page] = _layout(client.get(page).text)
        for page in PAGES:  # every fragment of this user's pages kept
            client.get(page)
        for page in PAGES:
            assert _layout(client.get(page).text) == first[page], page
    finally:
        monkeypatch.undo()


def test_another_user_s_kept_navigation_is_never_shown(app, client, db, login_as):
    _clear()
    login_as(roles=["admin"])
    assert "Administration" in client.get("/").text
    login_as(roles=["editor:arche_mc2"])
    text = client.get("/").text
    assert "Administration" not in text and ">Instruction<" not in text
    assert "Espace éditeur</a>" in text


def test_the_navigation_follows_a_new_role_at_once(client, db, login_as):
    user = login_as(roles=[])
    assert ">Instruction</a>" not in client.get("/").text
    user.role_grants.append(models.UserRole(role="api_particulier:reporter"))
    db.session.commit()
    text = client.get(QUEUE).text
    assert (f'<a class="fr-nav__link" href="{QUEUE}" aria-current="page">Instruction</a>') in text
    assert '<a class="fr-nav__link" href="/" aria-current="page">' not in text


def test_the_current_entry_follows_the_page(client, db, login_as):
    login_as(roles=["editor:arche_mc2", "editor:arpege"])
    text = client.get("/editeurs/arpege").text
    current = re.findall(r'<a class="fr-nav__link" href="([^"]*)" aria-current="page">', text)
    assert current == ["/editeurs/arpege"]
    text = client.get("/").text
    current = re.findall(r'<a class="fr-nav__link" href="([^"]*)" aria-current="page">', text)
    assert current == ["/"]


def test_a_new_catalogue_renders_the_fragments_again(app, client, db, login_as, monkeypatch):
    queue = f"{QUEUE}?etat=submitted&tri=recent"
    login_as(roles=["editor:arche_mc2", "editor:arpege", "api_particulier:manager"])
    assert "Espace éditeur – Arche MC2" in client.get(queue).text
    catalog = app.extensions["catalog"]
    renamed = dataclasses.replace(catalog.editors["arche_mc2"], name="Arche <Nouveau>")
    monkeypatch.setitem(
        app.extensions,
        "catalog",
        dataclasses.replace(catalog, editors={**catalog.editors, "arche_mc2": renamed}),
    )
    text = client.get(queue).text
    assert "Espace éditeur – Arche &lt;Nouveau&gt;" in text
    assert '<option value="arche_mc2">Arche &lt;Nouveau&gt;</option>' in text
    # A second definition: the tabs' links and the filter's « Définitions » follow.
    add_definition(app, monkeypatch)
    login_as(roles=["admin"])
    text = client.get(queue).text
    assert "Droits (api_entreprise)" in text
    assert 'id="definition-api_entreprise"' in text


def test_the_fragments_follow_the_script_root(app, db):
    with app.test_request_context("/"):
        assert 'href="/plan-du-site"' in layout.layout_footer()
    with app.test_request_context("/", base_url="http://localhost/datapass"):
        footer = layout.layout_footer()
        assert 'href="/datapass/plan-du-site"' in footer
        assert url_for("static", filename="css/datapass.css") in layout.layout_head()


def test_kept_fragments_are_bounded(app, db, monkeypatch):
    monkeypatch.setattr(layout, "MAX_FRAGMENTS", 3)
    _clear()
    with app.test_request_context("/"):
        for index in range(10):
            layout.fragment(layout.LAYOUT, "footer", f"état {index}")
            assert len(layout._FRAGMENTS) <= 3
        assert "Accessibilité&nbsp;: état 9" in layout.fragment(layout.LAYOUT, "footer", "état 9")


def test_queue_lines_escape_the_data(client, db, login_as):
    login_as(roles=["api_particulier:instructor"])
    intitule = "<script>alert('x')</script> & \"co\""
    submitted_request().intitule = intitule
    db.session.commit()
    text = client.get(f"{QUEUE}?etat=submitted&tri=recent").text
    assert "<script>alert" not in text
    assert f"<td>{escape(intitule)}</td>" in text


@pytest.mark.parametrize(
    "value", ["", "plain", "<b>&amp;</b>", 'l’été d\'"ici" > là & <ailleurs>', "\u00a0«\u00a0»"]
)
def test_html_text_is_markupsafe_s_escape(value):
    assert html_text(value) == str(escape(value))


def test_the_criteria_s_links_are_url_for_s(client, db, login_as):
    login_as(roles=["api_particulier:instructor"])
    for _ in range(26):
        submitted_request()
    query = "etat=submitted&etat=changes_requested&tri=ancien&q=l%27%C3%A9t%C3%A9+%26+co"
    text = client.get(f"{QUEUE}?{query}").text
    args = {"etat": ["submitted", "changes_requested"], "tri": "ancien", "q": "l'été & co"}
    with client.application.test_request_context("/"):
        export = url_for("instruction.export", **args)
        first = url_for("instruction.queue", **args)
    assert f'href="{escape(export)}"' in text
    assert f'href="{escape(first)}">Première page' in text
    text = client.get(f"{QUEUE}?etat=submitted&tri=id").text
    assert re.search(
        r'href="/instruction/tableau-de-bord/demandes\?etat=submitted&amp;tri=id'
        r'&amp;apres=[^"]+">Page suivante',
        text,
    )


def test_templates_read_the_application_s_globals(app):
    template = app.jinja_env.get_template("base.html")
    assert template.globals is app.jinja_env.globals
    own = app.jinja_env.from_string("{{ extra }}-{{ workflow.DRAFT }}", globals={"extra": "x"})
    assert "extra" not in app.jinja_env.globals
    with app.test_request_context("/"):
        assert own.render() == f"x-{workflow.DRAFT}"
        assert render_template_string("{{ has_endpoint('public.home') }}") == "True"
    # Jinja would add them to the template's globals: here the application's.
    with pytest.raises(TypeError):
        app.jinja_env.get_template("base.html", globals={"extra": "x"})
    assert "extra" not in app.jinja_env.globals


def test_the_unverified_marker_probes_the_membership_index(client, db, login_as):
    """An outer join on memberships' unique (user, organisation) index: as a NOT EXISTS,
    PostgreSQL hashed every verified membership at each page (a scan of the table)."""
    login_as(roles=["api_particulier:instructor"])
    submitted_request()
    statements = page_statements(client, f"{QUEUE}?etat=submitted&tri=recent")
    (page,) = [s for s in statements if "FROM authorization_requests" in s]
    assert "LEFT OUTER JOIN memberships ON memberships.user_id" in page
    assert not re.search(r"EXISTS \(SELECT \*\s+FROM memberships", page)
