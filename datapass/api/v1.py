"""``/api/v1``: the developer API (OAuth 2 client credentials; OpenAPI in ``openapi.yaml``).

A client sees only the definitions its owner develops for (developer role, or admin).
Errors are ``{"errors": [{"status", "title", "detail", "source"}]}``.
"""

from __future__ import annotations

import re
from functools import wraps
from pathlib import Path

from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc6750.errors import InsufficientScopeError
from flask import Response, g, jsonify, request, url_for
from sqlalchemy import select

from datapass import blocks, rate_limits, workflow
from datapass.api import bp
from datapass.api.oauth import require_oauth
from datapass.api.serializers import (
    authorization_json,
    definition_json,
    demande_json,
    invitation_json,
    iso,
)
from datapass.catalog import get_catalog
from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import (
    Authorization,
    AuthorizationRequest,
    AuthorizationRequestEvent,
    Invitation,
    Organization,
)
from datapass.models.authorization import AUTHORIZATION_STATES
from datapass.permissions import developer_definitions
from datapass.services import authorization_requests, invitations
from datapass.siret import InvalidSiret, validate_siret
from datapass.validators import ValidationError, normalize_email

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")
MAX_LIMIT = 1000
MAX_OFFSET = 2**31 - 1  # an SQL integer: larger is a 400, never a database error


# ---------------------------------------------------------------- plumbing


def error(status: int, title: str, detail: str, pointer: str | None = None):
    authorization_request = {"status": str(status), "title": title, "detail": detail}
    if pointer:
        authorization_request["source"] = {"pointer": pointer}
    response = jsonify(errors=[authorization_request])
    response.status_code = status
    return response


def api(scope: str):
    """Require a bearer token with ``scope``; ``g.api_client`` is its ``ApiClient``."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                token = require_oauth.acquire_token([scope])
            except InsufficientScopeError:
                return error(403, "Portée insuffisante", f"Ce jeton n’a pas la portée {scope}.")
            except OAuth2Error:
                response = error(
                    401, "Non authentifié", "Jeton d’accès absent, expiré ou invalide."
                )
                response.headers["WWW-Authenticate"] = 'Bearer realm="datapass"'
                return response
            g.api_client = token.client
            return view(*args, **kwargs)

        return wrapper

    return decorate


def perimeter() -> list[str]:
    """The definitions the client's owner develops for (none once the owner is banned)."""
    owner = g.api_client.owner
    if owner is None or owner.banned_at is not None:
        return []
    return developer_definitions(owner)


def _int_arg(name: str, default: int, maximum: int | None = None):
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ValueError(name)
    value = int(raw)
    if maximum is not None and value > maximum:
        raise ValueError(name)
    return value


def _page(query, *order_by) -> tuple[list, object]:
    """The rows of ``query`` for the ``limit`` (10 by default) and ``offset`` parameters,
    and None; or no rows and the 400 error response when a parameter is not valid."""
    try:
        limit = _int_arg("limit", 10, MAX_LIMIT)
        offset = _int_arg("offset", 0, MAX_OFFSET)
    except ValueError as exc:
        maximum = MAX_LIMIT if str(exc) == "limit" else MAX_OFFSET
        return [], error(
            400, "Paramètre invalide", f"{exc} doit être un entier ≤ {maximum}.", f"/{exc}"
        )
    rows = db.session.scalars(query.order_by(*order_by).limit(limit).offset(offset)).all()
    return list(rows), None


def _number(raw: str, prefix: str) -> int | None:
    match = re.fullmatch(rf"{prefix}?(\d{{1,9}})", raw.strip(), re.I)
    return int(match.group(1)) if match else None


# ---------------------------------------------------------------- the OpenAPI document


@bp.get("/api/openapi.yaml")
def openapi():
    return Response(OPENAPI_PATH.read_text(), mimetype="application/yaml")


# ---------------------------------------------------------------- endpoints


@bp.get("/api/v1/me")
@api("read_authorizations")
def me():
    client = g.api_client
    return jsonify(
        client_id=client.client_id,
        name=client.name,
        owner_email=client.owner.email if client.owner else None,
        scopes=client.scopes or [],
        definitions=perimeter(),
    )


def _own_request(raw_id: str) -> AuthorizationRequest | None:
    number = _number(raw_id, "D")
    if number is None:
        return None
    authorization_request = db.session.get(AuthorizationRequest, number)
    if authorization_request is None or authorization_request.definition_id not in perimeter():
        return None
    return authorization_request


