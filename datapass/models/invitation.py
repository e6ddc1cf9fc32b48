"""A request prepared for an organisation, waiting for its future applicant to claim it.

An instructor prepares one (`/instruction/brouillons`) or an API client creates one
(``POST /api/v1/demandes``); « Inviter » emails a link to the future applicant. Signed in
with that email **and** acting for that SIRET, the applicant claims it: a normal draft is
created with the prepared answers and the invitation is consumed. Only the SHA-256 of the
link's secret is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.extensions import db
from datapass.models.base import JSONType, UTCDateTime, utcnow

if TYPE_CHECKING:
    from datapass.models.authorization_request import AuthorizationRequest
    from datapass.models.document import Document
    from datapass.models.user import User

PREPARED, SENT, CLAIMED, CANCELLED, EXPIRED = "prepared", "sent", "claimed", "cancelled", "expired"
STATE_LABELS = {
    PREPARED: "En préparation",
    SENT: "Invitation envoyée",
    CLAIMED: "Reprise par le demandeur",
    CANCELLED: "Annulée",
    EXPIRED: "Expirée",
}


class Invitation(db.Model):
    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(80), index=True)
    form_uid: Mapped[str] = mapped_column(String(120))
    siret: Mapped[str] = mapped_column(String(14), index=True)
    email: Mapped[str] = mapped_column(String(255), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    # Who prepared it: an instructor, or an API client (its client_id).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str | None] = mapped_column(String(80))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    authorization_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="SET NULL")
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User | None] = relationship()
    # Documents attached by the instruction (e.g. the délibération), until claimed.
    documents: Mapped[list[Document]] = relationship(
        back_populates="invitation", order_by="Document.id"
    )
    authorization_request: Mapped[AuthorizationRequest | None] = relationship()

    def state_at(self, now: datetime) -> str:
        if self.claimed_at is not None:
            return CLAIMED
        if self.cancelled_at is not None:
            return CANCELLED
        if self.sent_at is None:
            return PREPARED
        if self.expires_at is not None and self.expires_at <= now:
            return EXPIRED
        return SENT

    @property
    def state(self) -> str:
        return self.state_at(utcnow())

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def is_open(self) -> bool:
        """Still prepared or sent (or expired, to be sent again): editable."""
        return self.state in (PREPARED, SENT, EXPIRED)

    @property
    def public_reference(self) -> str:
        return f"I{self.id}"
