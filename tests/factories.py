"""factory_boy factories bound to the test session (see the ``db`` fixture)."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from datapass import models
from datapass.extensions import db
from datapass.models.base import utcnow


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


def _luhn_complete(prefix: str) -> str:
    """Append the check digit that makes ``prefix`` a valid Luhn number."""
    for digit in "0123456789":
        candidate = prefix + digit
        total = 0
        for index, char in enumerate(reversed(candidate)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


class OrganizationFactory(BaseFactory):
    class Meta:
        model = models.Organization

    siret = factory.Sequence(lambda n: _luhn_complete(f"2{n:012d}"))
    name = factory.Sequence(lambda n: f"CCAS de Commune {n}")
    address = "1 place de la Mairie"
    commune = "Chaville"
    naf_code = "88.99B"
    naf_label = "Action sociale sans hébergement n.c.a."
    legal_category = "7361"
    administrative_state = "A"
    last_refreshed_at = factory.LazyFunction(utcnow)


class UserFactory(BaseFactory):
    class Meta:
        model = models.User

    email = factory.Sequence(lambda n: f"agent{n}@ccas.example.fr")
    sub = factory.Sequence(lambda n: f"sub-{n}")
    given_name = "Camille"
    family_name = factory.Sequence(lambda n: f"Martin{n}")
    current_organization = factory.SubFactory(OrganizationFactory)

    @factory.post_generation
    def membership(self, create, extracted, **kwargs):
        if self.current_organization is not None:
            self.memberships.append(
                models.Membership(organization=self.current_organization, verified=True)
            )

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ():
            self.role_grants.append(models.UserRole(role=role))


class AuthorizationRequestFactory(BaseFactory):
    class Meta:
        model = models.AuthorizationRequest

    definition_id = "api_particulier"
    form_uid = "api-particulier-aides-sociales-ccas"
    catalog_version = "test"
    applicant = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("applicant.current_organization")
    intitule = "Aides sociales du CCAS"
    data = factory.LazyAttribute(lambda o: {"intitule": o.intitule})
