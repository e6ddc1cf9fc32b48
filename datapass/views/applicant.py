"""Applicants: choosing a démarche, editors' deep links, the wizard, submission, dashboard."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from datapass import permissions, workflow
from datapass.catalog import get_catalog
from datapass.errors import UserError
from datapass.extensions import db
from datapass.forms import wizard
from datapass.forms.applicant import MessageForm, SummaryForm, TransferForm
from datapass.models import AuthorizationRequest, Document
from datapass.models.message import APPLICANT_SIDE, INSTRUCTOR_SIDE
from datapass.services import authorization_requests, dashboard, documents, messaging, transfers
from datapass.services.authorization_requests import RequestError
from datapass.siret import InvalidSiret

bp = Blueprint("applicant", __name__)

PREFILL_KEY = "datapass_prefill"
INTEGRATION_CHOICES = {
    "developpeurs": "Vos développeurs (internes ou externes)",
    "editeur": "Votre éditeur",
    "aucun": "Ni équipe technique, ni éditeur",
}


def _form_or_404(uid: str):
    form = get_catalog().form(uid)
    if form is None:
        abort(404)
    return form


# ---------------------------------------------------------------- choosing a démarche


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
    )


@bp.get("/api-particulier")
def legacy_v1_link():
    """Links published with DataPass v1 (``/api-particulier?demarche=ccas``) keep working."""
    form = get_catalog().form_for_legacy_id("api_particulier", request.args.get("demarche") or "")
    if form is None:
        return redirect(url_for("applicant.choose", definition_id="api_particulier"))
    return redirect(url_for("applicant.introduction", uid=form.uid), code=301)


# ---------------------------------------------------------------- deep links


@bp.get("/formulaires/<uid>/demande/nouveau")
def introduction(uid: str):
    form = _form_or_404(uid)
    prefills = session.get(PREFILL_KEY) or {}
    # The pre-fill of an editor's link waits here, server-side, until the draft is created;
    # visiting the link without parameters clears it.
    prefills = {key: value for key, value in prefills.items() if key != uid}
    prefill = authorization_requests.prefill_from_query(form, request.args) if request.args else {}
    if prefill:
        prefills[uid] = prefill
    session[PREFILL_KEY] = prefills
    return render_template(
        "applicant/introduction.html",
        form=form,
        steps=wizard.steps(form),
        start_form=FlaskForm(),
        prefilled=bool(prefills.get(uid)),
    )


@bp.post("/formulaires/<uid>/demande/nouveau")
@login_required
def start(uid: str):
    form = _form_or_404(uid)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if current_user.current_organization is None:
        flash("Indiquez d’abord l’organisation pour laquelle vous faites la demande.", "info")
        return redirect(url_for("auth.join_organization", next=request.path))
    if not permissions.can_start_request(current_user):
        return redirect(url_for("auth.closed_organization"))
    prefills = session.get(PREFILL_KEY) or {}
    try:
        authorization_request = authorization_requests.start_request(
            current_user, form, prefill=prefills.get(uid)
        )
    except RequestError as error:
        flash(error.message, "error")
        return redirect(url_for("applicant.introduction", uid=uid))
    prefills.pop(uid, None)
    session[PREFILL_KEY] = prefills
    return redirect(_step_url(authorization_request, wizard.SLUGS[wizard.ORGANIZATION]))


# ---------------------------------------------------------------- loading and permissions


def _load(request_id: int) -> AuthorizationRequest:
    """The request if the user may see it; 404 otherwise (no existence leak)."""
    authorization_request = db.session.get(AuthorizationRequest, request_id)
    if authorization_request is None or not permissions.can_view_request(
        current_user, authorization_request
    ):
        abort(404)
    return authorization_request


def _load_editable(request_id: int):
    authorization_request = _load(request_id)
    if not permissions.can_edit_request(current_user, authorization_request):
        if permissions.is_applicant(current_user, authorization_request):
            flash("Cette demande ne peut plus être modifiée.", "info")
            return None, redirect(url_for("applicant.show", request_id=request_id))
        if authorization_request.applicant_id == current_user.id:
            flash(
                "Cette demande est faite au nom d’une autre organisation : choisissez-la "
                "comme organisation courante pour la modifier.",
                "info",
            )
            return None, redirect(url_for("applicant.show", request_id=request_id))
        abort(403)
    form = get_catalog().form(authorization_request.form_uid)
    if form is None:
        abort(404)
    return (authorization_request, form), None


def _step_url(authorization_request, slug: str, **kwargs) -> str:
    return url_for("applicant.step", request_id=authorization_request.id, slug=slug, **kwargs)


# ---------------------------------------------------------------- the wizard


@bp.route("/demandes/<int:request_id>/etapes/<slug>", methods=["GET", "POST"])
@login_required
def step(request_id: int, slug: str):
    loaded, response = _load_editable(request_id)
    if response is not None:
        return response
    authorization_request, form = loaded
    current = wizard.step_for_slug(form, slug)
    if current is None:
        abort(404)
    if current.block == wizard.ORGANIZATION:
        return _organization_step(authorization_request, form, current)
    if current.block == wizard.SUMMARY:
        return _summary_step(authorization_request, form, current)
    return _block_step(authorization_request, form, current)


def _neighbours(form, current):
    all_steps = wizard.steps(form)
    index = current.number - 1
    previous = all_steps[index - 1] if index > 0 else None
    following = all_steps[index + 1] if index + 1 < len(all_steps) else None
    return previous, following


def _render_step(authorization_request, form, current, step_form, status=200, **extra):
    previous, following = _neighbours(form, current)
    if current.block == "scopes":
        extra["scope_groups"] = wizard.scope_groups_for_display(
            form, list(step_form.scopes.data or [])
        )
    elif current.block == "contacts":
        extra["contact_cards"] = [
            (
                contact,
                wizard.contact_label(contact),
                [getattr(step_form, f"{contact}_{suffix}") for suffix in wizard.CONTACT_SUFFIXES],
                contact in wizard.SELF_FILLABLE_CONTACTS,
            )
            for contact in wizard.contact_types(form)
        ]
    elif current.block == "legal":
        extra["legal_documents"] = [
            d for d in authorization_request.documents if d.field == wizard.DOCUMENT_FIELD
        ]
    elif current.block == wizard.ORGANIZATION:
        organization = authorization_request.organization
        membership = current_user.membership_for(organization.id)
        extra["organization"] = organization
        extra["membership_verified"] = bool(membership and membership.verified)
    return (
        render_template(
            "applicant/step.html",
            authorization_request=authorization_request,
            catalog_form=form,
            step=current,
            steps=wizard.steps(form),
            step_form=step_form,
            previous_step=previous,
            next_step=following,
            prefilled=current.block in _prefilled_blocks(authorization_request, form),
            **extra,
        ),
        status,
    )


def _prefilled_blocks(authorization_request, form) -> set[str]:
    """Blocks holding values from the form's defaults or from the editor's link."""
    blocks = set(form.prefilled_blocks())
    created = next((e for e in authorization_request.events if e.name == "create"), None)
    for key in (created.payload or {}).get("prefilled_keys", []) if created else []:
        block = wizard.field_block(form, key)
        if block:
            blocks.add(block)
    return blocks


def _after_save(authorization_request, form, current, action: str):
    previous, following = _neighbours(form, current)
    if action == "previous" and previous is not None:
        return redirect(_step_url(authorization_request, previous.slug))
    if action == "next" and following is not None:
        return redirect(_step_url(authorization_request, following.slug))
    flash("Vos réponses ont été enregistrées.", "success")
    return redirect(_step_url(authorization_request, current.slug))


def _stale_edit(authorization_request, form, current):
    """A step posted from a page older than the request's current version is refused."""
    posted = request.form.get("version", "")
    if posted.isdigit() and int(posted) != authorization_request.version:
        step_form = wizard.step_form(form, current.block, authorization_request.data or {})
        step_form.form_errors.append(
            "La demande a été modifiée entre-temps (dans un autre onglet ou par un instructeur) "
            "et vos dernières saisies n’ont pas été enregistrées. Voici sa version actuelle : "
            "vérifiez-la puis recommencez."
        )
        return _render_step(authorization_request, form, current, step_form, status=409)
    return None


