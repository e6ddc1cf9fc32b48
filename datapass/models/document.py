"""Uploaded documents (délibérations, maquettes), stored through the storage interface."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.extensions import db
from datapass.models.base import JSONType, UTCDateTime, utcnow

# The malware scan (``services/scanning.py``). None: not scanned (``MALWARE_SCANNER=none``, or
# uploaded before scanning existed): downloadable, no badge.
SCAN_PENDING = "pending"
SCAN_CLEAN = "clean"
SCAN_INFECTED = "infected"
SCAN_LABELS = {
    SCAN_PENDING: "Analyse en cours",
    SCAN_CLEAN: "Aucun virus détecté",
    SCAN_INFECTED: "Fichier dangereux\u00a0: téléchargement bloqué",
}
SCAN_BADGES = {SCAN_PENDING: "info", SCAN_CLEAN: "success", SCAN_INFECTED: "error"}

# A délibération's text (``services/deliberation_analysis.py``). None: not analysed (another
# field, or uploaded before the analysis existed).
TEXT_PENDING = "pending"
TEXT_EXTRACTED = "extracted"
TEXT_NONE = "no_text"  # a scanned PDF (images only), or one pypdf could not read

if TYPE_CHECKING:
    from datapass.models.authorization_request import AuthorizationRequest
    from datapass.models.invitation import Invitation
    from datapass.models.user import User


class Document(db.Model):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null once detached from the request (a habilitation may still hold it).
    authorization_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="SET NULL"), index=True
    )
    # Attached to a request prepared by the instruction, until its applicant claims it (the
    # document then moves to the draft: services/invitation_answers.py).
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"), index=True
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
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The scanner's name for what it found (e.g. « Eicar-Test-Signature »), for administrators.
    scan_threat: Mapped[str | None] = mapped_column(String(120))
    text_state: Mapped[str | None] = mapped_column(String(16))
    # ``[{"page": 1, "operative": false, "text": "…"}, …]``: the normalised text of each page,
    # split between the exposé (« Vu », « Considérant ») and the operative part.
    text_sections: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    request: Mapped[AuthorizationRequest | None] = relationship(back_populates="documents")
    invitation: Mapped[Invitation | None] = relationship(back_populates="documents")
    uploaded_by: Mapped[User | None] = relationship()

    @property
    def downloadable(self) -> bool:
        """Neither waiting for its scan nor found dangerous."""
        return self.scan_state not in (SCAN_PENDING, SCAN_INFECTED)

    @property
    def scan_label(self) -> str | None:
        return SCAN_LABELS.get(self.scan_state or "")

    @property
    def scan_badge(self) -> str | None:
        return SCAN_BADGES.get(self.scan_state or "")
