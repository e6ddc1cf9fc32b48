"""End-to-end journeys in Debian's Chromium, from an editor's link to a revoked token.

1. A CCAS agent follows the Millésime link signed out, signs in, fills every step (each one
   seen empty and with its errors) and submits.
2. The instructor finds a request by SIRET and asks for changes; the agent edits and submits
   again; the instructor reads what changed and approves.
3. The agent shows the token once; the API provider's introspection finds it active with the
   granted scopes, then inactive once the instructor has revoked the habilitation.

Every page of the app visited is checked by axe-core (``check_page``). Each test works on a
request of its own (journeys 2 and 3 start from one submitted through the services), so
they pass in any order on the shared live server.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.a11y import check_page
from tests.browser.conftest import sign_in
from tests.browser.helpers import (
    AGENT,
    AGENT_SIRET,
    INSTRUCTOR,
    LEGAL_TEXT,
    MILLESIME,
    MILLESIME_ANSWERS,
    MILLESIME_LOCKED_CONTACTS,
    MILLESIME_SCOPES,
    PDF,
    button,
    expect_errors,
    fill_contacts,
    introspect,
    label,
    request_number,
    step_heading,
    submitted_request,
    tick,
)

PROJECT = "Aides facultatives du CCAS de Villedemo"
STEPS = 6  # organisation, projet, cadre juridique, données personnelles, contacts, synthèse


def next_step(page) -> None:
    button(page, "Suivant").click()


def test_ccas_agent_submits_through_the_editor_link(page, live_server, tmp_path):
    pdf = tmp_path / "deliberation-ca-2024.pdf"
    pdf.write_bytes(PDF)

    # Signed out: the editor's link, then the sign-in page and the provider's page.
    page.goto(live_server(f"/formulaires/{MILLESIME}/demande/nouveau"))
    expect(page.get_by_role("heading", level=1, name="Millésime Action Sociale")).to_be_visible()
    check_page(page, "journey-introduction-signed-out")
    page.get_by_role("link", name="Se connecter pour débuter ma demande").click()
    expect(page.get_by_role("heading", level=1, name="Se connecter à DataPass")).to_be_visible()
    check_page(page, "journey-sign-in")
    page.get_by_role("button", name=re.compile("ProConnect")).click()
    # The bundled provider's page stands in for ProConnect: not the app, not checked.
    page.wait_for_url(f"{live_server.idp_url}/**")
    page.get_by_role("textbox", name="sub").fill(AGENT)
    page.get_by_role("button", name="Authorize", exact=True).click()

    # Back on the form's introduction, signed in.
    page.wait_for_url(live_server(f"/formulaires/{MILLESIME}/demande/nouveau"))
    expect(page.get_by_text("Vous faites la demande pour CCAS de Villedemo")).to_be_visible()
    check_page(page, "journey-introduction")
    button(page, "Débuter ma demande").click()

    # 1. The organisation: a wrong SIRET is refused, none keeps the agent's own.
    step_heading(page, 1, STEPS, "Votre organisation")
    expect(page.get_by_text(AGENT_SIRET, exact=True)).to_be_visible()
    check_page(page, "journey-1-organisation")
    page.get_by_label(label("Numéro SIRET")).fill("12345678901234")
    next_step(page)
    expect_errors(page)
    check_page(page, "journey-1-organisation-errors")
    page.get_by_label(label("Numéro SIRET")).fill("")
    next_step(page)

    # 2. The project: pre-filled by the editor; emptied, then named.
    step_heading(page, 2, STEPS, "Mon projet")
    expect(page.get_by_label(label("Nom du projet"))).not_to_be_empty()
    check_page(page, "journey-2-projet")
    page.get_by_label(label("Nom du projet")).fill("")
    page.get_by_label(label("Description du projet")).fill("")
    next_step(page)
    expect_errors(page)
    check_page(page, "journey-2-projet-errors")
    page.get_by_label(label("Nom du projet")).fill(PROJECT)
    page.get_by_label(label("Description du projet")).fill(
        MILLESIME_ANSWERS["basic_infos"]["description"]
    )
    next_step(page)

    # 3. The legal framework (pre-filled for CCAS): emptied, then the délibération uploaded.
    step_heading(page, 3, STEPS, "Le cadre juridique")
    nature = page.get_by_label(label("Précisez la nature et les références du texte"))
    expect(nature).not_to_be_empty()
    check_page(page, "journey-3-cadre-juridique")
    nature.fill("")
    page.get_by_label(label("URL du texte")).fill("")
    next_step(page)
    expect_errors(page)
    check_page(page, "journey-3-cadre-juridique-errors")
    nature.fill(LEGAL_TEXT)
    page.get_by_label(label("Délibération ou texte juridique (PDF)")).set_input_files(pdf)
    button(page, "Enregistrer").click()
    step_heading(page, 3, STEPS, "Le cadre juridique")
    expect(page.get_by_role("link", name=re.compile(r"^deliberation-ca-2024\.pdf"))).to_be_visible()
    expect(page.get_by_role("button", name="Retirer deliberation-ca-2024.pdf")).to_be_visible()
    check_page(page, "journey-3-cadre-juridique-document")
    next_step(page)

    # 4. Personal data: pre-filled by the editor (recipients, 24 months), still editable.
    step_heading(page, 4, STEPS, "Le traitement des données personnelles")
    expect(page.get_by_text("Nous avons pré-rempli des informations")).to_be_visible()
    retention = page.get_by_label(label("Durée de conservation des données (en mois)"))
    expect(retention).to_have_value("24")
    check_page(page, "journey-4-donnees-personnelles")
    page.get_by_label(label("Destinataires des données")).fill("")
    next_step(page)
    expect_errors(page)
    check_page(page, "journey-4-donnees-personnelles-errors")
    page.get_by_label(label("Destinataires des données")).fill("Travailleurs sociaux du CCAS")
    next_step(page)

    # 5. The people involved; the technical contact is the editor's support, fixed.
    step_heading(page, 5, STEPS, "Les personnes impliquées")
    technical = page.get_by_role("group", name="Contact technique")
    expect(technical.get_by_text("Contact fixé par votre éditeur")).to_be_visible()
    expect(technical.get_by_text("Support Millésime Action Sociale")).to_be_visible()
    expect(technical.get_by_role("textbox")).to_have_count(0)
    # The demo CCAS already filed a request (the seed's): its contacts are remembered.
    expect(page.locator("#remembered-contacts")).to_contain_text(
        "Contacts repris de votre demande D"
    )
    check_page(page, "journey-5-contacts")
    page.get_by_role("group", name="Responsable de traitement").get_by_label(label("Email")).fill(
        ""
    )
    next_step(page)
    expect_errors(page)
    check_page(page, "journey-5-contacts-errors")
    fill_contacts(page, locked=MILLESIME_LOCKED_CONTACTS)
    next_step(page)

    # 6. The summary: not without the two commitments.
    step_heading(page, 6, STEPS, "Synthèse")
    expect(page.get_by_text(PROJECT)).to_be_visible()
    check_page(page, "journey-6-synthese")
    button(page, "Soumettre la demande d’habilitation").click()
    expect_errors(page)
    check_page(page, "journey-6-synthese-errors")
    tick(page, "J’ai lu et j’accepte les conditions générales d’utilisation")
    tick(
        page,
        "Je confirme que le délégué à la protection des données de mon organisation est "
        "informé de ma demande",
    )
    button(page, "Soumettre la demande d’habilitation").click()

    number = request_number(page)
    expect(page.get_by_text("Votre demande est en cours d’instruction.")).to_be_visible()
    check_page(page, "journey-request-submitted")

    page.goto(live_server("/tableau-de-bord"))
    section = page.get_by_role("region", name=re.compile(r"^En cours d’instruction"))
    expect(section.get_by_role("link", name=f"D{number} – {PROJECT}")).to_be_visible()
    check_page(page, "journey-dashboard")


def test_changes_requested_then_resubmitted_and_approved(open_page, live_server):
    number = submitted_request(live_server)
    old_name = MILLESIME_ANSWERS["basic_infos"]["intitule"]
    new_name = "Aides sociales et secours d’urgence du CCAS"
    reason = "Précisez les aides concernées dans le nom du projet."

    # The instructor finds the request by the organisation's SIRET.
    instructor = open_page()
    sign_in(instructor, live_server, INSTRUCTOR)
    instructor.goto(live_server("/instruction/tableau-de-bord/demandes"))
    expect(instructor.get_by_role("heading", level=1, name="Instruction")).to_be_visible()
    check_page(instructor, "journey-queue")
    instructor.get_by_label(label("Rechercher")).fill(AGENT_SIRET)
    button(instructor, "Filtrer").click()
    expect(instructor.get_by_label(label("Rechercher"))).to_have_value(AGENT_SIRET)
    check_page(instructor, "journey-queue-search")
    instructor.get_by_role("link", name=f"D{number}", exact=True).click()
    expect(
        instructor.get_by_role("heading", level=1, name=f"Demande D{number} : {old_name}")
    ).to_be_visible()
    check_page(instructor, "journey-instruction-request")

    # Changes requested: not without saying which.
    instructor.get_by_role("link", name="Demander des modifications", exact=True).click()
    check_page(instructor, "journey-decision-request-changes")
    button(instructor, "Demander des modifications").click()
    expect_errors(instructor)
    check_page(instructor, "journey-decision-request-changes-errors")
    instructor.get_by_label(label("Modifications demandées")).fill(reason)
    button(instructor, "Demander des modifications").click()
    expect(
        instructor.get_by_text("Les modifications ont été demandées au demandeur.")
    ).to_be_visible()
    check_page(instructor, "journey-instruction-changes-requested")

    # The agent reads why, edits the project's name and submits again.
    agent = open_page()
    sign_in(agent, live_server, AGENT)
    agent.goto(live_server(f"/demandes/{number}"))
    alert = agent.get_by_role(
        "heading", level=2, name="Les instructeurs demandent des modifications"
    )
    expect(alert).to_be_visible()
    expect(agent.get_by_text(reason, exact=True).first).to_be_visible()
    check_page(agent, "journey-request-changes-requested")
    agent.get_by_role("link", name="Modifier la demande").click()
    step_heading(agent, 1, STEPS, "Votre organisation")
    check_page(agent, "journey-edit-1-organisation")
    next_step(agent)
    step_heading(agent, 2, STEPS, "Mon projet")
    expect(agent.get_by_label(label("Nom du projet"))).to_have_value(old_name)
    check_page(agent, "journey-edit-2-projet")
    agent.get_by_label(label("Nom du projet")).fill(new_name)
    next_step(agent)
    for index, title, name in (
        (3, "Le cadre juridique", "cadre-juridique"),
        (4, "Le traitement des données personnelles", "donnees-personnelles"),
        (5, "Les personnes impliquées", "contacts"),
    ):
        step_heading(agent, index, STEPS, title)
        check_page(agent, f"journey-edit-{index}-{name}")
        next_step(agent)
    step_heading(agent, 6, STEPS, "Synthèse")
    expect(agent.get_by_text(new_name)).to_be_visible()
    check_page(agent, "journey-edit-6-synthese")
    tick(agent, "J’ai lu et j’accepte les conditions générales d’utilisation")
    tick(agent, "Je confirme que le délégué à la protection des données")
    button(agent, "Soumettre la demande d’habilitation").click()
    expect(agent.get_by_text("Votre demande est en cours d’instruction.")).to_be_visible()
    check_page(agent, "journey-request-resubmitted")

    # The instructor reads what changed in the history, and approves.
    instructor.goto(live_server(f"/instruction/demandes/{number}"))
    expect(
        instructor.get_by_text(f"Nom du projet modifié : « {old_name} » → « {new_name} ».")
    ).to_be_visible()
    check_page(instructor, "journey-instruction-resubmitted")
    instructor.get_by_role("link", name="Valider", exact=True).click()
    expect(instructor.get_by_role("heading", level=1, name="Valider la demande")).to_be_visible()
    check_page(instructor, "journey-decision-approve")
    button(instructor, "Valider").click()
    expect(
        instructor.get_by_text(f"La demande D{number} est validée : l’habilitation est active.")
    ).to_be_visible()
    check_page(instructor, "journey-instruction-approved")

    agent.goto(live_server(f"/demandes/{number}"))
    expect(agent.get_by_role("link", name=re.compile(r"^H\d+$"))).to_be_visible()
    check_page(agent, "journey-request-approved")


def test_token_shown_once_introspected_then_revoked(open_page, live_server):
    number = submitted_request(live_server)
    instructor = open_page()
    sign_in(instructor, live_server, INSTRUCTOR)
    instructor.goto(live_server(f"/instruction/demandes/{number}/decisions/approve"))
    check_page(instructor, "journey-token-decision-approve")
    button(instructor, "Valider").click()
    expect(instructor.get_by_text(re.compile("l’habilitation est active"))).to_be_visible()

    # The agent opens the habilitation from the request's page and shows the token.
    agent = open_page()
    sign_in(agent, live_server, AGENT)
    agent.goto(live_server(f"/demandes/{number}"))
    habilitation = agent.get_by_role("link", name=re.compile(r"^H\d+$"))
    reference = habilitation.inner_text()
    habilitation.click()
    expect(agent.get_by_role("heading", level=1, name=f"Habilitation {reference}")).to_be_visible()
    expect(agent.get_by_text("Active", exact=True)).to_be_visible()
    check_page(agent, "journey-habilitation")
    habilitation_url = agent.url
    button(agent, "Afficher le jeton").click()
    expect(agent.get_by_role("heading", name="Copiez ce jeton maintenant")).to_be_visible()
    token = agent.get_by_label("Votre jeton", exact=True).input_value()
    assert token.startswith("dpt_")
    check_page(agent, "journey-habilitation-token-shown")

    # Shown once: the habilitation's page never shows it again.
    agent.goto(habilitation_url)
    expect(agent.get_by_label("Votre jeton", exact=True)).to_have_count(0)
    expect(button(agent, "Afficher le jeton")).to_have_count(0)
    expect(agent.get_by_text(re.compile(r"^Ce jeton a déjà été affiché"))).to_be_visible()
    check_page(agent, "journey-habilitation-token-already-shown")

    # The API provider introspects it: active, with exactly the granted scopes.
    answer = introspect(live_server, token)
    assert answer["active"] is True
    assert sorted(answer["scope"].split()) == sorted(MILLESIME_SCOPES)
    assert answer["sub"] == AGENT_SIRET
    assert answer["habilitation"] == reference

    # The instructor revokes the habilitation, with a reason.
    instructor.goto(live_server(f"/instruction/demandes/{number}"))
    instructor.get_by_role("link", name="Révoquer", exact=True).click()
    expect(
        instructor.get_by_role("heading", level=1, name="Révoquer l’habilitation")
    ).to_be_visible()
    check_page(instructor, "journey-decision-revoke")
    button(instructor, "Révoquer").click()
    expect_errors(instructor)
    check_page(instructor, "journey-decision-revoke-errors")
    instructor.get_by_label(label("Motif de la révocation")).fill(
        "Fin de l’utilisation du logiciel."
    )
    button(instructor, "Révoquer").click()
    expect(instructor.get_by_text("L’habilitation a été révoquée.")).to_be_visible()
    check_page(instructor, "journey-instruction-revoked")

    assert introspect(live_server, token) == {"active": False}
    agent.goto(habilitation_url)
    expect(agent.get_by_text("Révoquée", exact=True)).to_be_visible()
    check_page(agent, "journey-habilitation-revoked")
