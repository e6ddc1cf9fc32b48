"""End-to-end journeys in Debian's Chromium: an editor's link to an approved, revoked token.

Each page visited is checked by axe-core (``check_page``), empty steps and steps with errors
included. Labels and roles, never CSS selectors.
"""

from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from datapass.demo import DEMO_INTROSPECTION_CLIENT
from tests.browser.a11y import check_page
from tests.browser.conftest import EXTERNAL_URL, sign_in

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
CNAF = ["cnaf_quotient_familial", "cnaf_allocataires", "cnaf_enfants", "cnaf_adresse"]
CONTACTS = {
    "Responsable de traitement": ("Lefèvre", "Anne", "anne.lefevre@ccas-villedemo.fr"),
    "Délégué à la protection des données": ("Moreau", "Karim", "dpo@ccas-villedemo.fr"),
    "Contact technique": ("Petit", "Julie", "julie.petit@ccas-villedemo.fr"),
    "Contact métier": ("Dupont", "Camille", "camille.dupont@ccas-villedemo.fr"),
}


def label(text: str) -> re.Pattern:
    """A field's accessible name starts with its label (then « * » and the hint)."""
    return re.compile(rf"^{re.escape(text)}")


def tick(page, text: str) -> None:
    """A DSFR checkbox: its label covers the input, so the label is what a user clicks."""
    page.get_by_label(label(text)).check(force=True)


def next_step(page) -> None:
    page.get_by_role("button", name="Suivant", exact=True).last.click()


def new_page(browser, live_server, **options):
    context = browser.new_context(locale="fr-FR", color_scheme="light", **options)
    context.route(EXTERNAL_URL, lambda route: route.abort())
    context.set_default_timeout(10_000)
    return context.new_page()


def fill_contacts(page) -> None:
    for legend, (family, given, email) in CONTACTS.items():
        group = page.get_by_role("group", name=legend)
        group.get_by_label(label("Nom")).fill(family)
        group.get_by_label(label("Prénom")).fill(given)
        group.get_by_label(label("Email")).fill(email)
        group.get_by_label(label("Téléphone")).fill("01 41 15 40 00")
        group.get_by_label(label("Fonction")).fill("Agent du CCAS")


def introspect(live_server, token: str) -> dict:
    response = requests.post(
        live_server("/api/oauth/introspect"),
        data={"token": token},
        auth=(DEMO_INTROSPECTION_CLIENT["client_id"], DEMO_INTROSPECTION_CLIENT["secret"]),
        timeout=10,
    )
    assert response.status_code == 200
    return response.json()


