"""Choosing a démarche, v1 links, editors' deep links (with their pre-fill), starting."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from datapass import blocks, permissions, rate_limits
from datapass.catalog import get_catalog
from datapass.services import authorization_requests, statistics
from datapass.services.authorization_requests import RequestError
from datapass.views import check_action_form
from datapass.views.applicant import FIRST_STEP_SLUG, bp, form_or_404, step_url

PREFILL_KEY = "datapass_prefill"
INTEGRATION_CHOICES = {
    "developpeurs": "Vos développeurs (internes ou externes)",
    "editeur": "Votre éditeur",
    "aucun": "Ni équipe technique, ni éditeur",
}


@bp.get("/demandes/<definition_id>/nouveau")
def choose(definition_id: str):
    catalog = get_catalog()
    definition = catalog.definitions.get(definition_id)
    if definition is None or not definition.public:
        abort(404)
    integration = request.args.get("integration")
    if integration not in INTEGRATION_CHOICES:
        integration = None
    use_case = request.args.get("use_case") or None
    editor_id = request.args.get("editeur") or None
    editors = catalog.editors_for(definition_id)
    editor = next((e for e in editors if e.id == editor_id), None)
    forms = []
    if integration == "developpeurs":
        forms = [
            f
            for f in catalog.forms_for(definition_id, without_editor=True, use_case=use_case)
            if f.public
        ]
    elif integration == "editeur" and editor is not None:
        forms = [f for f in catalog.forms_for(definition_id, editor_id=editor.id) if f.public]
    return render_template(
        "applicant/choose.html",
        definition=definition,
        integration=integration,
        integration_choices=INTEGRATION_CHOICES,
        use_case=use_case,
        editors=editors,
        editor=editor,
        no_editor=request.args.get("editeur") == "aucun",
        forms=forms,
        average_days=statistics.average_days(definition.id),
    )


@bp.get("/api-particulier")
def legacy_v1_link():
    """Links published with DataPass v1 (``/api-particulier?demarche=ccas``) keep working."""
    catalog_form = get_catalog().form_for_legacy_id(
        "api_particulier", request.args.get("demarche") or ""
    )
    if catalog_form is None:
        return redirect(url_for("applicant.choose", definition_id="api_particulier"))
    return redirect(url_for("applicant.introduction", uid=catalog_form.uid), code=301)


# ---------------------------------------------------------------- deep links


@bp.get("/formulaires/<uid>/demande/nouveau")
def introduction(uid: str):
    catalog_form = form_or_404(uid)
    prefills = session.get(PREFILL_KEY) or {}
    # The pre-fill of an editor's link waits here, server-side, until the draft is created;
    # visiting the link without parameters clears it.
    prefills = {key: value for key, value in prefills.items() if key != uid}
    prefill = blocks.prefill_from_query(catalog_form, request.args) if request.args else {}
    if prefill:
        prefills[uid] = prefill
    session[PREFILL_KEY] = prefills
    return render_template(
        "applicant/introduction.html",
        catalog_form=catalog_form,
        steps=blocks.steps(catalog_form),
        start_form=FlaskForm(),
        prefilled=bool(prefills.get(uid)),
        average_days=statistics.average_days(catalog_form.definition.id),
    )


@bp.post("/formulaires/<uid>/demande/nouveau")
@login_required
@rate_limits.new_drafts
def start(uid: str):
    catalog_form = form_or_404(uid)
    check_action_form()
    if current_user.current_organization is None:
        flash("Indiquez d’abord l’organisation pour laquelle vous faites la demande.", "info")
        return redirect(url_for("auth.join_organization", next=request.path))
    if not permissions.can_start_request(current_user):
        return redirect(url_for("auth.closed_organization"))
    prefills = session.get(PREFILL_KEY) or {}
    try:
        authorization_request = authorization_requests.start_request_for_applicant(
            current_user, catalog_form, prefill=prefills.get(uid)
        )
    except RequestError as error:
        flash(error.message, "error")
        return redirect(url_for("applicant.introduction", uid=uid))
    prefills.pop(uid, None)
    session[PREFILL_KEY] = prefills
    return redirect(step_url(authorization_request, FIRST_STEP_SLUG))
