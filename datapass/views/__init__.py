"""The blueprints, one per audience, and the small checks every view shares."""

from __future__ import annotations

from flask import abort
from flask_wtf import FlaskForm


def check_action_form() -> None:
    """A POST made by a button (no field): its CSRF token must be valid, else 400."""
    if not FlaskForm().validate_on_submit():
        abort(400)