def submit_through_the_editor_link(browser, live_server, tmp_path):
    """The Millésime link, signed out, to a submitted request: (agent's page, number)."""
    pdf = tmp_path / "deliberation-ca-2024.pdf"
    pdf.write_bytes(PDF)
    page = new_page(browser, live_server)
    page.goto(live_server("/formulaires/api-particulier-ccas-arche-mc2/demande/nouveau"))
    expect(page.get_by_role("heading", level=1, name="Millésime Action Sociale")).to_be_visible()
    check_page(page, "journey-introduction-signed-out")
    page.get_by_role("link", name="Se connecter pour débuter ma demande").click()
    page.get_by_role("button", name=re.compile("ProConnect")).click()
    page.wait_for_url(f"{live_server.idp_url}/**")
    page.get_by_role("textbox", name="sub").fill("demo-agent-ccas")
    page.get_by_role("button", name="Authorize", exact=True).click()
    page.wait_for_url(re.compile(r".*/formulaires/api-particulier-ccas-arche-mc2/demande/nouveau"))
    check_page(page, "journey-introduction")
    page.get_by_role("button", name="Débuter ma demande").click()

    expect(page.get_by_text("Étape 1 sur 6")).to_be_visible()
    check_page(page, "journey-step-organisation")
    next_step(page)

    expect(page.get_by_text("Étape 2 sur 6")).to_be_visible()
    page.get_by_label(label("Nom du projet")).fill("")
    next_step(page)
    expect(page.get_by_role("heading", name="Le formulaire contient une erreur")).to_be_visible()
    check_page(page, "journey-step-projet-errors")
    page.get_by_label(label("Nom du projet")).fill("Aides facultatives du CCAS de Villedemo")
    next_step(page)

    expect(page.get_by_text("Étape 3 sur 6")).to_be_visible()
    check_page(page, "journey-step-cadre-juridique")
    page.get_by_label(label("Délibération ou texte juridique (PDF)")).set_input_files(str(pdf))
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("link", name=re.compile("deliberation-ca-2024.pdf"))).to_be_visible()
    check_page(page, "journey-step-cadre-juridique-document")
    next_step(page)

    expect(page.get_by_text("Étape 4 sur 6")).to_be_visible()
    next_step(page)
    expect(page.get_by_role("heading", name=re.compile("Le formulaire contient"))).to_be_visible()
    check_page(page, "journey-step-donnees-personnelles-errors")
    page.get_by_label(label("Destinataires des données")).fill("Travailleurs sociaux du CCAS")
    page.get_by_label(label("Durée de conservation des données (en mois)")).fill("24")
    next_step(page)

    expect(page.get_by_text("Étape 5 sur 6")).to_be_visible()
    next_step(page)
    expect(page.get_by_role("heading", name=re.compile("Le formulaire contient"))).to_be_visible()
    check_page(page, "journey-step-contacts-errors")
    fill_contacts(page)
    next_step(page)

    expect(page.get_by_text("Étape 6 sur 6")).to_be_visible()
    check_page(page, "journey-step-synthese")
    tick(page, "J’ai lu et j’accepte les conditions générales d’utilisation")
    tick(page, "Je confirme que le délégué à la protection des données")
    page.get_by_role("button", name="Soumettre la demande d’habilitation").click()

    heading = page.get_by_role("heading", level=1, name=re.compile(r"^Demande D\d+"))
    expect(heading).to_be_visible()
    number = re.search(r"D(\d+)", heading.inner_text()).group(1)
    check_page(page, "journey-request-submitted")
    page.goto(live_server("/tableau-de-bord"))
    card = page.get_by_role("link", name=re.compile(rf"^D{number} "))
    expect(card).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("En cours d’instruction"))).to_be_visible()
    check_page(page, "journey-dashboard")
    return page, number


def instructor_page(browser, live_server):
    page = new_page(browser, live_server)
    sign_in(page, live_server, "demo-instructeur")
    return page


def test_agent_submits_through_the_editor_link(browser, live_server, tmp_path):
    page, number = submit_through_the_editor_link(browser, live_server, tmp_path)
    section = page.get_by_role("region", name=re.compile("En cours d’instruction"))
    expect(section.get_by_role("link", name=re.compile(rf"^D{number} "))).to_be_visible()
    page.context.close()


def approve(instructor, live_server, number) -> None:
    instructor.goto(live_server(f"/instruction/demandes/{number}"))
    instructor.get_by_role("link", name="Valider", exact=True).click()
    check_page(instructor, "journey-decision-approve")
    instructor.get_by_role("button", name="Valider", exact=True).click()
    expect(instructor.get_by_text(re.compile("l’habilitation est active"))).to_be_visible()


