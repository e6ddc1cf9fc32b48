"""Users (applicants, instructors, developers, admins) and their roles."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, event, inspect, select
from sqlalchemy.orm import Mapped, lazyload, mapped_column, relationship

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


class UserFacts:
    """What the pages read of a user, computed from its columns and its ``roles``: shared
    by the ORM ``User`` and the request's ``SessionUser`` (services/sessions.py)."""

    __slots__ = ()

    @property
    def full_name(self) -> str:
        parts = [self.given_name or "", self.family_name or ""]
        return " ".join(p for p in parts if p).strip() or self.email

    @property
    def is_banned(self) -> bool:
        return self.banned_at is not None

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

    @property
    def verified_organization_ids(self) -> set[int]:
        return {m.organization_id for m in self.memberships if m.verified}

    def membership_for(self, organization_id: int | None) -> Membership | None:
        for membership in self.memberships:
            if membership.organization_id == organization_id:
                return membership
        return None


class User(UserFacts, UserMixin, db.Model):
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
    def entity(self) -> User:
        """The ORM row itself (``SessionUser.entity`` loads it): what a write is given."""
        return self

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


class SessionUser(UserFacts):
    """The signed-in user of a page that only reads, as read with its session in one Core
    statement (``services/sessions.py``): its columns that pages read, its roles, and what
    flask-login asks. Read-only (slots: setting any other attribute raises).

    The ORM ``User`` is ``entity``, loaded on first use (one lookup by primary key, then the
    session's identity map) for what is not here: a relationship (``memberships``,
    ``current_organization``…), another column, a write. Any other public attribute is read
    on the entity; SQLAlchemy's own (``_sa_instance_state``…) are not, so that passing this
    object where the ORM expects a ``User`` (a relationship, a comparison in a query) raises
    instead of working on a copy: give it ``user.entity`` (``User.entity`` is the user)."""

    # The user's columns read with the session, in this order (``sessions.load_session``).
    COLUMNS = (
        "id",
        "email",
        "given_name",
        "family_name",
        "phone_number",
        "job_title",
        "current_organization_id",
        "banned_at",
    )
    __slots__ = (*COLUMNS, "_entity", "_memberships", "_roles", "impersonator")

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, columns, roles) -> None:
        for name, value in zip(self.COLUMNS, columns, strict=True):
            object.__setattr__(self, name, value)
        self.impersonator = None
        self._roles = frozenset(roles)
        self._entity = None
        self._memberships = None

    def get_id(self) -> str:
        return str(self.id)

    @property
    def roles(self) -> set[str]:
        """As read with the session; the entity's once loaded (it sees a write of roles)."""
        if self._entity is not None:
            return self._entity.roles
        return set(self._roles)

    @property
    def current_organization(self) -> Organization | None:
        """The organisation the user acts for: one lookup by primary key, as the lazy load
        of ``User.current_organization`` (the entity's once loaded)."""
        if self._entity is not None:
            return self._entity.current_organization
        if self.current_organization_id is None:
            return None
        from datapass.models.organization import Organization

        return db.session.get(Organization, self.current_organization_id)

    @property
    def memberships(self) -> tuple[Membership, ...]:
        """The user's memberships, read once as the lazy load of ``User.memberships`` would
        (the entity's collection once loaded). A tuple: changes go through ``entity``."""
        if self._entity is not None:
            return self._entity.memberships
        if self._memberships is None:
            from datapass.models.organization import Membership

            self._memberships = tuple(
                db.session.scalars(select(Membership).where(Membership.user_id == self.id))
            )
        return self._memberships

    @property
    def entity(self) -> User:
        """The ORM row of the user, loaded once (its roles kept as read, no query of them)."""
        entity = self._entity
        if entity is None:
            entity = db.session.get(User, self.id, options=[lazyload(User.role_grants)])
            if entity is None:
                raise LookupError(f"user {self.id} no longer exists")
            if entity._role_snapshot is None and "role_grants" not in entity.__dict__:
                entity.keep_roles(self._roles)
            entity.impersonator = self.impersonator
            self._entity = entity
        return entity

    def __setattr__(self, name: str, value) -> None:
        if name in self.COLUMNS:
            raise AttributeError(f"{name} is read-only here: write it on the user's entity")
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.entity, name)

    def __eq__(self, other) -> bool:
        if isinstance(other, SessionUser | UserMixin):
            return self.get_id() == other.get_id()
        return NotImplemented

    def __hash__(self) -> int:
        return hash((SessionUser, self.id))

    def __repr__(self) -> str:
        return f"<SessionUser {self.id}>"


class UserRole(db.Model):
    """A role granted to a user: ``admin``, ``<definition>:<role>`` or ``editor:<editor>``."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(120), index=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="role_grants")
