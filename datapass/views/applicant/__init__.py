"""Applicants: choosing a démarche, editors' deep links, the wizard, the request page.

One blueprint, ``applicant``, in three modules: ``entry`` (choosing a démarche, editors'
links, starting), ``wizard`` (the steps and the summary), ``pages`` (the request page, its
actions, documents, the dashboard). The loaders below are shared by them.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy import inspect

from datapass import blocks, permissions
from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.models import AuthorizationRequest

bp = Blueprint("applicant", __name__)


def form_or_404(uid: str):
    """The catalogue's form (démarche) of ``uid``, or 404."""
    catalog_form = get_catalog().form(uid)
    if catalog_form is None:
        abort(404)
    return catalog_form


def load(request_id: int) -> AuthorizationRequest:
    """The request if the user may see it; 404 otherwise (no existence leak)."""
    authorization_request = db.session.get(AuthorizationRequest, request_id)
    if authorization_request is None or not permissions.can_view_request(
        current_user, authorization_request
    ):
        abort(404)
    return authorization_request


def load_editable(request_id: int):
    """(request, catalog form), None — or None, a redirect when the user may not edit it."""
    authorization_request = load(request_id)
    if not permissions.can_edit_request(current_user, authorization_request):
        if permissions.is_applicant(current_user, authorization_request):
            flash("Cette demande ne peut plus être modifiée.", "info")
            return None, redirect(url_for("applicant.show", request_id=request_id))
        if authorization_request.applicant_id == current_user.id:
            flash(
                "Cette demande est faite au nom d’une autre organisation : choisissez-la "
                "comme organisation courante pour la modifier.",
                "info",
            )
            return None, redirect(url_for("applicant.show", request_id=request_id))
        abort(403)
    return (authorization_request, form_or_404(authorization_request.form_uid)), None


def step_url(authorization_request, slug: str, **kwargs) -> str:
    """The step's URL. The id comes from the request's identity key: after a service's commit
    reading ``.id`` would load the whole request again (on SQLite in a write transaction)
    only to build a redirect."""
    request_id = inspect(authorization_request).identity[0]
    return url_for("applicant.step", request_id=request_id, slug=slug, **kwargs)


FIRST_STEP_SLUG = blocks.STEP_SLUGS[blocks.ORGANIZATION]

from datapass.views.applicant import entry, pages, wizard  # noqa: E402, F401  (routes)
