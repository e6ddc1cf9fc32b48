"""The habilitation page: token reveal, rotation, prolongation (introspection: ``api/``), and
« Mettre à jour les contacts » (no new review)."""

from __future__ import annotations

from dataclasses import replace

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from datapass import blocks, permissions
from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.forms.tokens import ProlongForm
from datapass.forms.wizard import apply_errors, step_form
from datapass.models import Authorization
from datapass.models.base import utcnow
from datapass.services import contact_updates, receipts, tokens
from datapass.views import check_action_form

bp = Blueprint("tokens", __name__)


def _may_hold(authorization: Authorization) -> bool:
    """Reveal, rotate, prolong: the applicant and the technical contact (permissions.py),
    never an administrator acting as them."""
    return permissions.can_use_token(current_user, authorization)


def _load(authorization_id: int) -> Authorization:
    authorization = db.session.get(Authorization, authorization_id)
    if authorization is None or not permissions.can_view_authorization(current_user, authorization):
        abort(404)
    return authorization


def _page(authorization: Authorization, *, revealed: str | None = None, form=None, status=200):
    token = tokens.current_token(authorization)
    response = make_response(
        render_template(
            "tokens/authorization.html",
            authorization=authorization,
            catalog_form=get_catalog().form(authorization.form_uid),
            token=token,
            revealed=revealed,
            may_hold=_may_hold(authorization),
            action_form=FlaskForm(),
            prolong_form=form or ProlongForm(),
            can_prolong=token is not None and tokens.can_prolong(token, utcnow()),
            lifetime=tokens.lifetime_label(authorization.definition_id),
            now=utcnow(),
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/habilitations/<int:authorization_id>")
@login_required
def show(authorization_id: int):
    return _page(_load(authorization_id))


def _holder_action(authorization_id: int) -> Authorization:
    authorization = _load(authorization_id)
    if not _may_hold(authorization):
        abort(403)
    check_action_form()
    return authorization


@bp.get("/habilitations/<int:authorization_id>/recepisse.pdf")
@login_required
def receipt(authorization_id: int):
    """« Télécharger le récépissé (PDF) »: whoever may see the habilitation."""
    authorization = _load(authorization_id)
    public_url = url_for(
        "open_data.public_authorization", authorization_id=authorization.id, _external=True
    )
    response = make_response(receipts.render(authorization, public_url=public_url))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="recepisse-{authorization.public_reference}.pdf"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/habilitations/<int:authorization_id>/jeton/afficher")
@login_required
def reveal(authorization_id: int):
    authorization = _holder_action(authorization_id)
    token = tokens.current_token(authorization)
    if token is None:
        abort(404)
    try:
        value = tokens.reveal(token, current_user)
    except tokens.TokenError as error:
        flash(error.message, "error")
        return redirect(url_for("tokens.show", authorization_id=authorization.id))
    return _page(authorization, revealed=value)


@bp.get("/habilitations/<int:authorization_id>/jeton/renouveler")
@login_required
def confirm_rotate(authorization_id: int):
    """« Renouveler le jeton » replaces the token: confirmed first (RGAA 11.12)."""
    authorization = _load(authorization_id)
    if not _may_hold(authorization) or not authorization.is_active:
        abort(403)
    days = tokens.rotation_overlap().days
    return render_template(
        "confirm.html",
        title="Renouveler le jeton\u00a0?",
        warning=f"Un nouveau jeton remplacera l’actuel\u00a0: l’ancien reste valable {days} "
        "jours, le temps de le remplacer dans votre logiciel.",
        label="Renouveler le jeton",
        action_url=url_for("tokens.rotate", authorization_id=authorization.id),
        back_url=url_for("tokens.show", authorization_id=authorization.id),
        back_label=f"Habilitation {authorization.public_reference}",
        action_form=FlaskForm(),
    )


@bp.post("/habilitations/<int:authorization_id>/jeton/renouveler")
@login_required
def rotate(authorization_id: int):
    authorization = _holder_action(authorization_id)
    try:
        tokens.rotate(authorization, current_user)
    except tokens.TokenError as error:
        flash(error.message, "error")
    else:
        days = tokens.rotation_overlap().days
        flash(
            f"Un nouveau jeton est prêt : affichez-le. L’ancien reste valable {days} jours, le "
            "temps de le remplacer dans votre logiciel.",
            "success",
        )
    return redirect(url_for("tokens.show", authorization_id=authorization.id))


@bp.post("/habilitations/<int:authorization_id>/prolongation")
@login_required
def prolong(authorization_id: int):
    authorization = _load(authorization_id)
    if not _may_hold(authorization):
        abort(403)
    form = ProlongForm()
    if not form.validate_on_submit():
        abort(400)
    if not (form.same_purpose.data and form.same_data.data and form.same_contacts.data):
        form.form_errors.append(
            "Si l’objet, les données ou les contacts ont changé, la prolongation n’est pas "
            "possible : mettez à jour votre demande (elle sera de nouveau instruite)."
        )
        return _page(authorization, form=form, status=422)
    try:
        token = tokens.prolong(authorization, current_user)
    except tokens.TokenError as error:
        form.form_errors.append(error.message)
        return _page(authorization, form=form, status=422)
    flash(f"Le jeton est prolongé jusqu’au {token.expires_at:%d/%m/%Y}.", "success")
    return redirect(url_for("tokens.show", authorization_id=authorization.id))


# ---------------------------------------------------------------- contacts


def _contacts_page(authorization, contact_types, form, *, status=200):
    """The contacts step's cards (``blocks.contacts``): those of ``contact_types``, and those
    the démarche fixes (read-only)."""
    catalog_form = get_catalog().form(authorization.form_uid)
    context = blocks.get("contacts").step_context(
        catalog_form, authorization.request, form, current_user
    )
    context["contact_cards"] = [
        replace(card, self_fillable=False)
        for card in context["contact_cards"]
        if card.contact in contact_types or card.locked  # fixed ones: shown read-only
    ]
    context["remembered_notice"] = None
    return (
        render_template(
            "tokens/contacts.html",
            authorization=authorization,
            authorization_request=authorization.request,
            catalog_form=catalog_form,
            step_form=form,
            **context,
        ),
        status,
    )


@bp.route("/habilitations/<int:authorization_id>/contacts", methods=["GET", "POST"])
@login_required
def contacts(authorization_id: int):
    """« Mettre à jour les contacts »: the applicant (every card) or the technical contact
    (the technical card) replaces a contact of an active habilitation."""
    authorization = _load(authorization_id)
    contact_types = permissions.updatable_contacts(current_user, authorization)
    if not contact_types:
        abort(403)
    catalog_form = get_catalog().form(authorization.form_uid)
    if request.method == "GET":
        form = step_form(catalog_form, "contacts", authorization.data or {})
        return _contacts_page(authorization, contact_types, form)
    form = step_form(catalog_form, "contacts", authorization.data or {}, posted=True)
    try:
        contact_updates.update_contacts(
            authorization,
            current_user,
            request.form,
            contact_types=contact_types,
            version=request.form.get("version", ""),
        )
    except contact_updates.ContactUpdateError as error:
        if error.stale:
            form = step_form(catalog_form, "contacts", authorization.data or {})
            form.form_errors.append(error.message)
            return _contacts_page(authorization, contact_types, form, status=409)
        apply_errors(form, error.errors)
        if not error.errors:
            form.form_errors.append(error.message)
        return _contacts_page(authorization, contact_types, form, status=422)
    flash(
        "Les contacts sont mis à jour. Les instructeurs en sont informés\u00a0; le jeton est "
        "inchangé.",
        "success",
    )
    return redirect(url_for("tokens.show", authorization_id=authorization.id))
