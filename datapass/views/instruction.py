"""The instruction back-office: queue, request page, decisions, messages, CSV export."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from datapass import permissions, workflow
from datapass.catalog import get_catalog
from datapass.errors import UserError
from datapass.extensions import db
from datapass.forms.instruction import (
    DECISIONS,
    DecisionForm,
    InstructorMessageForm,
    InstructorTransferForm,
)
from datapass.models import (
    Authorization,
    AuthorizationRequest,
    Message,
)
from datapass.models.message import APPLICANT_SIDE, INSTRUCTOR_SIDE
from datapass.services import (
    decisions,
    emails,
    follows,
    message_templates,
    messaging,
    organizations,
    presenter,
    queue_export,
    request_page,
    transfers,
)
from datapass.services import queue as queue_service
from datapass.services.impersonation import forbid_while_impersonating
from datapass.views import check_action_form, form_fragments, int_arg, layout, request_fragments
from datapass.views.history_section import history_section
from datapass.views.queue_lines import filter_fields, queue_frame, queue_lines

bp = Blueprint("instruction", __name__, url_prefix="/instruction")
CRITERIA_KEY = "datapass_queue_criteria"
MESSAGE_FIELDS = "instruction/_message_fields.html"
TRANSFER_FIELDS = "instruction/_transfer_fields.html"
CSRF_FIELD = "instruction/_csrf_field.html"
TEMPLATE_PICKER = "instruction/_template_picker.html"
TEMPLATE_KIND = {
    "approve": "approve",
    "request_changes": "request_changes",
    "refuse": "refuse",
    "revoke": "revoke",
}


def _definitions_or_403() -> list[str]:
    # The user itself, not the proxy: every attribute read through it looks the user up.
    definitions = queue_service.visible_definitions(current_user._get_current_object())
    if not definitions:
        abort(403)
    return definitions


def _load(request_id: int, *, act: bool = False) -> AuthorizationRequest:
    """The request if the user reports on (or, with ``act``, instructs) its definition."""
    authorization_request = db.session.get(AuthorizationRequest, request_id)
    if authorization_request is None or not permissions.can_report(
        current_user, authorization_request.definition_id
    ):
        abort(404)
    if act and not permissions.can_instruct(current_user, authorization_request.definition_id):
        abort(403)
    return authorization_request


# ---------------------------------------------------------------- queue


# What werkzeug's URL building leaves as it is in a query string (``url_for``'s encoding).
QUERY_SAFE = "!$'()*,/:;?@"


def _query_string(args: dict) -> str:
    """``url_for``'s query string for ``args`` (lists repeat their key), without building a
    URL: the queue's criteria at each page."""
    items = [
        (key, value)
        for key, values in args.items()
        for value in (values if isinstance(values, list) else (values,))
    ]
    return urlencode(items, safe=QUERY_SAFE)


@bp.get("/tableau-de-bord/demandes")
@login_required
def queue():
    definitions = _definitions_or_403()
    args = request.args
    if not args and session.get(CRITERIA_KEY):
        # Coming back to the queue: the criteria of the last visit.
        return redirect(url_for("instruction.queue", **session[CRITERIA_KEY]))
    criteria = queue_service.QueueCriteria.from_args(args, definitions)
    remembered = criteria.as_args()
    if session.get(CRITERIA_KEY) != remembered:
        # Only when they change: a modified session is signed and sent again (Set-Cookie).
        session[CRITERIA_KEY] = remembered
    page = queue_service.queue_page(criteria, after=args.get("apres"), before=args.get("avant"))
    catalog = get_catalog()
    return render_template(
        "instruction/queue.html",
        frame=queue_frame(current_user._get_current_object(), definitions),
        criteria=criteria,
        # The criteria's query string, built once (the pages' links, the CSV export).
        criteria_query=_query_string(remembered),
        page=page,
        lines=queue_lines(page.rows, catalog),
        filter_fields=filter_fields(catalog, definitions, criteria),
        definitions=definitions,
    )


@bp.get("/tableau-de-bord/demandes/export.csv")
@login_required
def export():
    definitions = _definitions_or_403()
    criteria = queue_service.QueueCriteria.from_args(request.args, definitions)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(queue_export.export_csv(criteria)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="demandes-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/tableau-de-bord/habilitations")
@login_required
def authorizations():
    definitions = _definitions_or_403()
    after = int_arg("apres")
    query = (request.args.get("q") or "").strip()[:200]
    rows, next_after = queue_service.authorizations_page(definitions, after=after, query=query)
    return render_template(
        "instruction/authorizations.html",
        definitions=definitions,
        rows=rows,
        next_after=next_after,
        query=query,
        catalog=get_catalog(),
    )


# ---------------------------------------------------------------- request page


