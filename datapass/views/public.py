"""Public pages: home (the list of démarches), accessibility, legal notice, personal data,
and unsubscribing from instructors' notifications (a signed link, no sign-in)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from datapass import catalog
from datapass.extensions import csrf, db
from datapass.models import User
from datapass.services import emails, instructor_settings
from datapass.services.accessibility import load_audit

bp = Blueprint("public", __name__)
UNSUBSCRIBE_LABELS = {
    "submission": "les nouvelles demandes",
    "message": "les messages des demandeurs",
    "deadline_digest": "le récapitulatif hebdomadaire des échéances",
}

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
    return render_template("public/accessibility.html", audit=load_audit(), **_contacts())


@bp.get("/plan-du-site")
def sitemap():
    """The second way through the site (RGAA 12.1), beside the main menu."""
    return render_template("public/sitemap.html")


@bp.get("/mentions-legales")
def legal_notice():
    return render_template("public/legal_notice.html", **_contacts())


# The durations « Données personnelles » states: {template variable: setting}.
PRIVACY_DURATIONS = {
    "retention_months": "RETENTION_MONTHS_AFTER_CLOSURE",
    "draft_reminder_days": "DRAFT_REMINDER_DAYS",
    "archive_warning_months": "CHANGES_ARCHIVE_WARNING_MONTHS",
    "archive_warning_days": "ARCHIVE_WARNING_DAYS",
    "session_hours": "SESSION_LIFETIME_HOURS",
    "outbox_days": "OUTBOX_RETENTION_DAYS",
}


@bp.get("/donnees-personnelles")
def personal_data():
    durations = {name: current_app.config[key] for name, key in PRIVACY_DURATIONS.items()}
    return render_template("public/personal_data.html", **durations, **_contacts())


@bp.route("/notifications/desabonnement/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; mail clients post here (RFC 8058)
def unsubscribe(token: str):
    found = emails.read_unsubscribe_token(token)
    if found is None:
        abort(404)
    user_id, definition_id, kind = found
    user = db.session.get(User, user_id)
    if user is None or kind not in UNSUBSCRIBE_LABELS:
        abort(404)
    done = request.method == "POST"
    if done:
        instructor_settings.unsubscribe(user, definition_id, kind)
    return render_template(
        "public/unsubscribe.html",
        done=done,
        email=user.email,
        what=UNSUBSCRIBE_LABELS[kind],
        definition_id=definition_id,
    )
