"""What a definition's staff sets for its instruction.

Managers keep the message templates and see who holds which role; reporters and
instructors choose which events email them. ``notification_recipients`` answers the
question the emails ask: who, on this definition, wants an email for this event?
"""

from __future__ import annotations

import logging

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import InstructorNotificationSetting, MessageTemplate, User, UserRole
from datapass.models.user import ROLE_IMPLIES, ROLE_NAMES

logger = logging.getLogger(__name__)

# Event kind → the setting's column.
NOTIFICATION_KINDS = {
    "submission": "notify_submissions",
    "message": "notify_messages",
    "deadline_digest": "notify_deadline_digest",
}


TITLE_TAKEN = "Un autre modèle de ce type d’habilitation porte déjà ce titre."


class TemplateTitleTaken(UserError):
    """Another template of the definition has this title (on the ``title`` field)."""

    def __init__(self, title: str):
        super().__init__(TITLE_TAKEN, field="title")
        self.title = title


# ---------------------------------------------------------------- roles


def definition_roles(definition_id: str, implying: str | None = None) -> list[str]:
    """The stored role strings of the definition (``api_particulier:reporter``…), those that
    include ``implying`` when given."""
    return [
        f"{definition_id}:{name}"
        for name in ROLE_NAMES
        if implying is None or implying in ROLE_IMPLIES[name]
    ]


def role_holders(definition_id: str) -> list[tuple[User, str]]:
    """``(user, role name)`` for every role granted on the definition, by email then role."""
    rows = db.session.execute(
        select(User, UserRole.role)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role.in_(definition_roles(definition_id)))
        .order_by(User.email)
    ).all()
    order = {name: index for index, name in enumerate(ROLE_NAMES)}
    holders = [(user, role.partition(":")[2]) for user, role in rows]
    return sorted(holders, key=lambda item: (item[0].email, order[item[1]]))


def staff_definitions(user: User) -> list[str]:
    """The definitions on which ``user`` holds a role that includes reporter (admin aside)."""
    return sorted(user.definitions_with_role("reporter"))


# ---------------------------------------------------------------- message templates


def template_title_taken(definition_id: str, title: str, exclude_id: int | None = None) -> bool:
    """Whether another template of the definition has this title (case and spaces ignored)."""
    query = select(MessageTemplate.id).where(
        MessageTemplate.definition_id == definition_id,
        func.lower(MessageTemplate.title) == title.strip().lower(),
    )
    if exclude_id is not None:
        query = query.where(MessageTemplate.id != exclude_id)
    return db.session.scalar(query.limit(1)) is not None


def _save_template(template: MessageTemplate) -> MessageTemplate:
    try:
        db.session.commit()
    except IntegrityError as error:
        # Two managers saving the same title at once: the unique constraint decides.
        db.session.rollback()
        raise TemplateTitleTaken(template.title) from error
    return template


def create_template(definition_id: str, title: str, kind: str, content: str) -> MessageTemplate:
    template = MessageTemplate(
        definition_id=definition_id, title=title.strip(), kind=kind, content=content
    )
    db.session.add(template)
    _save_template(template)
    logger.info("message template %s created for %s", template.id, definition_id)
    return template


def update_template(
    template: MessageTemplate, title: str, kind: str, content: str
) -> MessageTemplate:
    template.title = title.strip()
    template.kind = kind
    template.content = content
    _save_template(template)
    logger.info("message template %s updated", template.id)
    return template


def delete_template(template: MessageTemplate) -> None:
    db.session.delete(template)
    db.session.commit()
    logger.info("message template %s deleted", template.id)


# ---------------------------------------------------------------- notification settings


def notification_settings(user: User, definition_ids: list[str]) -> dict[str, tuple[bool, bool]]:
    """``{definition: (submissions, messages)}``; both on for a definition without a row."""
    rows = db.session.scalars(
        select(InstructorNotificationSetting).where(
            InstructorNotificationSetting.user_id == user.id,
            InstructorNotificationSetting.definition_id.in_(definition_ids),
        )
    )
    saved = {row.definition_id: (row.notify_submissions, row.notify_messages) for row in rows}
    return {definition: saved.get(definition, (True, True)) for definition in definition_ids}


