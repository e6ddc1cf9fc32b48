"""The blueprints, one per audience, and the small checks every view shares."""

from __future__ import annotations

from flask import abort, request
from flask_wtf import FlaskForm

from datapass.extensions import db
from datapass.models import Document
from datapass.services import documents

SQL_INT_MAX = 2**31 - 1


def check_action_form() -> None:
    """A POST made by a button (no field): its CSRF token must be valid, else 400."""
    if not FlaskForm().validate_on_submit():
        abort(400)


def int_arg(name: str) -> int | None:
    """A page cursor of the query string (``apres``, ``avant``): None when absent.

    Not a number, negative or beyond an SQL integer: 400, never a database error.
    """
    raw = request.args.get(name, "")
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > SQL_INT_MAX:
        abort(400)
    return int(raw)


def show_on_field(form, error) -> None:
    """Put a service's refusal (``UserError``) next to the form field it names; a refusal
    of no field of this form goes on to the errors handler (flashed, back to the page)."""
    field = form._fields.get(error.field or "")
    if field is None:
        raise error
    field.errors = [error.message]


def send_document_of(document_id: int, **owner):
    """The stored document ``document_id`` as a download when it belongs to ``owner``
    (``authorization_request_id=…`` or ``invitation_id=…``, already authorised), else 404."""
    document = db.session.get(Document, document_id)
    if document is None or any(getattr(document, k) != v for k, v in owner.items()):
        abort(404)
    return documents.send_document(document)
