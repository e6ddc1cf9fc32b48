"""The emails DataPass sends, composed in the transaction of the event that causes them.

Every workflow event is appended with ``AuthorizationRequest.record_event``; the outbox
calls ``emails_for_event`` with each new event once it is flushed (an event subscriber
named by ``datapass.register_side_effects``), which queues the matching emails in the
same transaction: a change that fails or is rolled back sends nothing.
``EMAILS`` is the catalogue; ``docs/emails.md`` lists it and a test keeps both in step.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup, escape

from datapass import mail, outbox
from datapass.catalog import get_catalog
from datapass.models import AuthorizationRequest, AuthorizationRequestEvent
from datapass.models.outbox import OutboxJob
from datapass.services import statistics

NBSP = "\u00a0"


@dataclass(frozen=True)
class Email:
    event: str
    recipients: str
    subject: str  # str.format with ref (D123) and intitule


EMAILS: dict[str, Email] = {
    "submission_ack": Email(
        "submit (first submission)",
        "applicant",
        f"Accusé de réception de votre demande d’habilitation {{ref}}{NBSP}: {{intitule}}",
    ),
    "resubmission_ack": Email(
        "submit (after changes requested, or a reopening)",
        "applicant",
        f"Votre demande d’habilitation {{ref}} modifiée a bien été reçue{NBSP}: {{intitule}}",
    ),
    "instructor_submission": Email(
        "submit",
        "instructors and reporters of the definition who subscribed",
        f"Nouvelle demande à instruire{NBSP}: {{ref}} – {{intitule}}",
    ),
    "changes_requested": Email(
        "request_changes",
        "applicant",
        "Votre demande d’habilitation {ref} requiert des modifications",
    ),
    "refused": Email("refuse", "applicant", "Votre demande d’habilitation {ref} a été refusée"),
    "reopening_refused": Email(
        "refuse (a reopening)",
        "applicant",
        "Les modifications de votre habilitation {ref} n’ont pas été acceptées",
    ),
    "approved": Email("approve", "applicant", "Votre demande d’habilitation {ref} a été validée"),
    "designated": Email(
        "approve, update_contacts (a new DPO or controller)",
        "the DPO and the responsable de traitement named in the request",
        f"Vous avez été désigné pour la démarche {{ref}}{NBSP}: {{intitule}}",
    ),
    "contacts_updated": Email(
        "update_contacts",
        "instructors and reporters of the definition who subscribed to submissions",
        "Les contacts de l’habilitation de la demande {ref} ont été mis à jour",
    ),
    "revoked": Email("revoke", "applicant", "Votre habilitation {ref} a été révoquée"),
    "instructor_message": Email(
        "instructor_message",
        "applicant",
        "Nouveau message des instructeurs sur votre demande {ref}",
    ),
    "applicant_message": Email(
        "applicant_message",
        "instructors and reporters of the definition who subscribed",
        "Nouveau message du demandeur sur la demande {ref}",
    ),
    "token_ready": Email(
        "approve",
        "the applicant and the technical contact named in the request",
        "Le jeton de l’habilitation {ref} est prêt",
    ),
    "token_expiry": Email(
        "flask tokens remind (90, 60, 30, 14, 7 and 0 days before expiry)",
        "applicant and technical contact",
        "Le jeton de votre habilitation {ref} arrive à expiration",
    ),
    "deadline_digest": Email(
        "the weekly periodic task deadline_digest",
        "instructors and reporters of the definition who did not opt out",
        f"Demandes à décider dans les 7 jours{NBSP}: récapitulatif des échéances",
    ),
    "draft_reminder": Email(
        "the daily periodic task request_reminders: a draft untouched for 15 days (once)",
        "applicant",
        "Votre demande d’habilitation {ref} est toujours en brouillon",
    ),
    "changes_reminder": Email(
        "request_reminders: changes requested, unanswered for 1 month, then 2 months",
        "applicant",
        f"Rappel{NBSP}: votre demande d’habilitation {{ref}} attend vos modifications",
    ),
    "archive_warning": Email(
        "request_reminders: changes requested, unanswered for 3 months",
        "applicant",
        "Votre demande d’habilitation {ref} sera archivée dans 15 jours",
    ),
    "archived_unanswered": Email(
        "archive by DataPass (15 days after the warning, the request unchanged)",
        "applicant",
        "Votre demande d’habilitation {ref} a été archivée",
    ),
    "role_changed": Email(
        "a role granted or revoked (/admin, the rights pages, flask users)",
        "the administrators",
        "Un rôle a été modifié sur DataPass",
    ),
    "invitation": Email(
        "an instructor’s « Inviter », or POST /api/v1/demandes",
        "the future applicant named in the invitation",
        "Une demande d’habilitation a été préparée pour votre organisation",
    ),
    "transferred": Email(
        "transfer",
        "the former and the new applicant",
        "La demande d’habilitation {ref} a été transférée",
    ),
}

_URL = re.compile(r"(https?://[^\s<>«»]+[^\s<>«».,;:!?)])")


# ---------------------------------------------------------------- composing


def public_url(path: str) -> str:
    return current_app.config["PUBLIC_URL"] + path


def _unsubscribe_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe")


def unsubscribe_token(user_id: int, definition_id: str, kind: str) -> str:
    return _unsubscribe_serializer().dumps([user_id, definition_id, kind])


def read_unsubscribe_token(token: str, max_age_days: int = 30) -> tuple[int, str, str] | None:
    try:
        user_id, definition_id, kind = _unsubscribe_serializer().loads(
            token, max_age=max_age_days * 86400
        )
    except (BadSignature, ValueError, TypeError):
        return None
    return int(user_id), str(definition_id), str(kind)


def _html_paragraphs(text: str) -> Markup:
    """The text version's paragraphs as HTML, links made clickable."""
    parts = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        escaped = str(escape(paragraph)).replace("\n", "<br>")
        linked = _URL.sub(r'<a href="\1">\1</a>', escaped)
        parts.append(f'<p style="margin:0 0 16px 0">{linked}</p>')
    return Markup("\n".join(parts))  # noqa: S704 (built from escaped text)


