"""Public pages: home (the list of démarches), accessibility, legal notice, personal data."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from datapass import catalog

bp = Blueprint("public", __name__)

# Contact addresses shown on the public pages; operators may set CONTACT_EMAIL and DPO_CONTACT.
DEFAULT_CONTACT_EMAIL = "datapass@api.gouv.fr"
DEFAULT_DPO_CONTACT = (
    "Délégué à la protection des données, direction interministérielle du numérique, "
    "20 avenue de Ségur, 75007 Paris"
)


def _contacts() -> dict[str, str]:
    config = current_app.config
    return {
        "contact_email": config.get("CONTACT_EMAIL") or DEFAULT_CONTACT_EMAIL,
        "dpo_contact": config.get("DPO_CONTACT") or DEFAULT_DPO_CONTACT,
        "hosting": config.get("HOSTING_PROVIDER") or "",
    }


def new_request_path(form) -> str:
    """Where an applicant starts a request on ``form`` (the applicant blueprint serves it)."""
    return f"/formulaires/{form.uid}/demande/nouveau"


@bp.get("/")
def home():
    forms = catalog.get_catalog().public_forms()
    return render_template("public/home.html", forms=forms, new_request_path=new_request_path)


@bp.get("/accessibilite")
def accessibility():
    return render_template("public/accessibility.html", **_contacts())


@bp.get("/mentions-legales")
def legal_notice():
    return render_template("public/legal_notice.html", **_contacts())


@bp.get("/donnees-personnelles")
def personal_data():
    return render_template("public/personal_data.html", **_contacts())
