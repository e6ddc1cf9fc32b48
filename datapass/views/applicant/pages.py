"""The request page, its actions (archive, reopen, transfer, messages), documents, dashboard."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from datapass import blocks, permissions, workflow
from datapass.catalog import get_catalog
from datapass.errors import UserError
from datapass.forms.applicant import MessageForm, TransferForm
from datapass.models.message import APPLICANT_SIDE, INSTRUCTOR_SIDE
from datapass.services import authorization_requests, dashboard, messaging, transfers
from datapass.services.authorization_requests import RequestError
from datapass.views import check_action_form, send_document_of
from datapass.views.applicant import FIRST_STEP_SLUG, bp, load, step_url

# ---------------------------------------------------------------- documents


@bp.get("/demandes/<int:request_id>/documents/<int:document_id>")
@login_required
def download(request_id: int, document_id: int):
    authorization_request = load(request_id)
    return send_document_of(document_id, authorization_request_id=authorization_request.id)


# ---------------------------------------------------------------- request page and actions


@bp.get("/demandes/<int:request_id>")
@login_required
def show(request_id: int):
    authorization_request = load(request_id)
    catalog_form = get_catalog().form(authorization_request.form_uid)
    role = permissions.workflow_role(current_user, authorization_request)
    if role == workflow.APPLICANT:
        messaging.mark_read(authorization_request, INSTRUCTOR_SIDE)
    events = [
        e
        for e in workflow.allowed_events(authorization_request, role)
        if e in ("archive", "reopen", "cancel_reopening")
    ]
    transfer_form = TransferForm()
    return render_template(
        "applicant/request.html",
        authorization_request=authorization_request,
        catalog_form=catalog_form,
        view=blocks.summary(catalog_form, authorization_request) if catalog_form else [],
        role=role,
        actions=events,
        action_form=FlaskForm(),
        message_form=MessageForm(),
        transfer_form=transfer_form if workflow.can_transfer(authorization_request, role) else None,
        can_edit=permissions.can_edit_request(current_user, authorization_request),
        first_step=blocks.steps(catalog_form)[0].slug if catalog_form else None,
    )


ACTIONS = {
    "archive": (authorization_requests.archive_request, "La demande a été supprimée."),
    "reopen": (
        authorization_requests.reopen_request,
        "La demande est rouverte : modifiez-la puis soumettez-la. L’habilitation en cours "
        "reste valable pendant l’instruction.",
    ),
    "cancel_reopening": (
        authorization_requests.cancel_reopening,
        "La réouverture est annulée : l’habilitation validée reste inchangée.",
    ),
}


# Actions that lose what was typed: an explicit confirmation first (RGAA 11.12).
CONFIRMATIONS = {
    "archive": (
        "Supprimer le brouillon\u00a0?",
        "Le brouillon et ses pièces jointes seront supprimés. Cette action est définitive.",
        "Supprimer le brouillon",
    ),
    "cancel_reopening": (
        "Annuler la mise à jour\u00a0?",
        "Les modifications apportées depuis la réouverture seront perdues\u00a0: la demande "
        "revient à l’habilitation validée, qui reste inchangée.",
        "Annuler la mise à jour",
    ),
}


@bp.get("/demandes/<int:request_id>/actions/<event>")
@login_required
def confirm_action(request_id: int, event: str):
    """The confirmation page of an action that loses what was typed."""
    authorization_request = load(request_id)
    role = permissions.workflow_role(current_user, authorization_request)
    if event not in CONFIRMATIONS or event not in workflow.allowed_events(
        authorization_request, role
    ):
        abort(404)
    title, warning, label = CONFIRMATIONS[event]
    return render_template(
        "confirm.html",
        title=title,
        warning=warning,
        label=label,
        action_url=url_for("applicant.act", request_id=request_id, event=event),
        back_url=url_for("applicant.show", request_id=request_id),
        back_label=f"Demande {authorization_request.public_reference}",
        action_form=FlaskForm(),
    )


@bp.post("/demandes/<int:request_id>/actions/<event>")
@login_required
def act(request_id: int, event: str):
    authorization_request = load(request_id)
    if event not in ACTIONS:
        abort(404)
    check_action_form()
    action, message = ACTIONS[event]
    try:
        action(authorization_request, current_user)
    except RequestError as error:
        flash(error.message, "error")
        return redirect(url_for("applicant.show", request_id=request_id))
    flash(message, "success")
    if event == "reopen":
        return redirect(step_url(authorization_request, FIRST_STEP_SLUG))
    if event == "archive":
        return redirect(url_for("applicant.dashboard_view"))
    return redirect(url_for("applicant.show", request_id=request_id))


@bp.post("/demandes/<int:request_id>/transfert")
@login_required
def transfer(request_id: int):
    authorization_request = load(request_id)
    transfer_form = TransferForm()
    if not transfer_form.validate_on_submit():
        flash("Indiquez l’adresse électronique d’un membre de l’organisation.", "error")
        return redirect(url_for("applicant.show", request_id=request_id))
    try:
        new_applicant = transfers.transfer_request(
            authorization_request,
            current_user,
            transfer_form.email.data,
            role=permissions.workflow_role(current_user, authorization_request),
        )
    except UserError as error:
        flash(error.message, "error")
        return redirect(url_for("applicant.show", request_id=request_id))
    flash(f"La demande a été transférée à {new_applicant.email}.", "success")
    return redirect(url_for("applicant.dashboard_view"))


@bp.post("/demandes/<int:request_id>/reprendre")
@login_required
def take_over(request_id: int):
    """« Reprendre la demande »: a verified colleague becomes the applicant."""
    authorization_request = load(request_id)
    check_action_form()
    try:
        transfers.take_over(authorization_request, current_user)
    except UserError as error:
        flash(error.message, "error")
    else:
        flash(
            f"Vous êtes désormais le demandeur de la demande "
            f"{authorization_request.public_reference}.",
            "success",
        )
    return redirect(url_for("applicant.show", request_id=request_id))


@bp.post("/demandes/<int:request_id>/messages")
@login_required
def post_message(request_id: int):
    authorization_request = load(request_id)
    message_form = MessageForm()
    if not permissions.is_applicant(current_user, authorization_request):
        abort(403)
    if not message_form.validate_on_submit():
        flash("Écrivez votre message avant de l’envoyer.", "error")
        return redirect(url_for("applicant.show", request_id=request_id, _anchor="messages"))
    messaging.post_message(
        authorization_request, current_user, message_form.body.data, side=APPLICANT_SIDE
    )
    flash("Votre message a été envoyé aux instructeurs.", "success")
    return redirect(url_for("applicant.show", request_id=request_id, _anchor="messages"))


# ---------------------------------------------------------------- dashboard


@bp.get("/tableau-de-bord")
@login_required
def dashboard_view():
    scope = request.args.get("filtre", "mes-demandes")
    if scope not in dashboard.SCOPES:
        scope = "mes-demandes"
    groups, authorizations, truncated = dashboard.load(current_user, scope)
    unread = dashboard.unread_instructor_messages(
        [row for _, rows in groups.values() for row in rows]
    )
    return render_template(
        "applicant/dashboard.html",
        unread=unread,
        scope=scope,
        scopes=dashboard.SCOPES,
        groups=groups,
        authorizations=authorizations,
        truncated=truncated,
        catalog=get_catalog(),
    )