def _not_found(what: str = "Demande"):
    return error(404, "Introuvable", f"{what} inconnue ou hors de votre périmètre.")


@bp.get("/api/v1/demandes")
@api("read_authorizations")
def list_demandes():
    query = (
        select(AuthorizationRequest)
        .join(AuthorizationRequest.organization)
        .where(AuthorizationRequest.definition_id.in_(perimeter()))
    )
    states = [s for s in request.args.getlist("state") if s in workflow.STATES]
    if states:
        query = query.where(AuthorizationRequest.state.in_(states))
    if siret := (request.args.get("siret") or "").replace(" ", ""):
        query = query.where(Organization.siret == siret)
    rows, problem = _page(
        query, AuthorizationRequest.created_at.desc(), AuthorizationRequest.id.desc()
    )
    return problem or jsonify([demande_json(row) for row in rows])


@bp.get("/api/v1/demandes/<raw_id>")
@api("read_authorizations")
def get_demande(raw_id: str):
    authorization_request = _own_request(raw_id)
    return jsonify(demande_json(authorization_request)) if authorization_request else _not_found()


@bp.get("/api/v1/demandes/<raw_id>/events")
@api("read_authorizations")
def demande_events(raw_id: str):
    authorization_request = _own_request(raw_id)
    if authorization_request is None:
        return _not_found()
    events = db.session.scalars(
        select(AuthorizationRequestEvent)
        .where(AuthorizationRequestEvent.authorization_request_id == authorization_request.id)
        .order_by(AuthorizationRequestEvent.created_at, AuthorizationRequestEvent.id)
    )
    return jsonify([{"id": e.id, "name": e.name, "created_at": iso(e.created_at)} for e in events])


def _check_data(catalog_form, data) -> tuple[dict, object]:
    """Answers an API client may write, cleaned as the wizard cleans them (no document, no
    locked block); the first problem is answered as a 422."""
    if not isinstance(data, dict):
        return {}, error(422, "Données invalides", "data doit être un objet.", "/demande/data")
    cleaned, problems = blocks.clean_answers(catalog_form, data)
    if problems:
        problem = problems[0]
        # Never echo arbitrary input: the key is named only when it looks like a field name.
        known = re.fullmatch(r"[a-z][a-z0-9_]{0,79}", problem.field or "")
        pointer = f"/demande/data/{problem.field}" if known else "/demande/data"
        return {}, error(422, problem.title, problem.detail, pointer)
    return cleaned, None


@bp.post("/api/v1/demandes")
@api("write_authorizations")
@rate_limits.api_new_drafts
def create_demande():
    body = request.get_json(silent=True)
    demande = body.get("demande") if isinstance(body, dict) else None
    if not isinstance(demande, dict):
        return error(400, "Corps invalide", 'Envoyez {"demande": {…}} en JSON.', "/demande")
    catalog_form = get_catalog().form(str(demande.get("form_uid") or ""))
    if catalog_form is None or catalog_form.definition.id not in perimeter():
        return error(
            422,
            "Formulaire inconnu",
            "form_uid inconnu ou hors de votre périmètre.",
            "/demande/form_uid",
        )
    applicant_data = demande.get("applicant") if isinstance(demande.get("applicant"), dict) else {}
    try:
        email = normalize_email(str(applicant_data.get("email") or ""))
    except ValidationError as exc:
        return error(422, "Courriel invalide", exc.message, "/demande/applicant/email")
    organization_data = demande.get("organization")
    if not isinstance(organization_data, dict):
        organization_data = {}
    try:
        siret = validate_siret(str(organization_data.get("siret") or ""))
    except InvalidSiret as exc:
        return error(422, "SIRET invalide", exc.message, "/demande/organization/siret")
    data, problem = _check_data(catalog_form, demande.get("data") or {})
    if problem is not None:
        return problem
    try:
        invitation = invitations.create_by_api(
            catalog_form,
            siret=siret,
            email=email,
            answers=data,
            client_id=g.api_client.client_id,
        )
    except UserError as exc:
        return error(422, "Établissement fermé", exc.message, "/demande/organization/siret")
    response = jsonify(invitation_json(invitation))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_invitation", raw_id=invitation.id)
    return response


