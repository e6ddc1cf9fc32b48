"""Uploaded documents (délibérations, maquettes), stored through the storage interface."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.extensions import db
from datapass.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from datapass.models.authorization_request import AuthorizationRequest
    from datapass.models.user import User


class Document(db.Model):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null once detached from the request (a habilitation may still hold it).
    authorization_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="SET NULL"), index=True
    )
    # The form field it answers, e.g. "cadre_juridique_document".
    field: Mapped[str] = mapped_column(String(80))
    filename: Mapped[str] = mapped_column(String(255))
    # Random name in the storage backend; never derived from the uploaded name.
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    content_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    scan_state: Mapped[str | None] = mapped_column(String(16))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    request: Mapped[AuthorizationRequest | None] = relationship(back_populates="documents")
    uploaded_by: Mapped[User | None] = relationship()
