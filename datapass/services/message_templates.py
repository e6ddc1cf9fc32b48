"""Instructors' message templates: listing them for a decision, filling their variables."""

from __future__ import annotations

import functools
import re

from flask import url_for
from sqlalchemy import bindparam, select

from datapass.database import read_connection
from datapass.extensions import db
from datapass.models import AuthorizationRequest, MessageTemplate

VARIABLES = ("demande_url", "demande_intitule", "demande_id")
_VARIABLE = re.compile(r"%\{(\w+)\}")


def variables_for(authorization_request: AuthorizationRequest) -> dict[str, str]:
    return {
        "demande_url": url_for(
            "applicant.show", request_id=authorization_request.id, _external=True
        ),
        "demande_intitule": authorization_request.intitule or "",
        "demande_id": authorization_request.public_reference,
    }


def render(content: str, authorization_request: AuthorizationRequest) -> str:
    """The template's text with ``%{demande_url}``, ``%{demande_intitule}``, ``%{demande_id}``
    replaced; unknown variables are left as typed."""
    values = variables_for(authorization_request)
    return _VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), content)


def unknown_variables(content: str) -> list[str]:
    """Variables a manager typed that do not exist (to warn before saving)."""
    return sorted({name for name in _VARIABLE.findall(content) if name not in VARIABLES})


@functools.cache
def _templates_statement(with_kind: bool):
    """Built once (the request page asks at every view): SQLAlchemy reuses its compiled SQL."""
    query = select(MessageTemplate).where(MessageTemplate.definition_id == bindparam("definition"))
    if with_kind:
        query = query.where(MessageTemplate.kind == bindparam("kind"))
    return query.order_by(MessageTemplate.title)


def templates_for(definition_id: str, kind: str | None = None) -> list[MessageTemplate]:
    statement = _templates_statement(kind is not None)
    return list(db.session.scalars(statement, {"definition": definition_id, "kind": kind}))


@functools.cache
def _choices_statement():
    return (
        select(MessageTemplate.id, MessageTemplate.title, MessageTemplate.content)
        .where(
            MessageTemplate.definition_id == bindparam("definition"),
            MessageTemplate.kind == bindparam("kind"),
        )
        .order_by(MessageTemplate.title)
    )


def choices_for(definition_id: str, kind: str) -> list:
    """The templates of a kind to choose from (rows of ``id``, ``title``, ``content``): plain
    columns, for the pages offering them at every view (no ORM objects), on the request's
    read connection (``database.read_connection``)."""
    connection = read_connection()
    return list(
        connection.execute(_choices_statement(), {"definition": definition_id, "kind": kind})
    )
