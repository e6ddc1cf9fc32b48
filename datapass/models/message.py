"""Messages exchanged between the applicant and the instructors about a request."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.extensions import db
from datapass.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from datapass.models.authorization_request import AuthorizationRequest
    from datapass.models.user import User

# Who wrote a message: the applicant's side or the instructors' side.
APPLICANT_SIDE = "applicant"
INSTRUCTOR_SIDE = "instructor"
SENDER_SIDES = (APPLICANT_SIDE, INSTRUCTOR_SIDE)


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(
            "sender_side IN ({})".format(", ".join(f"'{s}'" for s in SENDER_SIDES)), name="side"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    authorization_request_id: Mapped[int] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sender_side: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    # Read by the other side.
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "Marquer comme traité" by instructors (applicant messages only).
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    request: Mapped[AuthorizationRequest] = relationship(back_populates="messages")
    author: Mapped[User] = relationship()
