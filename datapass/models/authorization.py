"""Habilitations: the frozen snapshot of a request made at each approval."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.extensions import db
from datapass.models.base import JSONType, UTCDateTime, utcnow

if TYPE_CHECKING:
    from datapass.models.authorization_request import AuthorizationRequest
    from datapass.models.document import Document
    from datapass.models.organization import Organization
    from datapass.models.token import ApiToken
    from datapass.models.user import User

# States of a habilitation: the current one is active; a newer approval makes it obsolete;
# an instructor revokes it.
AUTHORIZATION_ACTIVE = "active"
AUTHORIZATION_OBSOLETE = "obsolete"
AUTHORIZATION_REVOKED = "revoked"
AUTHORIZATION_STATES = (AUTHORIZATION_ACTIVE, AUTHORIZATION_OBSOLETE, AUTHORIZATION_REVOKED)
AUTHORIZATION_STATE_LABELS = {
    AUTHORIZATION_ACTIVE: "Active",
    AUTHORIZATION_OBSOLETE: "Obsolète",
    AUTHORIZATION_REVOKED: "Révoquée",
}
# The DSFR badge kind of each state (templates/_state_badges.html); None: the plain badge.
AUTHORIZATION_STATE_BADGES = {
    AUTHORIZATION_ACTIVE: "success",
    AUTHORIZATION_OBSOLETE: None,
    AUTHORIZATION_REVOKED: "error",
}

# Documents attached to a habilitation at approval (the same stored files as the request's).
authorization_documents = Table(
    "authorization_documents",
    db.metadata,
    Column(
        "authorization_id",
        ForeignKey("authorizations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("document_id", ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
)


class AuthorizationLabels:
    """How people name a habilitation and its state; for the model and for lists holding its
    columns only (services/organization_history.py)."""

    __slots__ = ()
    id: int
    state: str

    @property
    def public_reference(self) -> str:
        return f"H{self.id}"

    @property
    def state_label(self) -> str:
        return AUTHORIZATION_STATE_LABELS[self.state]

    @property
    def is_active(self) -> bool:
        return self.state == AUTHORIZATION_ACTIVE


class Authorization(AuthorizationLabels, db.Model):
    __tablename__ = "authorizations"
    __table_args__ = (
        CheckConstraint(
            "state IN ({})".format(", ".join(f"'{s}'" for s in AUTHORIZATION_STATES)),
            name="state",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    authorization_request_id: Mapped[int] = mapped_column(
        ForeignKey("authorization_requests.id"), index=True
    )
    definition_id: Mapped[str] = mapped_column(String(80), index=True)
    form_uid: Mapped[str] = mapped_column(String(120))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=AUTHORIZATION_ACTIVE)
    # Frozen copy of the request's data at approval.
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Optional message from the approving instructor, shown to the applicant.
    message: Mapped[str | None] = mapped_column(Text)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(Text)

    request: Mapped[AuthorizationRequest] = relationship(back_populates="authorizations")
    organization: Mapped[Organization] = relationship()
    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    documents: Mapped[list[Document]] = relationship(secondary=authorization_documents)
    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="authorization", order_by="ApiToken.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Authorization H{self.id} {self.state}>"