def _organization_step(authorization_request, form, current):
    siret_form = wizard.SiretStepForm(
        data={"siret": authorization_request.organization.siret}
        if request.method == "GET"
        else None
    )
    if request.method == "POST":
        action = request.form.get("action", "next")
        typed = (siret_form.siret.data or "").strip()
        if typed and typed.replace(" ", "") != authorization_request.organization.siret:
            try:
                authorization_requests.change_organization(
                    authorization_request, current_user, typed
                )
            except InvalidSiret as error:
                siret_form.siret.errors = [error.message]
            except RequestError as error:
                siret_form.siret.errors = [error.message]
            if siret_form.siret.errors:
                db.session.rollback()
                return _render_step(authorization_request, form, current, siret_form, status=422)
            authorization_requests.commit()
        elif authorization_request.organization.is_closed:
            siret_form.siret.errors = [
                "Cet établissement est fermé d’après le répertoire Sirene : indiquez le SIRET "
                "d’un établissement ouvert."
            ]
            return _render_step(authorization_request, form, current, siret_form, status=422)
        return _after_save(authorization_request, form, current, action)
    return _render_step(authorization_request, form, current, siret_form)


def _block_step(authorization_request, form, current):
    block = current.block
    data = authorization_request.data or {}
    if request.method == "GET":
        return _render_step(
            authorization_request, form, current, wizard.step_form(form, block, data)
        )
    # CSRF is checked for every POST by CSRFProtect before the view runs.
    stale = _stale_edit(authorization_request, form, current)
    if stale is not None:
        return stale
    action = request.form.get("action", "next")
    answers = {
        field: (
            request.form.getlist(field)
            if field in authorization_requests.LIST_FIELDS
            else request.form.get(field, "")
        )
        for field in wizard.block_fields(form, block)
        if field in request.form or field in authorization_requests.LIST_FIELDS
    }
    if action.startswith("itsme:"):
        answers.update(wizard.self_contact(form, action.split(":", 1)[1], current_user))
    authorization_requests.save_answers(authorization_request, form, block, answers)
    upload_errors = []
    if block == "legal":
        removed = request.form.get("remove_document")
        if removed and removed.isdigit():
            documents.remove_document(authorization_request, int(removed))
        _, upload_errors = documents.attach_documents(
            authorization_request,
            wizard.DOCUMENT_FIELD,
            request.files.getlist(wizard.DOCUMENT_FIELD),
            user=current_user,
        )
    authorization_requests.sync_contacts(authorization_request, form)
    authorization_requests.commit()
    if upload_errors:
        step_form = wizard.step_form(form, block, authorization_request.data)
        step_form.cadre_juridique_document.errors = upload_errors
        return _render_step(authorization_request, form, current, step_form, status=422)
    if action.startswith("itsme:") or (block == "legal" and request.form.get("remove_document")):
        return redirect(_step_url(authorization_request, current.slug))
    if action != "next":
        return _after_save(authorization_request, form, current, action)
    errors = wizard.validate_block(form, block, authorization_request)
    if errors:
        step_form = wizard.step_form(form, block, authorization_request.data)
        wizard.apply_errors(step_form, errors)
        return _render_step(authorization_request, form, current, step_form, status=422)
    for earlier in wizard.steps(form)[: current.number - 1]:
        if earlier.block != wizard.ORGANIZATION and wizard.validate_block(
            form, earlier.block, authorization_request
        ):
            flash(f"Complétez l’étape « {earlier.title} » avant de continuer.", "warning")
            return redirect(_step_url(authorization_request, earlier.slug, verifier=1))
    return _after_save(authorization_request, form, current, action)


