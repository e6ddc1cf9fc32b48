"""The editor's space in Chromium: démarches, « Copier le lien », the link builder (its
refusals), a built link opened by a CCAS agent, the funnel and the customers' habilitations.
Every page is checked by axe-core."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from datapass.extensions import db
from tests.browser.a11y import check_page
from tests.browser.conftest import sign_in
from tests.browser.helpers import (
    AGENT,
    AGENT_SIRET,
    EDITOR,
    INSTRUCTOR,
    MILLESIME,
    button,
    label,
    submitted_request,
)

SPACE = "/editeurs/arche_mc2"
PROJECT = "Aides facultatives et secours d’urgence"


def approve(live_server, number: str) -> str:
    """The instructor's approval, through the services; the habilitation's reference."""
    from datapass.models import AuthorizationRequest, User
    from datapass.services import decisions

    with live_server.app.app_context():
        request = db.session.get(AuthorizationRequest, int(number))
        instructor = db.session.scalar(select(User).where(User.sub == INSTRUCTOR))
        decisions.decide(request, "approve", instructor, version=request.version)
        return request.authorizations[-1].public_reference


def test_the_editor_space_and_its_link_builder(open_page, live_server):
    reference = approve(live_server, submitted_request(live_server))

    editor = open_page()
    editor.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(editor, live_server, EDITOR)
    editor.get_by_role("link", name="Espace éditeur", exact=True).click()
    expect(
        editor.get_by_role("heading", level=1, name="Espace éditeur – Arche MC2")
    ).to_be_visible()
    expect(editor.get_by_role("heading", level=3, name="Millésime Action Sociale")).to_be_visible()
    public_link = editor.get_by_label("Lien public de la démarche")
    expect(public_link).to_have_value(live_server(f"/formulaires/{MILLESIME}/demande/nouveau"))
    # The funnel has this month's row; the customer's habilitation is listed with its token.
    funnel = editor.get_by_role("table", name="Demandes par démarche et par mois de début")
    expect(funnel.get_by_role("rowheader", name="Millésime Action Sociale").first).to_be_visible()
    customers = editor.get_by_role("table", name="Habilitations de vos clients")
    row = customers.get_by_role("row").filter(has=editor.get_by_role("link", name=reference))
    expect(row.get_by_text(AGENT_SIRET)).to_be_visible()
    expect(row.get_by_text(re.compile(r"^dpt_…"))).to_be_visible()
    check_page(editor, "editor-space")

    # « Copier le lien » (JavaScript): the public link in the clipboard, said aloud.
    editor.get_by_role("button", name=re.compile(r"^Copier le lien")).first.click()
    expect(editor.get_by_text("Lien copié dans le presse-papiers.")).to_be_visible()
    assert editor.evaluate("navigator.clipboard.readText()") == public_link.input_value()

    # The builder: a contact cannot be pre-filled, the refusal is next to its field.
    editor.get_by_role("link", name=re.compile(r"^Construire un lien pré-rempli")).click()
    expect(
        editor.get_by_role("heading", level=1, name=re.compile("^Lien pré-rempli"))
    ).to_be_visible()
    check_page(editor, "editor-link-builder")
    editor.goto(editor.url + "?contact_technique_email=moi%40ccas.fr&scopes[]=cnaf_adresse")
    summary = editor.get_by_role("heading", level=2, name=re.compile("^Certains paramètres"))
    expect(summary).to_be_focused()
    expect(editor).to_have_title(re.compile(r"^Erreur\s:\s"))
    refused = editor.get_by_label(re.compile("contact_technique_email"))
    expect(refused).to_be_disabled()
    expect(
        editor.locator("#parametre_refuse_0-messages").get_by_text(
            re.compile("^Ce champ ne peut pas être pré-rempli par un lien")
        )
    ).to_be_visible()
    check_page(editor, "editor-link-builder-errors")

    # Typed values: the link, copied.
    editor.get_by_role("link", name="Tout effacer").click()
    editor.get_by_label(label("Nom du projet")).fill(PROJECT)
    editor.get_by_label(label("Volumétrie approximative")).fill("40 par semaine")
    button(editor, "Construire le lien").click()
    built = editor.get_by_label("Lien pré-rempli à transmettre à vos clients")
    expect(built).to_have_value(re.compile(r"\?intitule=Aides%20facultatives"))
    link = built.input_value()
    check_page(editor, "editor-link-built")
    editor.get_by_role("button", name="Copier le lien", exact=True).click()
    expect(editor.get_by_text("Lien copié dans le presse-papiers.")).to_be_visible()
    assert editor.evaluate("navigator.clipboard.readText()") == link

    # A CCAS agent opens it: the draft starts with the editor's values.
    agent = open_page()
    sign_in(agent, live_server, AGENT)
    agent.goto(link)
    button(agent, "Débuter ma demande").click()
    button(agent, "Suivant").click()
    expect(agent.get_by_label(label("Nom du projet"))).to_have_value(PROJECT)
    expect(agent.get_by_label(label("Volumétrie approximative"))).to_have_value("40 par semaine")


def test_the_space_works_without_javascript(new_context, live_server):
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server, EDITOR)
    page.goto(live_server(SPACE))
    # No « Copier le lien »: the link stays readable and selectable in its field.
    expect(page.get_by_role("button", name=re.compile("^Copier le lien"))).to_have_count(0)
    expect(page.get_by_label("Lien public de la démarche")).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Construire un lien pré-rempli")).click()
    page.get_by_label(label("Nom du projet")).fill(PROJECT)
    button(page, "Construire le lien").click()
    expect(page.get_by_label("Lien pré-rempli à transmettre à vos clients")).to_be_visible()


def test_another_editors_space_is_not_found(page, live_server):
    sign_in(page, live_server, EDITOR)
    response = page.goto(live_server("/editeurs/arpege"))
    assert response.status == 404
    assert page.goto(live_server("/instruction/tableau-de-bord/demandes")).status == 403
