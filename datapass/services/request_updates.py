"""The ``update`` event: an applicant's edits, announced to webhooks, debounced.

At most one ``update`` per request per ``DEBOUNCE`` (10 minutes) of editing: the first save
that changes something records it (its changed field names, never their values); the saves
that follow within 10 minutes of it record nothing. The webhook's body is the request as it
is then; a provider that needs the latest answers reads them from the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from datapass.extensions import db
from datapass.models import AuthorizationRequest, AuthorizationRequestEvent, User
from datapass.models.base import utcnow

UPDATE = "update"
DEBOUNCE = timedelta(minutes=10)


def snapshot(
    authorization_request: AuthorizationRequest, *, documents: bool = True
) -> tuple[dict[str, Any], set[int] | None]:
    """What a save may change: the answers and the documents' ids (None with
    ``documents=False``: a step without document fields changes none, so they are not
    loaded)."""
    ids = {d.id for d in authorization_request.documents} if documents else None
    return dict(authorization_request.data or {}), ids


def record_update(
    authorization_request: AuthorizationRequest,
    user: User,
    before: tuple[Mapping[str, Any], set[int] | None],
) -> AuthorizationRequestEvent | None:
    """Record ``update`` if the save changed something and no ``update`` was recorded within
    ``DEBOUNCE``; no commit. ``before`` is ``snapshot()``'s, documents compared when it has
    them."""
    old_data, old_documents = before
    data, documents = snapshot(authorization_request, documents=old_documents is not None)
    changed = sorted(k for k in set(data) | set(old_data) if data.get(k) != old_data.get(k))
    if documents != old_documents:
        changed.append("documents")
    if not changed:
        return None
    now = utcnow()
    recent = db.session.scalar(
        select(AuthorizationRequestEvent.id)
        .where(
            AuthorizationRequestEvent.authorization_request_id == authorization_request.id,
            AuthorizationRequestEvent.name == UPDATE,
            AuthorizationRequestEvent.created_at > now - DEBOUNCE,
        )
        .limit(1)
    )
    if recent is not None:
        return None
    return authorization_request.record_event(UPDATE, actor=user, at=now, payload={"keys": changed})
