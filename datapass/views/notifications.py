"""Unsubscribing from instructors' notifications, and the development mailbox."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select

from datapass.extensions import csrf, db
from datapass.mail import mailbox_dir
from datapass.models import InstructorNotificationSetting, User
from datapass.services import emails

bp = Blueprint("notifications", __name__)
KIND_COLUMNS = {"submission": "notify_submissions", "message": "notify_messages"}
KIND_LABELS = {"submission": "les nouvelles demandes", "message": "les messages des demandeurs"}


@bp.route("/notifications/desabonnement/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; mail clients post here (RFC 8058)
def unsubscribe(token: str):
    found = emails.read_unsubscribe_token(token)
    if found is None:
        abort(404)
    user_id, definition_id, kind = found
    user = db.session.get(User, user_id)
    if user is None or kind not in KIND_COLUMNS:
        abort(404)
    done = False
    if request.method == "POST":
        setting = db.session.scalar(
            select(InstructorNotificationSetting).where(
                InstructorNotificationSetting.user_id == user.id,
                InstructorNotificationSetting.definition_id == definition_id,
            )
        )
        if setting is None:
            setting = InstructorNotificationSetting(user_id=user.id, definition_id=definition_id)
            db.session.add(setting)
        setattr(setting, KIND_COLUMNS[kind], False)
        db.session.commit()
        done = True
    return render_template(
        "notifications/unsubscribe.html",
        done=done,
        email=user.email,
        what=KIND_LABELS[kind],
        definition_id=definition_id,
    )


# ---------------------------------------------------------------- development mailbox


def _dev_only() -> None:
    if current_app.config["DATAPASS_ENV"] == "production" or current_app.config.get("MAIL_SERVER"):
        abort(404)


def _messages() -> list[tuple[str, email.message.EmailMessage]]:
    folder = mailbox_dir()
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)[:200]
    return [(path.stem, _parse(path)) for path in files]


def _parse(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


@bp.get("/dev/courriels")
def mailbox():
    _dev_only()
    return render_template("notifications/mailbox.html", messages=_messages())


@bp.get("/dev/courriels/<name>")
def mailbox_message(name: str):
    _dev_only()
    path = mailbox_dir() / f"{name}.eml"
    if "/" in name or not path.is_file():
        abort(404)
    message = _parse(path)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return render_template(
        "notifications/mailbox_message.html",
        message=message,
        text=text.get_content() if text else "",
        html=html.get_content() if html else None,
    )


# ---------------------------------------------------------------- development webhook receiver


@bp.post("/dev/webhooks/recepteur")
@csrf.exempt  # a machine endpoint (DataPass's own worker posts here in development)
def webhook_receiver():
    """Stands in for an API provider in development: keeps the call, answers a token_id."""
    _dev_only_receiver()
    folder = Path(current_app.config["INSTANCE_DIR"]) / "webhooks"
    folder.mkdir(parents=True, exist_ok=True)
    delivery = (request.headers.get("X-DataPass-Delivery") or "sans-id").replace("/", "_")[:80]
    record = {
        "delivery": delivery,
        "signature": request.headers.get("X-Hub-Signature-256"),
        "body": request.get_data(as_text=True)[:100_000],
    }
    (folder / f"{delivery}.json").write_text(json.dumps(record, ensure_ascii=False))
    return {"token_id": f"dev-{delivery}"}


def _dev_only_receiver() -> None:
    if current_app.config["DATAPASS_ENV"] == "production":
        abort(404)
