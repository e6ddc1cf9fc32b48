"""Fill the applicant's wizard through the test client, as a browser would post it."""

from __future__ import annotations

import re

from datapass import blocks
from tests.support.http import post_form

LEGIFRANCE = "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000031106561/"
STEP_URL = re.compile(r"/demandes/(\d+)/etapes/([a-z-]+)$")


def contact_answers(form) -> dict[str, str]:
    """A person for each contact card the applicant fills (not those the démarche fixes)."""
    answers = {}
    for index, contact in enumerate(form.contact_types):
        if contact in form.locked_contact_types:
            continue
        answers.update(
            {
                f"{contact}_family_name": f"Durand{index}",
                f"{contact}_given_name": "Alex",
                f"{contact}_email": f"contact{index}@ccas-chaville.fr",
                f"{contact}_phone_number": "01 41 15 40 00",
                f"{contact}_job_title": "Chargé de mission",
            }
        )
    # Implied answers (the DPO's « Fonction ») are not asked.
    return {name: value for name, value in answers.items() if name not in form.implied_answers()}


def valid_answers(form, block: str) -> dict:
    """Answers that make ``block`` valid for ``form``."""
    if block == "basic_infos":
        return {
            "intitule": "Aides sociales facultatives",
            "description": "Instruire les demandes d’aides facultatives sans pièces.",
            "date_prevue_mise_en_production": "2027-01-15",
            "volumetrie_approximative": "200 par jour",
        }
    if block == "legal":
        return {
            "cadre_juridique_nature": "Délibération du conseil d’administration du 12/10/2023",
            "cadre_juridique_url": LEGIFRANCE,
        }
    if block == "modalities":
        return {"modalities": ["params"]}
    if block == "scopes":
        offered = [s.value for group in form.offered_scopes() for s in group.scopes]
        return {"scopes": [offered[0]]}
    if block == "personal_data":
        return {
            "destinataire_donnees_caractere_personnel": "Agents instructeurs du CCAS",
            "duree_conservation_donnees_caractere_personnel": "24",
        }
    if block == "contacts":
        return contact_answers(form)
    raise KeyError(block)


def start(client, form, query: str = "") -> int:
    """Open the form's introduction, press « Débuter ma demande »; return the request id."""
    intro = client.get(f"/formulaires/{form.uid}/demande/nouveau{query}")
    assert intro.status_code == 200, intro.status_code
    response = post_form(client, f"/formulaires/{form.uid}/demande/nouveau", page=intro)
    assert response.status_code == 302, response.text
    match = STEP_URL.search(response.headers["Location"])
    assert match and match.group(2) == "organisation", response.headers["Location"]
    return int(match.group(1))


VERSION_RE = re.compile(r'name="version" value="(\d+)"')


def post_step(client, request_id: int, slug: str, data: dict, action: str = "next", **kwargs):
    """Post a step as its page would: with the page's CSRF token and request version."""
    url = f"/demandes/{request_id}/etapes/{slug}"
    page = client.get(url)
    assert page.status_code == 200, (slug, page.status_code)
    version = VERSION_RE.search(page.text)
    posted = {"action": action, **({"version": version.group(1)} if version else {}), **data}
    return post_form(client, url, posted, page=page, **kwargs)


def upload_documents(client, request_id: int, files, extra: dict | None = None):
    """Save the legal step with ``files`` (``[(stream, name)…]``), as its page posts them."""
    data = {
        "cadre_juridique_nature": "Délibération du 12 octobre 2023",
        "cadre_juridique_url": "",
        "cadre_juridique_document": files,
        **(extra or {}),
    }
    return post_step(
        client,
        request_id,
        "cadre-juridique",
        data,
        action="save",
        content_type="multipart/form-data",
    )


def fill_all(client, form, request_id: int) -> None:
    """Post every step with valid answers, checking each one leads to the next."""
    for step in blocks.steps(form):
        if step.block == blocks.SUMMARY:
            break
        data = {} if step.block == blocks.ORGANIZATION else valid_answers(form, step.block)
        response = post_step(client, request_id, step.slug, data)
        assert response.status_code == 302, (step.slug, response.status_code, response.text)


def submit(client, request_id: int, form, **overrides):
    data = {"terms_of_service_accepted": "y", "data_protection_officer_informed": "y"}
    data.update(overrides)
    data = {key: value for key, value in data.items() if value is not None}
    return post_step(client, request_id, "synthese", data, action="submit")
