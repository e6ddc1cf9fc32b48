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


class Organization(db.Model):
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

    @property
    def is_closed(self) -> bool:
        return self.administrative_state == "F"

    @property
    def display_name(self) -> str:
        return self.name or f"Organisation {self.siret}"

    def __repr__(self) -> str:
        return f"<Organization {self.siret}>"


class Membership(db.Model):
    """A user's link to an organisation; ``verified`` when the identity provider asserted it."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    verified: Mapped[bool] = mapped_column(default=False)
    verification_reason: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship(back_populates="memberships")
