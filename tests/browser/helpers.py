"""What the browser journeys share: the applicant's answers, field look-ups, set-ups.

Fields are found by their label or role as a user perceives them, never by CSS selector.
"""

from __future__ import annotations

import re

import requests
from playwright.sync_api import Page, expect
from sqlalchemy import select

from datapass.demo import DEMO_INTROSPECTION_CLIENT
from datapass.extensions import db

AGENT = "demo-agent-ccas"
INSTRUCTOR = "demo-instructeur"
EDITOR = "demo-editeur"
AGENT_SIRET = "26920023400012"
MILLESIME = "api-particulier-ccas-arche-mc2"
# The Millésime form's scopes: fixed by the editor, granted as they are.
MILLESIME_SCOPES = ["cnaf_quotient_familial", "cnaf_allocataires", "cnaf_enfants", "cnaf_adresse"]
# A minimal PDF that the upload accepts (its magic number is what is checked).
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
LEGAL_TEXT = "Délibération du conseil d’administration du CCAS du 12 octobre 2024."
CONTACTS = {
    "Responsable de traitement": ("Lefèvre", "Anne", "anne.lefevre@ccas-villedemo.fr"),
    "Délégué à la protection des données": ("Moreau", "Karim", "dpo@ccas-villedemo.fr"),
    "Contact technique": ("Petit", "Julie", "julie.petit@ccas-villedemo.fr"),
    "Contact métier": ("Dupont", "Camille", "camille.dupont@ccas-villedemo.fr"),
}
CONTACT_KEYS = {
    "Responsable de traitement": "responsable_traitement",
    "Délégué à la protection des données": "delegue_protection_donnees",
    "Contact technique": "contact_technique",
    "Contact métier": "contact_metier",
}
PHONE = "01 41 15 40 00"
JOB = "Agent du CCAS"
# Millésime's technical contact is Arche MC2's support, fixed by the démarche.
MILLESIME_LOCKED_CONTACTS = ("Contact technique",)
# The answers a CCAS agent gives on the Millésime form, as the services store them (the
# technical contact's would be ignored: the démarche fixes it).
MILLESIME_ANSWERS = {
    "basic_infos": {
        "intitule": "Aides sociales du CCAS de Villedemo",
        "description": "Instruire les dossiers d’aides sociales dans Millésime Action Sociale.",
    },
    "legal": {
        "cadre_juridique_nature": LEGAL_TEXT,
        "cadre_juridique_url": "https://www.villedemo.example.fr/deliberations/2024-17",
    },
    "personal_data": {
        "destinataire_donnees_caractere_personnel": "Travailleurs sociaux du CCAS",
        "duree_conservation_donnees_caractere_personnel": "24",
    },
    "contacts": {
        f"{CONTACT_KEYS[legend]}_{suffix}": value
        for legend, (family, given, email) in CONTACTS.items()
        if legend not in MILLESIME_LOCKED_CONTACTS
        for suffix, value in (
            ("family_name", family),
            ("given_name", given),
            ("email", email),
            ("phone_number", PHONE),
            ("job_title", JOB),
        )
    },
}


def label(text: str) -> re.Pattern:
    """A field's accessible name starts with its label (then « * » and the hint)."""
    return re.compile(rf"^{re.escape(text)}")


def tick(page: Page, text: str) -> None:
    """A DSFR checkbox: the input is visually replaced by its label, so force the check."""
    page.get_by_label(label(text)).check(force=True)


def button(page: Page, name: str):
    """The visible button (step pages have a hidden default « Suivant » for Enter)."""
    return page.get_by_role("button", name=name, exact=True)


def step_heading(page: Page, number: int, total: int, title: str) -> None:
    """The DSFR stepper's heading: « <title> Étape n sur N »."""
    expect(page.get_by_role("heading", level=1, name=re.compile(re.escape(title)))).to_be_visible()
    expect(page.get_by_text(f"Étape {number} sur {total}")).to_be_visible()


def expect_errors(page: Page) -> None:
    """A failed submission: the error summary, which takes the focus, and « Erreur : »."""
    summary = page.get_by_role("heading", level=2, name=re.compile(r"^Le formulaire contient"))
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Erreur\s:\s"))


def fill_contacts(page: Page, *, locked: tuple[str, ...] = ()) -> None:
    """Type every contact card, but those the démarche fixes (``locked``: their legends)."""
    for legend, (family, given, email) in CONTACTS.items():
        if legend in locked:
            continue
        group = page.get_by_role("group", name=legend)
        group.get_by_label(label("Nom")).fill(family)
        group.get_by_label(label("Prénom")).fill(given)
        group.get_by_label(label("Email")).fill(email)
        group.get_by_label(label("Téléphone")).fill(PHONE)
        if legend != "Délégué à la protection des données":  # implied, not asked
            group.get_by_label(label("Fonction")).fill(JOB)


def request_number(page: Page) -> str:
    """The number of the request whose page is open (« Demande D123 : … »)."""
    heading = page.get_by_role("heading", level=1, name=re.compile(r"^Demande D\d+"))
    expect(heading).to_be_visible()
    return re.search(r"D(\d+)", heading.inner_text()).group(1)


def introspect(live_server, token: str) -> dict:
    """The API provider's call: RFC 7662 introspection with the demo client's credentials."""
    response = requests.post(
        live_server("/api/oauth/introspect"),
        data={"token": token},
        auth=(DEMO_INTROSPECTION_CLIENT["client_id"], DEMO_INTROSPECTION_CLIENT["secret"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def submitted_request(
    live_server,
    form_uid: str = MILLESIME,
    answers=MILLESIME_ANSWERS,
    *,
    sub: str = AGENT,
    submit: bool = True,
) -> str:
    """A request submitted by ``sub`` through the services, as ``flask seed`` does it.

    For journeys that start where the wizard ends (the wizard itself is driven page by page
    in test_journeys.py): each test gets a request of its own, whatever ran before. With
    ``submit=False``, the draft, every step answered.
    """
    from datapass.catalog import get_catalog
    from datapass.models import User
    from datapass.services import authorization_requests, submission

    with live_server.app.app_context():
        applicant = db.session.scalar(select(User).where(User.sub == sub))
        form = get_catalog().form(form_uid)
        request = authorization_requests.start_request_for_applicant(applicant, form)
        typed = {key: value for values in answers.values() for key, value in values.items()}
        authorization_requests.fill_request(request, form, typed)
        if not submit:
            return str(request.id)
        result = submission.submit_request(
            request, form, applicant, terms_accepted=True, dpo_informed=True
        )
        assert result.ok, result.errors
        return str(request.id)
