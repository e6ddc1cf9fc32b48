"""The wizard completed with the keyboard only: Tab, Shift+Tab, Space, Enter and typing."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.a11y import check_page
from tests.browser.conftest import sign_in
from tests.browser.test_applicant_journeys import CONTACTS, label


def tab_to(page, locator, limit: int = 150) -> None:
    """Press Tab until ``locator`` has the focus (as a keyboard user moves through a page)."""
    handle = locator.element_handle()
    for _ in range(limit):
        if page.evaluate("element => element === document.activeElement", handle):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{locator} never received the focus with Tab")


def press_button(page, name: str) -> None:
    tab_to(page, page.get_by_role("button", name=name, exact=True).last)
    page.keyboard.press("Enter")
    page.wait_for_load_state("load")


def type_into(page, locator, text: str) -> None:
    tab_to(page, locator)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_the_wizard_with_the_keyboard_only(page, live_server):
    sign_in(page, live_server, "demo-agent-ccas")
    page.goto(live_server("/formulaires/api-particulier-aides-sociales-ccas/demande/nouveau"))
    press_button(page, "Débuter ma demande")

    expect(page.get_by_text("Étape 1 sur 7")).to_be_visible()
    press_button(page, "Suivant")

    expect(page.get_by_text("Étape 2 sur 7")).to_be_visible()
    type_into(page, page.get_by_label(label("Description du projet")), "Aides sociales du CCAS.")
    press_button(page, "Suivant")

    expect(page.get_by_text("Étape 3 sur 7")).to_be_visible()
    tab_to(page, page.get_by_label(label("Avec un jeton d’accès")))
    page.keyboard.press("Space")
    press_button(page, "Suivant")

    expect(page.get_by_text("Étape 4 sur 7")).to_be_visible()
    expect(page.get_by_label(label("Quotient familial CAF & MSA"))).to_be_checked()
    press_button(page, "Suivant")

    expect(page.get_by_text("Étape 5 sur 7")).to_be_visible()
    type_into(page, page.get_by_label(label("Destinataires des données")), "Agents du CCAS")
    type_into(page, page.get_by_label(label("Durée de conservation des données (en mois)")), "12")
    page.keyboard.press("Enter")  # Enter in a text field means « Suivant »
    page.wait_for_load_state("load")

    expect(page.get_by_text("Étape 6 sur 7")).to_be_visible()
    for legend, (family, given, email) in CONTACTS.items():
        group = page.get_by_role("group", name=legend)
        type_into(page, group.get_by_label(label("Nom")), family)
        type_into(page, group.get_by_label(label("Prénom")), given)
        type_into(page, group.get_by_label(label("Email")), email)
        type_into(page, group.get_by_label(label("Téléphone")), "0590 12 34 56")
        type_into(page, group.get_by_label(label("Fonction")), "Agent du CCAS")
    press_button(page, "Suivant")

    expect(page.get_by_text("Étape 7 sur 7")).to_be_visible()
    tab_to(page, page.get_by_label(label("J’ai lu et j’accepte")))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label(label("Je confirme que le délégué")))
    page.keyboard.press("Space")
    press_button(page, "Soumettre la demande d’habilitation")

    expect(page.get_by_role("heading", level=1, name=re.compile(r"^Demande D\d+"))).to_be_visible()
    expect(page.get_by_text("En cours d’instruction").first).to_be_visible()
    check_page(page, "keyboard-request-submitted")