def _summary_step(authorization_request, form, current):
    summary_form = SummaryForm()
    errors = {}
    if request.method == "POST":
        result = authorization_requests.submit_request(
            authorization_request,
            form,
            current_user,
            terms_accepted=summary_form.terms_of_service_accepted.data,
            dpo_informed=summary_form.data_protection_officer_informed.data,
        )
        if result.ok:
            flash(
                "Votre demande a été soumise. Elle est maintenant en cours d’instruction.",
                "success",
            )
            return redirect(url_for("applicant.show", request_id=authorization_request.id))
        db.session.rollback()
        errors = result.errors
        for name, messages in errors.get("summary", {}).items():
            if hasattr(summary_form, name):
                getattr(summary_form, name).errors = list(messages)
    return _render_step(
        authorization_request,
        form,
        current,
        summary_form,
        status=422 if errors else 200,
        block_errors={k: v for k, v in errors.items() if k != "summary"},
        summary_errors=errors.get("summary", {}).get("changes", []),
        view=_summary_view(authorization_request, form),
    )


def _summary_view(authorization_request, form):
    return wizard.summary(form, authorization_request)


# ---------------------------------------------------------------- documents


@bp.get("/demandes/<int:request_id>/documents/<int:document_id>")
@login_required
def download(request_id: int, document_id: int):
    authorization_request = _load(request_id)
    document = db.session.get(Document, document_id)
    if document is None or document.authorization_request_id != authorization_request.id:
        abort(404)
    return documents.send_document(document)


# ---------------------------------------------------------------- request page and actions


@bp.get("/demandes/<int:request_id>")
@login_required
def show(request_id: int):
    authorization_request = _load(request_id)
    form = get_catalog().form(authorization_request.form_uid)
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
        catalog_form=form,
        view=wizard.summary(form, authorization_request) if form else [],
        role=role,
        actions=events,
        action_form=FlaskForm(),
        message_form=MessageForm(),
        transfer_form=transfer_form if workflow.can_transfer(authorization_request, role) else None,
        can_edit=permissions.can_edit_request(current_user, authorization_request),
        first_step=wizard.steps(form)[0].slug if form else None,
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


@bp.post("/demandes/<int:request_id>/actions/<event>")
@login_required
def act(request_id: int, event: str):
    authorization_request = _load(request_id)
    if event not in ACTIONS:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    action, message = ACTIONS[event]
    try:
        action(authorization_request, current_user)
    except RequestError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("applicant.show", request_id=request_id))
    flash(message, "success")
    if event == "reopen":
        return redirect(_step_url(authorization_request, wizard.SLUGS[wizard.ORGANIZATION]))
    if event == "archive":
        return redirect(url_for("applicant.dashboard_view"))
    return redirect(url_for("applicant.show", request_id=request_id))


@bp.post("/demandes/<int:request_id>/transfert")
@login_required
def transfer(request_id: int):
    authorization_request = _load(request_id)
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


@bp.post("/demandes/<int:request_id>/messages")
@login_required
def post_message(request_id: int):
    authorization_request = _load(request_id)
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
