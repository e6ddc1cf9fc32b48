"""Messages between the applicant and the instructors of a request, both ways.

A message is recorded with a timeline event (``applicant_message`` or
``instructor_message``) that notifies the other side by email.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update

from datapass.database import write_transaction
from datapass.extensions import db
from datapass.models import AuthorizationRequest, Message, User
from datapass.models.base import utcnow
from datapass.models.message import APPLICANT_SIDE, INSTRUCTOR_SIDE, SENDER_SIDES

# The timeline event of a message, by the side that wrote it.
EVENTS = {APPLICANT_SIDE: "applicant_message", INSTRUCTOR_SIDE: "instructor_message"}


def post_message(
    authorization_request: AuthorizationRequest, author: User, body: str, *, side: str
) -> Message:
    """``author`` writes to the other side; ``side`` is ``APPLICANT_SIDE`` or
    ``INSTRUCTOR_SIDE`` (``models/message.py``). Commits."""
    if side not in SENDER_SIDES:
        raise ValueError(f"Unknown message side {side!r} (known: {', '.join(SENDER_SIDES)}).")
    message = Message(author=author, sender_side=side, body=body.strip())
    authorization_request.messages.append(message)
    db.session.flush()
    event = authorization_request.record_event(EVENTS[side], actor=author)
    event.message_id = message.id
    db.session.commit()
    return message


def mark_read(authorization_request: AuthorizationRequest, side: str) -> int:
    """Mark the messages written by ``side`` as read by the other side; commit if any."""
    return mark_messages_read(authorization_request.messages, side)


def mark_messages_read(messages: Iterable, side: str) -> int:
    """``mark_read`` for messages already read (anything with ``id``, ``sender_side`` and
    ``read_at``: the request page's rows). No transaction opens when all are read."""
    unread = [
        message.id
        for message in messages
        if message.sender_side == side and message.read_at is None
    ]
    if unread:
        # Shown by GET pages: the read ends, then one short write (docs: datapass/database.py).
        with write_transaction():
            db.session.execute(
                update(Message)
                .where(Message.id.in_(unread), Message.read_at.is_(None))
                .values(read_at=utcnow())
            )
    return len(unread)


def mark_processed(message: Message) -> None:
    """An instructor marks an applicant's message as processed (and so read). Commits."""
    message.processed_at = utcnow()
    if message.read_at is None:
        message.read_at = message.processed_at
    db.session.commit()
