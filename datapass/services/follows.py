"""Requests an instructor follows (« Marquer comme suivie » / « Ne plus suivre »).

A follower receives the staff notifications of the request (submissions, the applicant's
messages: ``emails._notify_staff``) even when their settings on its definition turn those
emails off, as long as they still read that definition (reporter or more) and are not banned.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from datapass.extensions import db
from datapass.models import AuthorizationRequest, RequestFollow, User, UserRole
from datapass.services.instructor_settings import definition_roles

logger = logging.getLogger(__name__)


def _mine(user: User, authorization_request: AuthorizationRequest) -> tuple:
    return (
        RequestFollow.user_id == user.id,
        RequestFollow.authorization_request_id == authorization_request.id,
    )


def is_following(user: User, authorization_request: AuthorizationRequest) -> bool:
    found = db.session.scalar(select(RequestFollow.id).where(*_mine(user, authorization_request)))
    return found is not None


def set_following(user: User, authorization_request: AuthorizationRequest, following: bool) -> None:
    """Follow the request, or stop following it; what is already so stays. Commits."""
    if not following:
        db.session.execute(delete(RequestFollow).where(*_mine(user, authorization_request)))
    elif not is_following(user, authorization_request):
        db.session.add(
            RequestFollow(user_id=user.id, authorization_request_id=authorization_request.id)
        )
    try:
        db.session.commit()
    except IntegrityError:  # followed meanwhile, from another tab
        db.session.rollback()
        return
    logger.info("user %s following request %s: %s", user.id, authorization_request.id, following)


def followers(authorization_request: AuthorizationRequest) -> list[User]:
    """The users following the request who still read its definition, not banned; one query."""
    staff = select(UserRole.user_id).where(
        UserRole.role.in_(definition_roles(authorization_request.definition_id, "reporter"))
    )
    return list(
        db.session.scalars(
            select(User)
            .join(RequestFollow, RequestFollow.user_id == User.id)
            .where(
                RequestFollow.authorization_request_id == authorization_request.id,
                User.id.in_(staff),
                User.banned_at.is_(None),
            )
            .order_by(User.email)
        )
    )
