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


def demande_json(item: AuthorizationRequest) -> dict:
    return {
        "id": item.id,
        "public_id": item.public_reference,
        "type": f"authorization_request/{item.definition_id}",
        "definition_id": item.definition_id,
        "form_uid": item.form_uid,
        "state": item.state,
        "intitule": item.intitule,
        "data": item.data or {},
        "created_at": iso(item.created_at),
        "last_submitted_at": iso(item.last_submitted_at),
        "last_validated_at": iso(item.last_validated_at),
        "organization": organization_json(item.organization),
        "applicant": applicant_json(item.applicant),
        "habilitations": [authorization_json(a, with_data=False) for a in item.authorizations],
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
