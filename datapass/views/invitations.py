"""Requests prepared by the instruction: `/instruction/brouillons` (instructors) and the
invitation's link `/invitations/<secret>` (the future applicant)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from datapass import blocks, permissions, rate_limits
from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.forms.invitations import InvitationForm
from datapass.forms.wizard import apply_errors, step_form
from datapass.models import Invitation
from datapass.services import invitation_answers, invitations
from datapass.views import check_action_form, int_arg, send_document_of

bp = Blueprint("invitations", __name__)

# The answers an instructor may prepare, when the démarche lets the applicant fill them.
PREPARED_FIELDS = ("intitule", "description", "scopes")


def _instructed_definitions() -> list[str]:
    catalog = get_catalog()
    definitions = [d for d in catalog.definitions if permissions.can_instruct(current_user, d)]
    if not definitions:
        abort(403)
    return definitions


def _load(invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or not permissions.can_instruct(current_user, invitation.definition_id):
        abort(404)
    return invitation


@bp.get("/instruction/brouillons")
@login_required
def index():
    definitions = _instructed_definitions()
    rows, next_before = invitations.page(definitions, before=int_arg("avant"))
    return render_template(
        "invitations/index.html", rows=rows, next_before=next_before, catalog=get_catalog()
    )


@bp.route("/instruction/brouillons/nouveau", methods=["GET", "POST"])
@login_required
def new():
    definitions = _instructed_definitions()
    catalog = get_catalog()
    choices = [form for d in definitions for form in catalog.forms_for(d)]
    catalog_form = next((f for f in choices if f.uid == request.args.get("formulaire")), None)
    if catalog_form is None:
        return render_template("invitations/choose.html", choices=choices)
    form = InvitationForm()
    fields = [name for name in PREPARED_FIELDS if not catalog_form.field_is_locked(name)]
    form.scopes.choices = [
        (value, catalog_form.definition.scope(value).label)
        for value in catalog_form.selectable_scopes()
    ]
    if form.validate_on_submit():
        raw = {name: getattr(form, name).data for name in fields}
        answers, _ = blocks.clean_answers(
            catalog_form, {k: val for k, val in raw.items() if val}, fields=fields
        )
        invitation = invitations.prepare(
            catalog_form,
            siret=form.siret.data,
            email=form.email.data,
            answers=answers,
            note=form.note.data,
            user=current_user,
        )
        flash(
            f"La demande {invitation.public_reference} est préparée\u00a0: vérifiez-la, puis "
            "invitez le futur demandeur.",
            "success",
        )
        return redirect(url_for("invitations.show", invitation_id=invitation.id))
    if request.method == "GET":
        form.scopes.data = list(catalog_form.initial_answers({}).get("scopes") or [])
    return (
        render_template(
            "invitations/new.html", form=form, catalog_form=catalog_form, fields=fields
        ),
        400 if request.method == "POST" else 200,
    )


@bp.get("/instruction/brouillons/<int:invitation_id>")
@login_required
def show(invitation_id: int):
    invitation = _load(invitation_id)
    catalog_form = get_catalog().form(invitation.form_uid)
    view = (
        blocks.summary(catalog_form, invitation_answers.prepared_answers(invitation, catalog_form))
        if catalog_form is not None
        else []
    )
    return render_template(
        "invitations/show.html",
        invitation=invitation,
        catalog_form=catalog_form,
        view=view,
        action_form=FlaskForm(),
    )


@bp.route("/instruction/brouillons/<int:invitation_id>/blocs/<slug>", methods=["GET", "POST"])
@login_required
@rate_limits.uploads
def block(invitation_id: int, slug: str):
    """Answer one block of the démarche for the future applicant (documents included)."""
    invitation = _load(invitation_id)
    catalog_form = get_catalog().form(invitation.form_uid)
    step = blocks.step_for_slug(catalog_form, slug) if catalog_form is not None else None
    if step is None or step.block not in invitation_answers.editable_blocks(catalog_form):
        abort(404)
    if not invitation.is_open:
        flash("Cette demande préparée ne peut plus être modifiée.", "warning")
        return redirect(url_for("invitations.show", invitation_id=invitation.id))
    status = 200
    if request.method == "POST":  # CSRF checked by CSRFProtect before the view runs
        outcome = invitation_answers.save_block(
            invitation,
            catalog_form,
            step.block,
            request.form,
            user=current_user,
            files=request.files,
            remove_document=request.form.get("remove_document"),
        )
        if outcome.ok and outcome.stay:
            return redirect(request.path)
        if outcome.ok:
            flash(f"«\u00a0{step.title}\u00a0»\u00a0: réponses enregistrées.", "success")
            return redirect(url_for("invitations.show", invitation_id=invitation.id))
        form = step_form(catalog_form, step.block, {}, posted=True)
        apply_errors(form, outcome.errors)
        status = 422
    prepared = invitation_answers.prepared_answers(invitation, catalog_form)
    if request.method == "GET":
        form = step_form(catalog_form, step.block, prepared.data)
    chosen = blocks.get(step.block)
    return (
        render_template(
            "invitations/block.html",
            invitation=invitation,
            catalog_form=catalog_form,
            step=step,
            step_form=form,
            block_template=chosen.template,
            multipart=bool(chosen.document_fields),
            authorization_request=prepared,
            preparing=True,
            **chosen.step_context(catalog_form, prepared, form, current_user),
        ),
        status,
    )


@bp.get("/instruction/brouillons/<int:invitation_id>/documents/<int:document_id>")
@login_required
def download(invitation_id: int, document_id: int):
    return send_document_of(document_id, invitation_id=_load(invitation_id).id)


@bp.post("/instruction/brouillons/<int:invitation_id>/invitation")
@login_required
def invite(invitation_id: int):
    invitation = _load(invitation_id)
    check_action_form()
    invitations.invite(invitation)
    flash(f"L’invitation a été envoyée à {invitation.email}.", "success")
    return redirect(url_for("invitations.show", invitation_id=invitation.id))


@bp.post("/instruction/brouillons/<int:invitation_id>/annulation")
@login_required
def cancel(invitation_id: int):
    invitation = _load(invitation_id)
    check_action_form()
    invitations.cancel(invitation)
    flash("L’invitation est annulée\u00a0: son lien ne fonctionne plus.", "success")
    return redirect(url_for("invitations.show", invitation_id=invitation.id))


# ---------------------------------------------------------------- the future applicant


@bp.route("/invitations/<secret>", methods=["GET", "POST"])
@login_required
def claim(secret: str):
    invitation = invitations.find_by_secret(secret)
    if invitation is None:
        abort(404)
    if request.method == "POST":
        check_action_form()
        authorization_request = invitations.claim(invitation, current_user)
        flash(
            "La demande préparée par l’instruction est maintenant la vôtre\u00a0: vérifiez-la, "
            "complétez-la, puis soumettez-la.",
            "success",
        )
        catalog_form = get_catalog().form(authorization_request.form_uid)
        return redirect(
            url_for(
                "applicant.step",
                request_id=authorization_request.id,
                slug=blocks.steps(catalog_form)[0].slug,
            )
        )
    catalog_form = get_catalog().form(invitation.form_uid)
    problem = invitations.claim_problem(invitation, current_user)
    return render_template(
        "invitations/claim.html",
        invitation=invitation,
        catalog_form=catalog_form,
        problem=problem,
        action_form=FlaskForm(),
    )
