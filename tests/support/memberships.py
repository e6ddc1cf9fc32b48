"""Users whose membership of their organisation is not verified (a SIRET they typed)."""

from __future__ import annotations

from datapass.extensions import db
from datapass.models import Membership
from datapass.models.organization import DECLARED_BY_USER
from tests.factories import OrganizationFactory, UserFactory


def unverified_agent(organization=None, **attributes):
    """A user acting for ``organization`` (a new one by default) through an unverified
    membership, as after typing its SIRET on /compte/organisation."""
    user = UserFactory(current_organization=None, **attributes)
    organization = organization or OrganizationFactory()
    user.memberships.append(
        Membership(organization=organization, verified=False, verification_reason=DECLARED_BY_USER)
    )
    user.current_organization = organization
    db.session.commit()
    return user