def _message_form(authorization_request: AuthorizationRequest, templates: list):
    """The message templates, the one chosen (``?modele=``) and the message form's fields."""
    chosen = next((t for t in templates if str(t.id) == request.args.get("modele")), None)
    if chosen is None:  # a blank form: its fields rendered once
        return templates, None, form_fragments.blank_form(MESSAGE_FIELDS, InstructorMessageForm)
    form = InstructorMessageForm()
    form.body.data = message_templates.render(chosen.content, authorization_request)
    return templates, chosen, form_fragments.render_form(MESSAGE_FIELDS, form)


@bp.get("/demandes/<int:request_id>")
@login_required
def show(request_id: int):
    # The user itself, not the proxy: each attribute read through ``current_user`` looks the
    # user up again in the request's context (the permissions read several).
    user = current_user._get_current_object()
    definitions = queue_service.visible_definitions(user)  # the organisation's history
    page = request_page.load(request_id, user.id, definitions)
    if page is None or not permissions.can_report(user, page.authorization_request.definition_id):
        abort(404)
    can_act = permissions.can_instruct(user, page.authorization_request.definition_id)
    if can_act and messaging.mark_messages_read((m for m, _ in page.messages), APPLICANT_SIDE):
        page = request_page.load(request_id, user.id, definitions)  # as now read
    authorization_request = page.authorization_request
    catalog_form = get_catalog().form(authorization_request.form_uid)
    role = workflow.INSTRUCTOR if can_act else workflow.REPORTER
    decisions = request_fragments.decision_paths(
        authorization_request.id,
        [e for e in workflow.allowed_events(authorization_request, role) if e in DECISIONS],
    )
    templates, chosen, message_fields = (
        _message_form(authorization_request, page.message_templates)
        if can_act
        else ([], None, None)
    )
    return render_template(
        "instruction/request.html",
        authorization_request=authorization_request,
        organization=page.organization,
        csrf_field=form_fragments.blank_form(CSRF_FIELD),
        catalog_form=catalog_form,
        answers=request_fragments.answers(catalog_form, authorization_request, page.documents),
        timeline=[
            (event, email, presenter.describe_event(event, catalog_form))
            for event, email in page.events
        ],
        messages=page.messages,
        applicant_email=page.applicant_email,
        decisions=decisions,
        decision_labels=DECISIONS,
        can_act=can_act,
        impersonated=permissions.is_impersonated(user),
        processed_path=request_fragments.processed_paths(authorization_request.id)
        if can_act
        else None,
        # The macro itself (an import costs at every render): only the page's instructors
        # pick a message template.
        template_picker=layout.macro(TEMPLATE_PICKER, "template_picker") if templates else None,
        membership=page.membership,
        verifier_email=page.verifier_email,
        history=history_section(page.history, page.organization.siret),
        following=page.following,
        message_fields=message_fields,
        message_templates=templates,
        chosen_template=chosen,
        transfer_fields=form_fragments.blank_form(
            TRANSFER_FIELDS, InstructorTransferForm, version=authorization_request.version
        )
        if can_act and workflow.can_transfer(authorization_request, role)
        else None,
    )


# ---------------------------------------------------------------- decisions


@bp.route("/demandes/<int:request_id>/decisions/<event>", methods=["GET", "POST"])
@login_required
def decide(request_id: int, event: str):
    authorization_request = _load(request_id, act=True)
    if event not in DECISIONS:
        abort(404)
    forbid_while_impersonating(current_user)  # the page is not even shown
    button, title, reason_label = DECISIONS[event]
    form = DecisionForm()
    form.reason.label.text = reason_label
    kind = TEMPLATE_KIND.get(event)
    templates = (
        message_templates.choices_for(authorization_request.definition_id, kind) if kind else []
    )
    form.template.choices = [SelectChoice("", "Aucun modèle")] + [
        SelectChoice(str(t.id), t.title) for t in templates
    ]
    allowed = event in workflow.allowed_events(authorization_request, workflow.INSTRUCTOR)
    error = None
    status = 200
    if request.method == "GET":
        form.version.data = str(authorization_request.version)
        chosen = next((t for t in templates if str(t.id) == request.args.get("modele")), None)
        if chosen is not None:
            form.template.data = str(chosen.id)
            form.reason.data = message_templates.render(chosen.content, authorization_request)
    elif "apercu" in request.form:
        # « Mettre à jour l’aperçu »: show the email for the typed text, decide nothing.
        status = 200 if form.validate_on_submit() else 400
    elif form.validate_on_submit():
        try:
            decisions.decide(
                authorization_request,
                event,
                current_user,
                version=form.version.data,
                reason=form.reason.data,
                membership_checked=bool(form.membership_checked.data),
            )
        except decisions.DecisionError as exc:
            error = exc
            status = 409 if exc.stale else 422
            if not exc.stale:
                membership_refusal = exc.field == decisions.MEMBERSHIP_CHECK_FIELD
                field = form.membership_checked if membership_refusal else form.reason
                field.errors = [exc.message]
        else:
            flash(_done_message(event, authorization_request), "success")
            return redirect(url_for("instruction.show", request_id=authorization_request.id))
    else:
        status = 400
    return (
        render_template(
            "instruction/decision.html",
            authorization_request=authorization_request,
            event=event,
            button=button,
            title=title,
            form=form,
            allowed=allowed,
            templates=templates,
            error=error,
            reason_required=workflow.reason_required(
                authorization_request, event, workflow.INSTRUCTOR
            ),
            membership_unverified=not organizations.applicant_is_verified(authorization_request),
            preview=emails.preview_decision_email(authorization_request, event, form.reason.data)
            if allowed
            else None,
        ),
        status,
    )