def test_changes_requested_then_resubmitted_and_approved(browser, live_server, tmp_path):
    agent, number = submit_through_the_editor_link(browser, live_server, tmp_path)
    instructor = instructor_page(browser, live_server)
    # The instructor finds the request by its SIRET and asks for changes.
    instructor.goto(live_server("/instruction/tableau-de-bord/demandes"))
    check_page(instructor, "journey-queue")
    instructor.get_by_label(label("Rechercher")).fill("26920023400012")
    instructor.get_by_role("button", name="Filtrer").click()
    instructor.get_by_role("link", name=f"D{number}", exact=True).click()
    check_page(instructor, "journey-instruction-request")
    instructor.get_by_role("link", name="Demander des modifications").click()
    check_page(instructor, "journey-decision-request-changes")
    instructor.get_by_label(label("Modifications demandées")).fill(
        "Précisez les aides concernées dans la description."
    )
    instructor.get_by_role("button", name="Demander des modifications").click()
    expect(instructor.get_by_text("Les modifications ont été demandées")).to_be_visible()

    # The agent reads the reason, edits and submits again.
    agent.goto(live_server(f"/demandes/{number}"))
    expect(
        agent.get_by_role("heading", name="Les instructeurs demandent des modifications")
    ).to_be_visible()
    expect(
        agent.get_by_text("Précisez les aides concernées dans la description.").first
    ).to_be_visible()
    check_page(agent, "journey-request-changes-requested")
    agent.goto(live_server(f"/demandes/{number}/etapes/projet"))
    agent.get_by_label(label("Nom du projet")).fill("Aides facultatives et secours d’urgence")
    agent.get_by_role("button", name="Enregistrer").click()
    agent.goto(live_server(f"/demandes/{number}/etapes/synthese"))
    tick(agent, "J’ai lu et j’accepte")
    tick(agent, "Je confirme que le délégué")
    agent.get_by_role("button", name="Soumettre la demande d’habilitation").click()
    expect(agent.get_by_text("En cours d’instruction").first).to_be_visible()

    # The instructor sees what changed and approves.
    instructor.goto(live_server(f"/instruction/demandes/{number}"))
    expect(instructor.get_by_text(re.compile("Nom du projet modifié"))).to_be_visible()
    approve(instructor, live_server, number)
    agent.goto(live_server("/tableau-de-bord"))
    expect(agent.get_by_role("heading", name=re.compile("Habilitations actives"))).to_be_visible()
    agent.context.close()
    instructor.context.close()


def test_token_revealed_introspected_then_revoked(browser, live_server, tmp_path):
    agent, number = submit_through_the_editor_link(browser, live_server, tmp_path)
    instructor = instructor_page(browser, live_server)
    approve(instructor, live_server, number)

    # The agent reveals the token; the API provider finds it active with the granted scopes.
    agent.goto(live_server(f"/demandes/{number}"))
    agent.get_by_role("link", name=re.compile(r"^H\d+$")).click()
    check_page(agent, "journey-habilitation")
    agent.get_by_role("button", name="Afficher le jeton").click()
    token = agent.get_by_label("Votre jeton").input_value()
    check_page(agent, "journey-habilitation-token-revealed")
    assert token.startswith("dpt_")
    answer = introspect(live_server, token)
    assert answer["active"] is True
    assert sorted(answer["scope"].split()) == sorted(CNAF)
    assert answer["sub"] == "26920023400012"

    # The instructor revokes: the next introspection says inactive.
    instructor.goto(live_server(f"/instruction/demandes/{number}"))
    instructor.get_by_role("link", name="Révoquer", exact=True).click()
    instructor.get_by_label(label("Motif de la révocation")).fill("Fin de l’utilisation")
    instructor.get_by_role("button", name="Révoquer", exact=True).click()
    assert introspect(live_server, token) == {"active": False}
    agent.context.close()
    instructor.context.close()


def test_every_step_fits_a_320_px_screen(browser, live_server):
    page = new_page(browser, live_server, viewport={"width": 320, "height": 720})
    sign_in(page, live_server, "demo-agent-ccas")
    page.goto(live_server("/formulaires/api-particulier-pass-famille/demande/nouveau"))
    page.get_by_role("button", name="Débuter ma demande").click()
    number = re.search(r"/demandes/(\d+)/", page.url).group(1)
    for slug in (
        "organisation",
        "projet",
        "cadre-juridique",
        "donnees",
        "donnees-personnelles",
        "contacts",
        "synthese",
    ):
        page.goto(live_server(f"/demandes/{number}/etapes/{slug}"))
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{slug}: {overflow} px of horizontal scroll at 320 px"
    page.context.close()
