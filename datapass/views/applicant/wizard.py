"""The wizard: « Votre organisation », one step per editable block, then the summary."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from datapass import blocks, rate_limits
from datapass.errors import UserError
from datapass.forms.applicant import SiretStepForm, SummaryForm
from datapass.forms.wizard import apply_errors, step_form
from datapass.services import (
    authorization_requests,
    deliberation_analysis,
    deliberation_model,
    submission,
)
from datapass.views.applicant import bp, load_editable, step_url


@bp.route("/demandes/<int:request_id>/etapes/<slug>", methods=["GET", "POST"])
@login_required
@rate_limits.sirene_lookups
@rate_limits.uploads
def step(request_id: int, slug: str):
    loaded, response = load_editable(request_id)
    if response is not None:
        return response
    authorization_request, catalog_form = loaded
    current = blocks.step_for_slug(catalog_form, slug)
    if current is None:
        abort(404)
    if current.block == blocks.ORGANIZATION:
        return _organization_step(authorization_request, catalog_form, current)
    if current.block == blocks.SUMMARY:
        return _summary_step(authorization_request, catalog_form, current)
    return _block_step(authorization_request, catalog_form, current)


@bp.get("/demandes/<int:request_id>/modele-deliberation.docx")
@login_required
def deliberation_model_download(request_id: int):
    """« Télécharger un modèle de délibération »: an editable .docx built from the request."""
    loaded, response = load_editable(request_id)
    if response is not None:
        return response
    authorization_request, catalog_form = loaded
    content = deliberation_model.build_docx(authorization_request, catalog_form)
    name = deliberation_model.filename(authorization_request)
    return Response(
        content,
        mimetype=deliberation_model.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _render(authorization_request, catalog_form, current, form, status=200, **extra):
    previous, following = blocks.neighbours(catalog_form, current)
    if current.is_block:
        block = blocks.get(current.block)
        extra.update(block.step_context(catalog_form, authorization_request, form, current_user))
        extra["block_template"] = block.template
        extra["multipart"] = bool(block.document_fields)
        prefilled = authorization_requests.prefilled_blocks(authorization_request, catalog_form)
        extra["prefilled"] = current.block in prefilled
    return (
        render_template(
            "applicant/step.html",
            authorization_request=authorization_request,
            catalog_form=catalog_form,
            step=current,
            steps=blocks.steps(catalog_form),
            step_form=form,
            previous_step=previous,
            next_step=following,
            **extra,
        ),
        status,
    )


def _next_page(authorization_request, catalog_form, current, action: str):
    previous, following = blocks.neighbours(catalog_form, current)
    if action == "previous" and previous is not None:
        return redirect(step_url(authorization_request, previous.slug))
    if action == "next" and following is not None:
        return redirect(step_url(authorization_request, following.slug))
    flash("Vos réponses ont été enregistrées.", "success")
    return redirect(step_url(authorization_request, current.slug))


def _organization_step(authorization_request, catalog_form, current):
    organization = authorization_request.organization
    membership = current_user.membership_for(organization.id)
    context = {
        "organization": organization,
        "membership_verified": bool(membership and membership.verified),
        "block_template": "applicant/steps/organization.html",
    }
    if request.method == "GET":
        form = SiretStepForm(data={"siret": organization.siret})
        return _render(authorization_request, catalog_form, current, form, **context)
    form = SiretStepForm()
    try:
        authorization_requests.confirm_organization(
            authorization_request,
            current_user,
            form.siret.data or "",
            version=request.form.get("version", ""),
        )
    except UserError as error:
        form.siret.errors = [error.message]
        context["organization"] = authorization_request.organization
        return _render(authorization_request, catalog_form, current, form, 422, **context)
    action = request.form.get("action", "next")
    return _next_page(authorization_request, catalog_form, current, action)


def _block_step(authorization_request, catalog_form, current):
    if request.method == "GET":
        form = step_form(catalog_form, current.block, authorization_request.data or {})
        return _render(authorization_request, catalog_form, current, form)
    # CSRF is checked for every POST by CSRFProtect before the view runs.
    action = request.form.get("action", "next")
    outcome = authorization_requests.save_step(
        authorization_request,
        catalog_form,
        current,
        request.form,
        user=current_user,
        action=action,
        files=request.files,
        remove_document=request.form.get("remove_document"),
        version=request.form.get("version", ""),
    )
    if outcome.ok and outcome.stay:
        return redirect(step_url(authorization_request, current.slug))
    if outcome.ok and outcome.incomplete is not None:
        earlier = outcome.incomplete
        flash(f"Complétez l’étape « {earlier.title} » avant de continuer.", "warning")
        return redirect(step_url(authorization_request, earlier.slug, verifier=1))
    if outcome.ok:
        return _next_page(authorization_request, catalog_form, current, action)
    form = step_form(catalog_form, current.block, authorization_request.data or {})
    if outcome.stale:
        form.form_errors.append(authorization_requests.STALE_STEP)
        return _render(authorization_request, catalog_form, current, form, 409)
    apply_errors(form, outcome.upload_errors or outcome.errors)
    return _render(authorization_request, catalog_form, current, form, 422)


def _summary_step(authorization_request, catalog_form, current):
    summary_form = SummaryForm()
    errors = {}
    if request.method == "POST":
        result = submission.submit_request(
            authorization_request,
            catalog_form,
            current_user,
            terms_accepted=summary_form.terms_of_service_accepted.data,
            dpo_informed=summary_form.data_protection_officer_informed.data,
            version=request.form.get("version", ""),
        )
        if result.ok:
            flash(
                "Votre demande a été soumise. Elle est maintenant en cours d’instruction.",
                "success",
            )
            return redirect(url_for("applicant.show", request_id=authorization_request.id))
        errors = result.errors
        for name, messages in errors.get("summary", {}).items():
            if hasattr(summary_form, name):
                getattr(summary_form, name).errors = list(messages)
    return _render(
        authorization_request,
        catalog_form,
        current,
        summary_form,
        status=422 if errors else 200,
        block_template="applicant/steps/summary.html",
        block_errors={k: v for k, v in errors.items() if k != "summary"},
        summary_errors=errors.get("summary", {}).get("changes", []),
        view=blocks.summary(catalog_form, authorization_request),
        unapproved=deliberation_analysis.unapproved_labels(catalog_form, authorization_request),
    )