def _done_message(event: str, authorization_request: AuthorizationRequest) -> str:
    reference = authorization_request.public_reference
    return {
        "approve": f"La demande {reference} est validée : l’habilitation est active.",
        "request_changes": "Les modifications ont été demandées au demandeur.",
        "refuse": "La demande a été refusée.",
        "revoke": "L’habilitation a été révoquée.",
        "archive": "La demande a été supprimée.",
        "cancel_reopening": "La réouverture a été annulée.",
    }[event]


def _act_then_show(request_id: int, action, success):
    """Run ``action`` (one service call); flash its refusal (the service has rolled back) or
    ``success()``; back to the request page."""
    try:
        result = action()
    except UserError as error:
        flash(error.message, "error")
    else:
        flash(success(result), "success")
    return redirect(url_for("instruction.show", request_id=request_id))


@bp.post("/habilitations/<int:authorization_id>/revocation")
@login_required
def revoke_authorization(authorization_id: int):
    authorization = db.session.get(Authorization, authorization_id)
    if authorization is None or not permissions.can_report(
        current_user, authorization.definition_id
    ):
        abort(404)
    if not permissions.can_instruct(current_user, authorization.definition_id):
        abort(403)
    check_action_form()
    reference = authorization.public_reference
    return _act_then_show(
        authorization.authorization_request_id,
        lambda: decisions.revoke_authorization(
            authorization, current_user, reason=request.form.get("reason", "")
        ),
        lambda _: f"L’habilitation {reference} a été révoquée.",
    )


@bp.post("/demandes/<int:request_id>/transfert")
@login_required
def transfer(request_id: int):
    authorization_request = _load(request_id, act=True)
    form = InstructorTransferForm()
    if not form.validate_on_submit():
        flash("Indiquez l’adresse électronique d’un membre de l’organisation.", "error")
        return redirect(url_for("instruction.show", request_id=authorization_request.id))
    return _act_then_show(
        authorization_request.id,
        lambda: transfers.transfer_request(
            authorization_request,
            current_user,
            form.email.data,
            role=workflow.INSTRUCTOR,
            version=form.version.data,
        ),
        lambda new_applicant: f"La demande a été transférée à {new_applicant.email}.",
    )


# ---------------------------------------------------------------- messages


@bp.post("/demandes/<int:request_id>/suivre", endpoint="follow", defaults={"following": True})
@bp.post(
    "/demandes/<int:request_id>/ne-plus-suivre", endpoint="unfollow", defaults={"following": False}
)
@login_required
def set_following(request_id: int, following: bool):
    """« Marquer comme suivie »: its staff notifications reach the user whatever their
    settings; « Ne plus suivre »."""
    authorization_request = _load(request_id)
    check_action_form()
    follows.set_following(current_user, authorization_request, following)
    if following:
        flash("Demande suivie\u00a0: ses notifications vous parviendront.", "success")
    else:
        flash("Vous ne suivez plus cette demande.", "success")
    return redirect(url_for("instruction.show", request_id=request_id))


@bp.post("/demandes/<int:request_id>/messages")
@login_required
def post_message(request_id: int):
    authorization_request = _load(request_id, act=True)
    form = InstructorMessageForm()
    if not form.validate_on_submit():
        flash("Écrivez votre message avant de l’envoyer.", "error")
    else:
        messaging.post_message(
            authorization_request, current_user, form.body.data, side=INSTRUCTOR_SIDE
        )
        flash("Votre message a été envoyé au demandeur.", "success")
    return redirect(
        url_for("instruction.show", request_id=authorization_request.id, _anchor="messages")
    )


@bp.post("/demandes/<int:request_id>/messages/<int:message_id>/traite")
@login_required
def mark_processed(request_id: int, message_id: int):
    authorization_request = _load(request_id, act=True)
    message = db.session.get(Message, message_id)
    if message is None or message.authorization_request_id != authorization_request.id:
        abort(404)
    check_action_form()
    messaging.mark_processed(message)
    flash("Le message est marqué comme traité.", "success")
    return redirect(
        url_for("instruction.show", request_id=authorization_request.id, _anchor="messages")
    )
