"""The JSON shapes of ``/api/v1`` (described in ``openapi.yaml``)."""

from __future__ import annotations

from datapass.models import Authorization, AuthorizationRequest, Organization, User
from datapass.models.authorization import AUTHORIZATION_REVOKED


def iso(value):
    return value.isoformat() if value is not None else None


def organization_json(organization: Organization) -> dict:
    return {
        "id": organization.id,
        "siret": organization.siret,
        "name": organization.name,
        "insee_payload": organization.insee_payload,
    }


def applicant_json(user: User) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "job_title": user.job_title,
        "phone_number": user.phone_number,
    }


def authorization_json(authorization: Authorization, *, with_data: bool = True) -> dict:
    result = {
        "id": authorization.id,
        "slug": authorization.public_reference,
        "state": authorization.state,
        "revoked": authorization.state == AUTHORIZATION_REVOKED,
        "definition_id": authorization.definition_id,
        "form_uid": authorization.form_uid,
        "authorization_request_id": authorization.authorization_request_id,
        "created_at": iso(authorization.created_at),
    }
    if with_data:
        result["data"] = authorization.data or {}
    return result


def demande_json(authorization_request: AuthorizationRequest) -> dict:
    return {
        "id": authorization_request.id,
        "public_id": authorization_request.public_reference,
        "type": f"authorization_request/{authorization_request.definition_id}",
        "definition_id": authorization_request.definition_id,
        "form_uid": authorization_request.form_uid,
        "state": authorization_request.state,
        "intitule": authorization_request.intitule,
        "data": authorization_request.data or {},
        "created_at": iso(authorization_request.created_at),
        "last_submitted_at": iso(authorization_request.last_submitted_at),
        "last_validated_at": iso(authorization_request.last_validated_at),
        "organization": organization_json(authorization_request.organization),
        "applicant": applicant_json(authorization_request.applicant),
        "habilitations": [
            authorization_json(a, with_data=False) for a in authorization_request.authorizations
        ],
    }


def definition_json(definition) -> dict:
    return {
        "id": definition.id,
        "name": definition.name,
        "description": definition.description,
        "scopes": [
            {"value": s.value, "label": s.label, "group": s.group, "retired": s.retired}
            for s in definition.scopes
        ],
    }


def invitation_json(invitation) -> dict:
    """An invitation created through the API; ``demande_id`` once the applicant claimed it."""
    return {
        "id": invitation.id,
        "public_id": invitation.public_reference,
        "definition_id": invitation.definition_id,
        "form_uid": invitation.form_uid,
        "state": invitation.state,
        "organization": {"siret": invitation.siret},
        "applicant": {"email": invitation.email},
        "data": invitation.answers or {},
        "created_at": iso(invitation.created_at),
        "sent_at": iso(invitation.sent_at),
        "expires_at": iso(invitation.expires_at),
        "demande_id": invitation.authorization_request_id,
    }