def compose(key: str, context: dict) -> dict[str, str]:
    """Subject, text and HTML of one email of the catalogue."""
    email = EMAILS[key]
    authorization_request = context.get("request")  # none for a digest
    subject = email.subject.format(
        ref=authorization_request.public_reference if authorization_request else "",
        intitule=(authorization_request.intitule if authorization_request else "") or "",
    )
    context = {"support_email": current_app.config["SUPPORT_EMAIL"], **context}
    text = (
        render_template(f"emails/{key}.txt", **context).strip()
        + "\n\n"
        + render_template("emails/_signature.txt", **context).strip()
        + "\n"
    )
    html = render_template(
        "emails/layout.html",
        subject=subject,
        body=_html_paragraphs(text),
        action_url=context.get("action_url"),
        action_label=context.get("action_label"),
    )
    return {"subject": subject, "text": text, "html": html}


def queue(key: str, to: list[str], context: dict, *, event_id: int | str, headers=None) -> None:
    """Compose and add the email to the outbox (one job per recipient list)."""
    to = sorted({address.strip().lower() for address in to if address and "@" in address})
    if not to:
        return
    composed = compose(key, context)
    digest = hashlib.sha256(",".join(to).encode()).hexdigest()[:12]
    authorization_request = context.get("request")
    outbox.enqueue(
        "email",
        {
            "key": key,
            "to": to,
            **composed,
            "headers": headers or {},
            # Which request it is about: the RGPD purge clears its body (services/purge.py).
            "authorization_request_id": authorization_request.id if authorization_request else None,
        },
        key=f"email-{key}-{event_id}-{digest}",
    )


# ---------------------------------------------------------------- from events to emails


def _contact_emails(authorization_request: AuthorizationRequest, *kinds: str) -> list[str]:
    data = authorization_request.data or {}
    return [data.get(f"{kind}_email", "") for kind in kinds]


def emails_for_event(event: AuthorizationRequestEvent) -> None:
    """Queue the emails an event calls for (none for most drafts' events)."""
    authorization_request = event.request
    if authorization_request is None:
        return
    base = _base_context(authorization_request, event=event, reason=event.reason)
    instructor_url = public_url(f"/instruction/demandes/{authorization_request.id}")
    name = event.name
    payload = event.payload or {}
    if name == "submit":
        first = payload.get("first_submission") and not authorization_request.is_reopening
        queue(
            "submission_ack" if first else "resubmission_ack",
            [authorization_request.applicant.email],
            {
                **base,
                "submitted_at": event.created_at,
                "reopening": authorization_request.is_reopening,
                "estimated_days": statistics.decision_estimate(authorization_request.definition_id),
            },
            event_id=event.id,
        )
        _notify_staff("instructor_submission", "submission", base, instructor_url, event)
    elif name == "applicant_message":
        _notify_staff("applicant_message", "message", base, instructor_url, event)
    elif name == "instructor_message":
        queue(
            "instructor_message", [authorization_request.applicant.email], base, event_id=event.id
        )
    elif name == "refuse" and payload.get("reopening"):
        habilitation = _authorization(authorization_request, payload.get("authorization"))
        queue(
            "reopening_refused",
            [authorization_request.applicant.email],
            {**base, "authorization": habilitation},
            event_id=event.id,
        )
    elif name in ("request_changes", "refuse", "revoke"):
        queue(
            DECISION_EMAILS[name], [authorization_request.applicant.email], base, event_id=event.id
        )
    elif name == "approve":
        queue("approved", [authorization_request.applicant.email], base, event_id=event.id)
        habilitation = (
            authorization_request.authorizations[-1]
            if authorization_request.authorizations
            else None
        )
        # An approved reopening keeps the token the software already holds: nothing to fetch.
        if habilitation is not None and not payload.get("token_kept"):
            queue(
                "token_ready",
                [
                    authorization_request.applicant.email,
                    *_contact_emails(authorization_request, "contact_technique"),
                ],
                {
                    **base,
                    "authorization": habilitation,
                    "editor": _editor_contact(authorization_request),
                    "action_url": public_url(f"/habilitations/{habilitation.id}"),
                    "action_label": "Voir l’habilitation",
                },
                event_id=event.id,
            )
        _queue_designated(
            authorization_request,
            base,
            event,
            ("delegue_protection_donnees", "responsable_traitement"),
        )
    elif name == "update_contacts":
        _notify_staff("contacts_updated", "submission", base, instructor_url, event)
        _queue_designated(authorization_request, base, event, payload.get("designated", []))
    elif name in ("draft_reminder", "changes_reminder", "archive_warning"):
        queue(name, [authorization_request.applicant.email], {**base, **payload}, event_id=event.id)
    elif name == "archive" and payload.get("automatic"):
        queue(
            "archived_unanswered", [authorization_request.applicant.email], base, event_id=event.id
        )
    elif name == "transfer":
        queue(
            "transferred",
            [payload.get("from", ""), payload.get("to", "")],
            {
                **base,
                "former": payload.get("from"),
                "new": payload.get("to"),
                "taken_over": bool(payload.get("taken_over")),
            },
            event_id=event.id,
        )


