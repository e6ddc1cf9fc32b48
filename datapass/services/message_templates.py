"""Instructors' message templates: listing them for a decision, filling their variables."""

from __future__ import annotations

import re

from flask import url_for
from sqlalchemy import select

from datapass.extensions import db
from datapass.models import AuthorizationRequest, MessageTemplate

VARIABLES = ("demande_url", "demande_intitule", "demande_id")
_VARIABLE = re.compile(r"%\{(\w+)\}")


def variables_for(request: AuthorizationRequest) -> dict[str, str]:
    return {
        "demande_url": url_for("applicant.show", request_id=request.id, _external=True),
        "demande_intitule": request.intitule or "",
        "demande_id": request.public_reference,
    }


def render(content: str, request: AuthorizationRequest) -> str:
    """The template's text with ``%{demande_url}``, ``%{demande_intitule}``, ``%{demande_id}``
    replaced; unknown variables are left as typed."""
    values = variables_for(request)
    return _VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), content)


def unknown_variables(content: str) -> list[str]:
    """Variables a manager typed that do not exist (to warn before saving)."""
    return sorted({name for name in _VARIABLE.findall(content) if name not in VARIABLES})


def templates_for(definition_id: str, kind: str | None = None) -> list[MessageTemplate]:
    query = select(MessageTemplate).where(MessageTemplate.definition_id == definition_id)
    if kind is not None:
        query = query.where(MessageTemplate.kind == kind)
    return list(db.session.scalars(query.order_by(MessageTemplate.title)))
