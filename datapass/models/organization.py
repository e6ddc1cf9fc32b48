"""Organisations (identified by SIRET) and users' memberships."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.extensions import db
from datapass.models.base import JSONType, UTCDateTime, utcnow

if TYPE_CHECKING:
    from datapass.models.user import User

# How a membership came to be (``verification_reason`` of an unverified one), or why it is
# verified. An administrator's verification stores the reason they typed instead.
IDENTITY_PROVIDER = "identity_provider"  # verified: a trusted provider asserted the SIRET
UNTRUSTED_IDENTITY_PROVIDER = "untrusted_identity_provider"  # asserted by an untrusted one
DECLARED_BY_USER = "declared_by_user"  # typed on /compte/organisation
DECLARED_IN_REQUEST = "declared_in_request"  # typed at the wizard's organisation step
DECLARED_THROUGH_API = "api"  # a draft created through /api/v1 for this applicant
DEMO = "demo"  # demo data
VERIFIED_BY_INSTRUCTION = "vérifié par l’instruction"  # an approval with the instructor's check
REASON_LABELS = {
    IDENTITY_PROVIDER: "SIRET transmis par un fournisseur d’identité de confiance",
    UNTRUSTED_IDENTITY_PROVIDER: "SIRET transmis par un fournisseur d’identité non reconnu",
    DECLARED_BY_USER: "SIRET saisi par l’utilisateur dans son compte",
    DECLARED_IN_REQUEST: "SIRET saisi par l’utilisateur dans une demande",
    DECLARED_THROUGH_API: "demande créée par l’API pour cet utilisateur",
    DEMO: "données de démonstration",
}


def organization_display_name(name: str | None, siret: str) -> str:
    """An organisation's name, or « Organisation <SIRET> » while the registry has not named it."""
    return name or f"Organisation {siret}"


class OrganizationLabels:
    """How pages name an organisation and its state; for the model and for pages holding its
    columns only (services/request_page.py)."""

    __slots__ = ()
    name: str | None
    siret: str
    administrative_state: str | None

    @property
    def is_closed(self) -> bool:
        return self.administrative_state == "F"

    @property
    def display_name(self) -> str:
        return organization_display_name(self.name, self.siret)


class MembershipLabels:
    """How pages say why a membership is (not) verified; for the model and for pages holding
    its columns only (services/request_page.py)."""

    __slots__ = ()
    verification_reason: str | None

    @property
    def reason_label(self) -> str:
        """The reason in French: a label for the codes, an administrator's words as typed."""
        reason = self.verification_reason or ""
        return REASON_LABELS.get(reason, reason)


class Organization(OrganizationLabels, db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str | None] = mapped_column(String(255), index=True)
    address: Mapped[str | None] = mapped_column(String(512))
    commune: Mapped[str | None] = mapped_column(String(255))
    naf_code: Mapped[str | None] = mapped_column(String(10))
    naf_label: Mapped[str | None] = mapped_column(String(255))
    legal_category: Mapped[str | None] = mapped_column(String(10))
    # INSEE "etatAdministratifEtablissement": "A" (active) or "F" (closed); null when unknown.
    administrative_state: Mapped[str | None] = mapped_column(String(1))
    insee_payload: Mapped[dict | None] = mapped_column(JSONType)
    # Null until a registry lookup succeeded: the data are then « non vérifiées ».
    last_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="organization")

    def __repr__(self) -> str:
        return f"<Organization {self.siret}>"


class Membership(MembershipLabels, db.Model):
    """A user's link to an organisation.

    ``verified`` when a trusted identity provider asserted the SIRET, an administrator checked
    it (``/admin/rattachements``) or an instructor did when approving a request: ``verified_at``,
    ``verified_by`` (null for the identity provider) and ``verification_reason`` say so.
    An unverified member sees only their own requests."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    verified: Mapped[bool] = mapped_column(default=False)
    verification_reason: Mapped[str | None] = mapped_column(String(500))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    organization: Mapped[Organization] = relationship(back_populates="memberships")
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
