"""``/sante``: is this app machine able to serve? For load balancers and monitoring.

No authentication, nothing personal: JSON saying whether the database and the document
storage answer; 200 when both do, 503 otherwise. The reason of a failure goes to the logs,
never to the answer.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from datapass.extensions import db
from datapass.storage import get_storage

logger = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


def _reachable(name: str, check) -> bool:
    try:
        check()
    except Exception:
        logger.warning("health check: the %s is not reachable", name, exc_info=True)
        return False
    return True


def _database() -> None:
    try:
        db.session.execute(text("SELECT 1"))
    finally:
        db.session.rollback()


@bp.get("/sante")
def health():
    checks = {
        "database": _reachable("database", _database),
        "storage": _reachable("storage", get_storage().check),
    }
    healthy = all(checks.values())
    response = jsonify(
        status="ok" if healthy else "erreur",
        **{name: "ok" if ok else "erreur" for name, ok in checks.items()},
    )
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
