"""The administrators' audit log (``/admin/journal``): written once, never changed.

Every role change, ban and unban, impersonation start and stop (and every write made
meanwhile), membership verification, admin transfer, and change of an API client or a
webhook appends one ``AuditEntry``. There is no update or delete path: the mapper refuses
both (``AuditLogIsAppendOnly``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.extensions import db
from datapass.models.base import JSONType, UTCDateTime, utcnow
from datapass.models.user import User

ROLE_GRANTED = "role_granted"
ROLE_REVOKED = "role_revoked"
USER_BANNED = "user_banned"
USER_UNBANNED = "user_unbanned"
IMPERSONATION_STARTED = "impersonation_started"
IMPERSONATION_STOPPED = "impersonation_stopped"
IMPERSONATED_WRITE = "impersonated_write"
MEMBERSHIP_VERIFIED = "membership_verified"
REQUEST_TRANSFERRED = "request_transferred"
CLIENT_CHANGED = "client_changed"
WEBHOOK_CHANGED = "webhook_changed"

# The kinds, in the journal's filter order, with their French labels.
KINDS = {
    ROLE_GRANTED: "Rôle attribué",
    ROLE_REVOKED: "Rôle retiré",
    USER_BANNED: "Compte suspendu",
    USER_UNBANNED: "Compte réactivé",
    IMPERSONATION_STARTED: "Début d’une connexion « en tant que »",
    IMPERSONATION_STOPPED: "Fin d’une connexion « en tant que »",
    IMPERSONATED_WRITE: "Modification faite « en tant que »",
    MEMBERSHIP_VERIFIED: "Rattachement vérifié",
    REQUEST_TRANSFERRED: "Demande transférée à une autre organisation",
    CLIENT_CHANGED: "Client d’API créé ou modifié",
    WEBHOOK_CHANGED: "Webhook créé ou modifié",
}


class AuditLogIsAppendOnly(RuntimeError):
    """An audit entry was about to be changed or deleted: never."""


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    # Who acted (null: the command line or the system); during an impersonation, the
    # impersonated user, and ``impersonator`` the administrator behind them.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    impersonator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    authorization_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="SET NULL")
    )
    reason: Mapped[str | None] = mapped_column(Text)
    # What changed, for the reader: a role, a client's name, tables touched… never a secret.
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    impersonator: Mapped[User | None] = relationship(foreign_keys=[impersonator_id])
    target_user: Mapped[User | None] = relationship(foreign_keys=[target_user_id])

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, target) -> None:
    raise AuditLogIsAppendOnly("audit entries are never changed")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target) -> None:
    raise AuditLogIsAppendOnly("audit entries are never deleted")
