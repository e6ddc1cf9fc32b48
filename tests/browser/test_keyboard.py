"""The wizard completed with the keyboard only: Tab, Shift+Tab, Space, Enter and typing.

No mouse click once signed in: the focus moves with Tab (or Shift+Tab when the target comes
before the focus), checkboxes are ticked with Space, buttons pressed with Enter. Every step
is seen empty and with its errors, whose summary must take the focus; each page is checked
by axe-core. A démarche of its own (« Aides sociales des CCAS »), so the test does not
depend on the other journeys.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.a11y import check_page
from tests.browser.conftest import sign_in
from tests.browser.helpers import (
    AGENT,
    CONTACTS,
    JOB,
    PHONE,
    button,
    expect_errors,
    label,
    request_number,
    step_heading,
)

FORM = "api-particulier-aides-sociales-ccas"
STEPS = 8  # organisation, projet, cadre juridique, modalités, données, données personnelles,
# contacts, synthèse
IS_FOCUSED = "element => element === document.activeElement"
# Whether the element comes before the focused one in the document (Shift+Tab reaches it).
IS_BEFORE_FOCUS = """element => {
  const focused = document.activeElement;
  if (!focused || focused === document.body) return false;
  return Boolean(focused.compareDocumentPosition(element) & Node.DOCUMENT_POSITION_PRECEDING);
}"""


def focus(page, locator, limit: int = 200) -> None:
    """Move the focus to ``locator`` as a keyboard user does: Tab, or Shift+Tab if behind."""
    handle = locator.element_handle()
    key = "Shift+Tab" if page.evaluate(IS_BEFORE_FOCUS, handle) else "Tab"
    for _ in range(limit):
        if page.evaluate(IS_FOCUSED, handle):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{locator} never received the focus with {key}")


def press(page, name: str) -> None:
    """Focus the (visible) button ``name`` and press Enter."""
    focus(page, button(page, name))
    page.keyboard.press("Enter")
    page.wait_for_load_state("load")


def type_into(page, locator, text: str) -> None:
    """Focus a field, select what it holds, type over it."""
    focus(page, locator)
    page.keyboard.press("Control+A")
    if text:
        page.keyboard.type(text)
    else:
        page.keyboard.press("Backspace")


def toggle(page, name: str) -> None:
    focus(page, page.get_by_label(label(name)))
    page.keyboard.press("Space")


def test_the_wizard_with_the_keyboard_only(page, live_server):
    sign_in(page, live_server, AGENT)
    page.goto(live_server(f"/formulaires/{FORM}/demande/nouveau"))
    check_page(page, "keyboard-introduction")
    press(page, "Débuter ma demande")

    # 1. The organisation: a mistyped SIRET, Enter in the field; then emptied.
    step_heading(page, 1, STEPS, "Votre organisation")
    check_page(page, "keyboard-1-organisation")
    siret = page.get_by_label(label("Numéro SIRET"))
    type_into(page, siret, "2692002340001")
    page.keyboard.press("Enter")  # Enter in a text field means « Suivant »
    expect_errors(page)
    check_page(page, "keyboard-1-organisation-errors")
    type_into(page, siret, "")
    press(page, "Suivant")

    # 2. The project: the name is pre-filled, the description is not.
    step_heading(page, 2, STEPS, "Mon projet")
    check_page(page, "keyboard-2-projet")
    press(page, "Suivant")
    expect_errors(page)
    check_page(page, "keyboard-2-projet-errors")
    type_into(
        page,
        page.get_by_label(label("Description du projet")),
        "Instruire les aides sociales du CCAS sans demander d’attestation CAF.",
    )
    press(page, "Suivant")

    # 3. The legal framework: pre-filled, enough for the CAF data (no délibération needed).
    step_heading(page, 3, STEPS, "Le cadre juridique")
    expect(page.get_by_text("Quand une délibération est-elle obligatoire")).to_be_visible()
    check_page(page, "keyboard-3-cadre-juridique")
    press(page, "Suivant")

    # 4. The modalities: a checkbox, with Space.
    step_heading(page, 4, STEPS, "Les modalités d’appel de l’API")
    check_page(page, "keyboard-4-modalites")
    press(page, "Suivant")
    expect_errors(page)
    check_page(page, "keyboard-4-modalites-errors")
    toggle(page, "Avec un jeton d’accès")
    expect(page.get_by_label(label("Avec un jeton d’accès"))).to_be_checked()
    press(page, "Suivant")

    # 5. The data: pre-checked; unchecked (an error), checked again.
    step_heading(page, 5, STEPS, "Les données")
    quotient = page.get_by_label(label("Quotient familial CAF & MSA"))
    expect(quotient).to_be_checked()
    check_page(page, "keyboard-5-donnees")
    toggle(page, "Quotient familial CAF & MSA")
    press(page, "Suivant")
    expect_errors(page)
    expect(page.get_by_text("Cochez au moins une donnée.").first).to_be_visible()
    check_page(page, "keyboard-5-donnees-errors")
    toggle(page, "Quotient familial CAF & MSA")
    expect(quotient).to_be_checked()
    press(page, "Suivant")

    # 6. Personal data: typed, then Enter in the last field.
    step_heading(page, 6, STEPS, "Le traitement des données personnelles")
    check_page(page, "keyboard-6-donnees-personnelles")
    press(page, "Suivant")
    expect_errors(page)
    check_page(page, "keyboard-6-donnees-personnelles-errors")
    type_into(page, page.get_by_label(label("Destinataires des données")), "Agents du CCAS")
    type_into(page, page.get_by_label(label("Durée de conservation des données (en mois)")), "12")
    page.keyboard.press("Enter")
    page.wait_for_load_state("load")

    # 7. The people: typed, and « C’est moi » for the business contact.
    step_heading(page, 7, STEPS, "Les personnes impliquées")
    check_page(page, "keyboard-7-contacts")
    press(page, "Suivant")
    expect_errors(page)
    check_page(page, "keyboard-7-contacts-errors")
    for legend, (family, given, email) in CONTACTS.items():
        if legend == "Contact métier":
            continue
        group = page.get_by_role("group", name=legend)
        type_into(page, group.get_by_label(label("Nom")), family)
        type_into(page, group.get_by_label(label("Prénom")), given)
        type_into(page, group.get_by_label(label("Email")), email)
        type_into(page, group.get_by_label(label("Téléphone")), PHONE)
        if legend != "Délégué à la protection des données":  # implied, not asked
            type_into(page, group.get_by_label(label("Fonction")), JOB)
    itsme = page.get_by_role(
        "button", name="C’est moi : remplir le contact métier avec mes informations"
    )
    focus(page, itsme)
    page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    metier = page.get_by_role("group", name="Contact métier")
    expect(metier.get_by_label(label("Email"))).to_have_value("camille.dupont@ccas-villedemo.fr")
    expect(
        page.get_by_role("group", name="Contact technique").get_by_label(label("Nom"))
    ).to_have_value(CONTACTS["Contact technique"][0])
    check_page(page, "keyboard-7-contacts-itsme")
    press(page, "Suivant")

    # 8. The summary: not without the commitments; then ticked with Space.
    step_heading(page, 8, STEPS, "Synthèse")
    check_page(page, "keyboard-8-synthese")
    press(page, "Soumettre la demande d’habilitation")
    expect_errors(page)
    check_page(page, "keyboard-8-synthese-errors")
    toggle(page, "J’ai lu et j’accepte les conditions générales d’utilisation")
    toggle(page, "Je confirme que le délégué à la protection des données")
    press(page, "Soumettre la demande d’habilitation")

    request_number(page)
    expect(page.get_by_text("Votre demande est en cours d’instruction.")).to_be_visible()
    check_page(page, "keyboard-request-submitted")
