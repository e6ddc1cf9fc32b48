"""Users (applicants, instructors, developers, admins) and their roles."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.extensions import db
from datapass.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from datapass.models.organization import Membership, Organization

# Role names; a role is stored as "<definition>:<role>", "editor:<editor id>" or "admin".
ROLE_NAMES = ("reporter", "instructor", "manager", "developer")
ADMIN_ROLE = "admin"
# A software editor's staff: "editor:arche_mc2" (ids of the catalogue's editors.yml). It
# opens that editor's space only and implies no role on any definition (not even reporter).
EDITOR_ROLE = "editor"
# What each role includes (manager ⊃ instructor ⊃ reporter; developer ⊃ reporter).
ROLE_IMPLIES = {
    "reporter": {"reporter"},
    "instructor": {"instructor", "reporter"},
    "manager": {"manager", "instructor", "reporter"},
    "developer": {"developer", "reporter"},
}


def editor_role(editor_id: str) -> str:
    """The stored role of an editor's staff: ``editor:<editor_id>``."""
    return f"{EDITOR_ROLE}:{editor_id}"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # OpenID Connect subject; null for a user prepared by an admin who never signed in.
    sub: Mapped[str | None] = mapped_column(String(255), unique=True)
    given_name: Mapped[str | None] = mapped_column(String(255))
    family_name: Mapped[str | None] = mapped_column(String(255))
    phone_number: Mapped[str | None] = mapped_column(String(40))
    job_title: Mapped[str | None] = mapped_column(String(255))
    current_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A banned user is refused at sign-in and loses every session.
    banned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ban_reason: Mapped[str | None] = mapped_column(String(255))

    current_organization: Mapped[Organization | None] = relationship(
        foreign_keys=[current_organization_id]
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="Membership.user_id"
    )
    role_grants: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # Not a column: the administrator acting as this user for the current request
    # (« Se connecter en tant que », services/impersonation.py), set by the session loader.
    impersonator = None
    # Not a column: the roles read with the session (services/sessions.py), served by
    # ``roles`` while ``role_grants`` is not loaded; forgotten once ``role_grants`` changes.
    _role_snapshot = None  # frozenset[str] | None

    def get_id(self) -> str:
        """flask-login's id, from the identity key: signing in right after a commit must not
        load the user again (on SQLite in a second write transaction)."""
        return str(inspect(self).identity[0])

    @property
    def full_name(self) -> str:
        parts = [self.given_name or "", self.family_name or ""]
        return " ".join(p for p in parts if p).strip() or self.email

    @property
    def is_banned(self) -> bool:
        return self.banned_at is not None

    @property
    def verified_organization_ids(self) -> set[int]:
        return {m.organization_id for m in self.memberships if m.verified}

    def membership_for(self, organization_id: int | None) -> Membership | None:
        for membership in self.memberships:
            if membership.organization_id == organization_id:
                return membership
        return None

    def keep_roles(self, roles) -> None:
        """The user's roles as read along with the user (``sessions.load_session``): served
        by ``roles`` while ``role_grants`` is not loaded, until it changes."""
        self._role_snapshot = frozenset(roles)

    @property
    def roles(self) -> set[str]:
        snapshot = self._role_snapshot
        if snapshot is not None and "role_grants" not in self.__dict__:
            return set(snapshot)
        return {grant.role for grant in self.role_grants}

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles

    @property
    def editor_ids(self) -> set[str]:
        """The editors whose staff the user is (``editor:<id>`` roles); admins aside."""
        return {
            name
            for granted in self.roles
            for prefix, _, name in [granted.partition(":")]
            if prefix == EDITOR_ROLE and name
        }

    def has_role(self, definition_id: str, role: str) -> bool:
        """True when the user holds ``role`` (or a role that includes it) on the definition."""
        if self.is_admin:
            return True
        for granted in self.roles:
            definition, _, name = granted.partition(":")
            if definition == EDITOR_ROLE:
                continue
            if definition == definition_id and role in ROLE_IMPLIES.get(name, set()):
                return True
        return False

    def definitions_with_role(self, role: str) -> set[str]:
        found = set()
        for granted in self.roles:
            definition, _, name = granted.partition(":")
            if definition != EDITOR_ROLE and name and role in ROLE_IMPLIES.get(name, set()):
                found.add(definition)
        return found

    def __repr__(self) -> str:
        return f"<User {self.id}>"


@event.listens_for(User.role_grants, "append")
@event.listens_for(User.role_grants, "remove")
@event.listens_for(User.role_grants, "bulk_replace")
def _forget_role_snapshot(user: User, *_args) -> None:
    """Roles change only through ``role_grants``: once changed, the collection wins, even
    after a commit expired it (it loads again). An unchanged user keeps the snapshot across
    a commit: nothing else writes roles."""
    user.__dict__.pop("_role_snapshot", None)


class UserRole(db.Model):
    """A role granted to a user: ``admin``, ``<definition>:<role>`` or ``editor:<editor>``."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(120), index=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="role_grants")
