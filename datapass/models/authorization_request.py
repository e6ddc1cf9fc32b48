"""Demandes d'habilitation and their timeline."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass import workflow
from datapass.extensions import db
from datapass.models.base import JSONType, UTCDateTime, utcnow

if TYPE_CHECKING:
    from datapass.models.authorization import Authorization
    from datapass.models.document import Document
    from datapass.models.message import Message
    from datapass.models.organization import Organization
    from datapass.models.user import User


def _new_public_id() -> str:
    return str(uuid.uuid4())


def _state_check() -> str:
    values = ", ".join(f"'{state}'" for state in workflow.STATES)
    return f"state IN ({values})"


class RequestLabels:
    """How people name a request and its state; for the model and for the queue's lines
    (services/queue.py), which hold these columns only."""

    __slots__ = ()
    id: int
    state: str
    last_validated_at: datetime | None
    reopened_at: datetime | None

    @property
    def public_reference(self) -> str:
        return f"D{self.id}"

    @property
    def state_label(self) -> str:
        return workflow.STATE_LABELS[self.state]

    @property
    def is_reopening(self) -> bool:
        """A validated request being updated (« Mise à jour »)."""
        return (
            self.last_validated_at is not None
            and self.reopened_at is not None
            and self.state not in (workflow.VALIDATED, workflow.REVOKED)
        )


class HeldLabels:
    """What the workflow's rules read of a request's habilitations (oldest first); for the
    model and for the request page (services/request_page.py), which holds their columns."""

    __slots__ = ()
    authorizations: Sequence[Any]

    @property
    def has_active_authorization(self) -> bool:
        return any(a.is_active for a in self.authorizations)

    @property
    def latest_authorization_is_active(self) -> bool:
        return bool(self.authorizations) and self.authorizations[-1].is_active


class AuthorizationRequest(RequestLabels, HeldLabels, db.Model):
    __tablename__ = "authorization_requests"
    __table_args__ = (
        CheckConstraint(_state_check(), name="state"),
        # The instruction queue walks one of these indexes in its sort's order and stops
        # after a page; the columns it filters on follow the sort's, so that the walk reads
        # the index alone, never a visited request's row (with its answers). By last
        # submission, within a state filter or not:
        Index(
            "ix_authorization_requests_state_submitted",
            *("state", "last_submitted_at", "id", "definition_id"),
        ),
        Index(
            "ix_authorization_requests_last_submitted",
            *("last_submitted_at", "id", "state", "definition_id"),
        ),
        # « Échéance la plus proche »: by decision deadline, within a state filter or not.
        Index(
            "ix_authorization_requests_state_deadline",
            *("state", "decision_deadline", "id", "definition_id", "last_submitted_at"),
        ),
        Index(
            "ix_authorization_requests_deadline",
            *("decision_deadline", "id", "state", "definition_id", "last_submitted_at"),
        ),
        # « État »: by state, then number.
        Index(
            "ix_authorization_requests_state_id",
            *("state", "id", "last_submitted_at", "definition_id"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public page identifier (uuid), never the numeric id.
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=_new_public_id)
    definition_id: Mapped[str] = mapped_column(String(80), index=True)
    form_uid: Mapped[str] = mapped_column(String(120), index=True)
    catalog_version: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32), default=workflow.DRAFT)
    # Block answers: {"intitule": ..., "scopes": [...], "contact_technique_email": ...}.
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Typed copies of what lists filter and sort on.
    intitule: Mapped[str | None] = mapped_column(String(255))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    terms_of_service_accepted: Mapped[bool] = mapped_column(default=False)
    data_protection_officer_informed: Mapped[bool] = mapped_column(default=False)
    # The API provider's token id returned by the approve webhook.
    external_provider_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    last_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The CRPA deadline: two months after the last complete submission (workflow.apply).
    decision_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The RGPD purge anonymised it (services/purge.py): only the statistics' skeleton is left.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic locking: SQLAlchemy checks and bumps it on every UPDATE.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    organization: Mapped[Organization] = relationship()
    applicant: Mapped[User] = relationship()
    events: Mapped[list[AuthorizationRequestEvent]] = relationship(
        back_populates="request",
        cascade="all, delete-orphan",
        order_by="AuthorizationRequestEvent.id",
    )
    authorizations: Mapped[list[Authorization]] = relationship(
        back_populates="request", order_by="Authorization.id"
    )
    documents: Mapped[list[Document]] = relationship(
        back_populates="request", order_by="Document.id"
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="request", order_by="Message.id", cascade="all, delete-orphan"
    )
    contacts: Mapped[list[RequestContact]] = relationship(
        back_populates="request", cascade="all, delete-orphan"
    )

    @property
    def is_editable(self) -> bool:
        return self.state in workflow.EDITABLE_STATES

    def record_event(
        self,
        name: str,
        *,
        actor: User | None,
        reason: str | None = None,
        at: datetime | None = None,
        payload: dict | None = None,
    ) -> AuthorizationRequestEvent:
        """Append a timeline event (no commit). Made by an administrator acting as
        ``actor`` (« Se connecter en tant que »), it names both."""
        payload = dict(payload or {})
        impersonator = getattr(actor, "impersonator", None)
        if impersonator is not None:
            payload["impersonated_by"] = impersonator.email
        event = AuthorizationRequestEvent(
            name=name,
            user=actor,
            reason=reason,
            payload=payload,
            created_at=at or utcnow(),
        )
        self.events.append(event)
        return event

    def __repr__(self) -> str:
        return f"<AuthorizationRequest D{self.id} {self.state}>"


class AuthorizationRequestEvent(db.Model):
    """One entry of a request's timeline; immutable once written."""

    __tablename__ = "authorization_request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    authorization_request_id: Mapped[int] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    # Event details: states, changelog {field: [before, after]}, transfer from/to, ids.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    authorization_id: Mapped[int | None] = mapped_column(ForeignKey("authorizations.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    request: Mapped[AuthorizationRequest] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()

    @property
    def label(self) -> str:
        return workflow.EVENT_LABELS.get(self.name, self.name)


class RequestContact(db.Model):
    """The contacts' emails of a request, indexed: a contact may read the request."""

    __tablename__ = "authorization_request_contacts"
    __table_args__ = (UniqueConstraint("authorization_request_id", "contact_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authorization_request_id: Mapped[int] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="CASCADE"), index=True
    )
    contact_type: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(255), index=True)

    request: Mapped[AuthorizationRequest] = relationship(back_populates="contacts")