def _queue_designated(authorization_request, base, event, kinds) -> None:
    """« Vous avez été désigné » to the DPO and controller of ``kinds`` named in the request."""
    for kind in kinds:
        for address in _contact_emails(authorization_request, kind):
            queue(
                "designated",
                [address],
                {**base, "role": kind, "action_url": None},
                event_id=event.id,
            )


def _base_context(authorization_request: AuthorizationRequest, *, event, reason) -> dict:
    """What every email about a request is rendered with (``event`` is None in a preview)."""
    catalog_form = get_catalog().form(authorization_request.form_uid)
    applicant_url = public_url(f"/demandes/{authorization_request.id}")
    return {
        "request": authorization_request,
        "event": event,
        "form": catalog_form,
        "definition": catalog_form.definition if catalog_form else None,
        "applicant": authorization_request.applicant,
        "organization": authorization_request.organization,
        "reason": reason,
        "request_url": applicant_url,
        "action_url": applicant_url,
        "action_label": "Voir la demande",
    }


# The email the applicant receives for each decision (a refused reopening has its own).
DECISION_EMAILS = {
    "approve": "approved",
    "request_changes": "changes_requested",
    "refuse": "refused",
    "revoke": "revoked",
}


def preview_decision_email(
    authorization_request: AuthorizationRequest, decision: str, reason: str | None
) -> dict[str, str] | None:
    """The email the applicant will receive if ``decision`` is taken now with ``reason``:
    composed by ``compose``, the code that sends it (None: the decision sends no email)."""
    from datapass.services.reopenings import reopened_authorization

    key = DECISION_EMAILS.get(decision)
    if key is None:
        return None
    base = _base_context(authorization_request, event=None, reason=(reason or "").strip() or None)
    if decision == "refuse" and authorization_request.is_reopening:
        key = "reopening_refused"
        base["authorization"] = reopened_authorization(authorization_request)
    return compose(key, base)


def _authorization(authorization_request, authorization_id):
    return next((a for a in authorization_request.authorizations if a.id == authorization_id), None)


def _editor_contact(authorization_request):
    """The editor whose support team is the technical contact, or None (a person)."""
    from datapass.permissions import technical_contact_is_editor

    if not technical_contact_is_editor(authorization_request):
        return None
    catalog_form = get_catalog().form(authorization_request.form_uid)
    return catalog_form.editor if catalog_form else None


STAFF_ACTIONS = {"instructor_submission": "Instruire la demande", "applicant_message": "Lire"}


def _staff_recipients(authorization_request, kind) -> list:
    """Who wants the email: the definition's subscribers, and the request's followers
    (``services/follows.py``) whatever their settings; by email, each once."""
    from datapass.services.follows import followers
    from datapass.services.instructor_settings import notification_recipients

    users = {u.id: u for u in notification_recipients(authorization_request.definition_id, kind)}
    users.update((user.id, user) for user in followers(authorization_request))
    return sorted(users.values(), key=lambda user: user.email)


def _notify_staff(key, kind, base, instructor_url, event) -> None:
    authorization_request = base["request"]
    for user in _staff_recipients(authorization_request, kind):
        token = unsubscribe_token(user.id, authorization_request.definition_id, kind)
        unsubscribe = public_url(f"/notifications/desabonnement/{token}")
        queue(
            key,
            [user.email],
            {
                **base,
                "action_url": instructor_url,
                "action_label": STAFF_ACTIONS.get(key, "Voir la demande"),
                "unsubscribe_url": unsubscribe,
            },
            event_id=event.id,
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )


# ---------------------------------------------------------------- delivery


def deliver(job: OutboxJob) -> None:
    """The outbox handler of ``email`` jobs (see ``datapass.register_side_effects``)."""
    payload = job.payload
    message = mail.build_message(
        to=payload["to"],
        subject=payload["subject"],
        text=payload["text"],
        html=payload.get("html"),
        key=job.idempotency_key,
        headers=payload.get("headers"),
    )
    mail.send(message)