@bp.get("/api/v1/invitations/<raw_id>")
@api("read_authorizations")
def get_invitation(raw_id: str):
    """An invitation this client created (``demande_id`` once the applicant claimed it)."""
    number = _number(raw_id, "I")
    invitation = db.session.get(Invitation, number) if number is not None else None
    if invitation is None or invitation.client_id != g.api_client.client_id:
        return _not_found("Invitation")
    return jsonify(invitation_json(invitation))


@bp.patch("/api/v1/demandes/<raw_id>")
@api("write_authorizations")
def update_demande(raw_id: str):
    authorization_request = _own_request(raw_id)
    if authorization_request is None:
        return _not_found()
    if not authorization_request.is_editable:
        return error(422, "Demande non modifiable", "La demande n’est plus modifiable.", "/")
    body = request.get_json(silent=True)
    demande = body.get("demande") if isinstance(body, dict) else None
    if not isinstance(demande, dict):
        return error(400, "Corps invalide", 'Envoyez {"demande": {"data": {…}}}.', "/demande")
    catalog_form = get_catalog().form(authorization_request.form_uid)
    data, problem = _check_data(catalog_form, demande.get("data") or {})
    if problem is not None:
        return problem
    authorization_requests.update_by_api(
        authorization_request, catalog_form, data, client_id=g.api_client.client_id
    )
    return jsonify(demande_json(authorization_request))


@bp.get("/api/v1/habilitations")
@api("read_authorizations")
def list_habilitations():
    query = (
        select(Authorization)
        .join(Authorization.organization)
        .where(Authorization.definition_id.in_(perimeter()))
    )
    if (state := request.args.get("state")) in AUTHORIZATION_STATES:
        query = query.where(Authorization.state == state)
    if siret := (request.args.get("siret") or "").replace(" ", ""):
        query = query.where(Organization.siret == siret)
    rows, problem = _page(query, Authorization.created_at.desc(), Authorization.id.desc())
    return problem or jsonify([authorization_json(row) for row in rows])


@bp.get("/api/v1/habilitations/<raw_id>")
@api("read_authorizations")
def get_habilitation(raw_id: str):
    number = _number(raw_id, "H")
    authorization_request = db.session.get(Authorization, number) if number is not None else None
    if authorization_request is None or authorization_request.definition_id not in perimeter():
        return _not_found("Habilitation")
    return jsonify(authorization_json(authorization_request))


@bp.get("/api/v1/definitions")
@api("read_authorizations")
def list_definitions():
    definitions = get_catalog().definitions
    return jsonify([definition_json(definitions[d]) for d in perimeter()])


@bp.get("/api/v1/definitions/<definition_id>/formulaires")
@api("read_authorizations")
def definition_forms(definition_id: str):
    if definition_id not in perimeter():
        return _not_found("Définition")
    forms = [f for f in get_catalog().forms.values() if f.definition.id == definition_id]
    return jsonify(
        [
            {
                "uid": f.uid,
                "name": f.name,
                "description": f.description,
                "editor": f.editor.name if f.editor else None,
                "use_case": f.use_case,
                "public": f.public,
                "steps": list(f.steps),
                "url": url_for("applicant.introduction", uid=f.uid, _external=True),
            }
            for f in forms
        ]
    )


@bp.errorhandler(404)
def not_found(_error):
    return error(404, "Introuvable", "Cette adresse n’existe pas dans l’API.")


@bp.get("/api/v1/webhooks/<int:webhook_id>/attempts")
@api("read_webhooks")
def webhook_attempts(webhook_id: int):
    from datapass.models.webhook_endpoint import Webhook, WebhookAttempt

    webhook = db.session.get(Webhook, webhook_id) if webhook_id < 2**31 else None
    if webhook is None or webhook.definition_id not in perimeter():
        return _not_found("Webhook")
    try:
        limit = _int_arg("limit", 100, 100)
    except ValueError as exc:
        return error(400, "Paramètre invalide", f"{exc} doit être un entier ≤ 100.", f"/{exc}")
    rows = db.session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.webhook_id == webhook.id)
        .order_by(WebhookAttempt.id.desc())
        .limit(limit)
    )
    return jsonify(
        [
            {
                "id": a.id,
                "event": a.event,
                "status_code": a.status_code,
                "response_body": a.response_excerpt,
                "created_at": iso(a.created_at),
                "authorization_request_id": a.authorization_request_id,
            }
            for a in rows
        ]
    )