def save_notification_settings(
    user: User, choices: dict[str, tuple[bool, bool]], digests: dict[str, bool] | None = None
) -> None:
    """Store ``{definition: (submissions, messages)}`` (and the weekly digests wanted) for
    ``user``. Commits."""
    rows = {
        row.definition_id: row
        for row in db.session.scalars(
            select(InstructorNotificationSetting).where(
                InstructorNotificationSetting.user_id == user.id,
                InstructorNotificationSetting.definition_id.in_(list(choices)),
            )
        )
    }
    for definition_id, (submissions, messages) in choices.items():
        row = rows.get(definition_id)
        if row is None:
            row = InstructorNotificationSetting(user_id=user.id, definition_id=definition_id)
            db.session.add(row)
        row.notify_submissions = bool(submissions)
        row.notify_messages = bool(messages)
    if digests:
        db.session.flush()
        save_digest_settings(user, digests)
    db.session.commit()
    logger.info("notification settings of user %s saved", user.id)


def digest_settings(user: User, definition_ids: list[str]) -> dict[str, bool]:
    """``{definition: weekly deadline digest wanted}``; on for a definition without a row."""
    rows = db.session.execute(
        select(
            InstructorNotificationSetting.definition_id,
            InstructorNotificationSetting.notify_deadline_digest,
        ).where(
            InstructorNotificationSetting.user_id == user.id,
            InstructorNotificationSetting.definition_id.in_(definition_ids),
        )
    )
    saved = dict(rows.all())
    return {definition: saved.get(definition, True) for definition in definition_ids}


def save_digest_settings(user: User, choices: dict[str, bool]) -> None:
    """Store ``{definition: digest wanted}`` (no commit: ``save_notification_settings``'s)."""
    for definition_id, wanted in choices.items():
        _setting_row(user, definition_id).notify_deadline_digest = bool(wanted)


def _setting_row(user: User, definition_id: str) -> InstructorNotificationSetting:
    """The user's settings row of the definition, added (defaults) when there is none."""
    row = db.session.scalar(
        select(InstructorNotificationSetting).where(
            InstructorNotificationSetting.user_id == user.id,
            InstructorNotificationSetting.definition_id == definition_id,
        )
    )
    if row is None:
        row = InstructorNotificationSetting(user_id=user.id, definition_id=definition_id)
        db.session.add(row)
    return row


def unsubscribe(user: User, definition_id: str, kind: str) -> None:
    """Stop the emails of ``kind`` (``"submission"`` or ``"message"``) on the definition for
    ``user`` (the one-click link of those emails). Commits."""
    setattr(_setting_row(user, definition_id), NOTIFICATION_KINDS[kind], False)
    db.session.commit()
    logger.info("user %s unsubscribed from %s emails of %s", user.id, kind, definition_id)


def notification_recipients(definition_id: str, kind: str) -> list[User]:
    """The reporters, instructors, managers and developers of the definition who want an
    email for ``kind`` (``"submission"`` or ``"message"``), by email.

    Only roles granted on the definition count: an admin without one is not emailed. Banned
    users are left out. One query for the users, one for their roles (selectin), whatever
    their number.
    """
    try:
        column = getattr(InstructorNotificationSetting, NOTIFICATION_KINDS[kind])
    except KeyError:
        known = ", ".join(NOTIFICATION_KINDS)
        raise ValueError(f"Unknown notification kind {kind!r} (known: {known}).") from None
    staff = select(UserRole.user_id).where(
        UserRole.role.in_(definition_roles(definition_id, implying="reporter"))
    )
    query = (
        select(User)
        .outerjoin(
            InstructorNotificationSetting,
            and_(
                InstructorNotificationSetting.user_id == User.id,
                InstructorNotificationSetting.definition_id == definition_id,
            ),
        )
        .where(
            User.id.in_(staff),
            User.banned_at.is_(None),
            or_(InstructorNotificationSetting.id.is_(None), column.is_(True)),
        )
        .order_by(User.email)
    )
    return list(db.session.scalars(query))
