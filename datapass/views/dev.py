"""Development helpers, registered outside production only (``create_app``).

- ``/dev/courriels``: the development mailbox, the emails written to ``instance/mailbox``
  when no SMTP server is set (hidden when ``MAIL_SERVER`` is set); administrators only, even
  in development (emails hold personal data and sign-in links);
- ``/dev/webhooks/recepteur``: a webhook receiver standing in for an API provider. The outbox
  worker posts to it, without a session: it accepts only a body signed with the secret of a
  known webhook (``X-Hub-Signature-256``), else 403.
"""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_login import login_required

from datapass.extensions import csrf
from datapass.mail import mailbox_dir
from datapass.permissions import admin_required
from datapass.services import webhooks

bp = Blueprint("dev", __name__, url_prefix="/dev")


# ---------------------------------------------------------------- development mailbox


def _mailbox_or_404() -> None:
    """The mailbox holds emails only when none goes out by SMTP."""
    if current_app.config.get("MAIL_SERVER"):
        abort(404)


def _messages() -> list[tuple[str, email.message.EmailMessage]]:
    folder = mailbox_dir()
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)[:200]
    return [(path.stem, _parse(path)) for path in files]


def _parse(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


@bp.get("/courriels")
@login_required
@admin_required
def mailbox():
    _mailbox_or_404()
    return render_template("dev/mailbox.html", messages=_messages())


@bp.get("/courriels/<name>")
@login_required
@admin_required
def mailbox_message(name: str):
    _mailbox_or_404()
    path = mailbox_dir() / f"{name}.eml"
    if "/" in name or not path.is_file():
        abort(404)
    message = _parse(path)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return render_template(
        "dev/mailbox_message.html",
        message=message,
        text=text.get_content() if text else "",
        html=html.get_content() if html else None,
    )


# ---------------------------------------------------------------- development webhook receiver


@bp.post("/webhooks/recepteur")
@csrf.exempt  # a machine endpoint (DataPass's own worker posts here in development)
def webhook_receiver():
    """Stands in for an API provider in development: keeps a signed call, answers a token_id."""
    body = request.get_data()
    if webhooks.sender_of(body, request.headers.get("X-Hub-Signature-256")) is None:
        response = jsonify(error="Signature absente ou inconnue.")
        response.status_code = 403
        return response
    folder = Path(current_app.config["INSTANCE_DIR"]) / "webhooks"
    folder.mkdir(parents=True, exist_ok=True)
    delivery = (request.headers.get("X-DataPass-Delivery") or "sans-id").replace("/", "_")[:80]
    record = {
        "delivery": delivery,
        "signature": request.headers.get("X-Hub-Signature-256"),
        "body": body.decode("utf-8", errors="replace")[:100_000],
    }
    (folder / f"{delivery}.json").write_text(json.dumps(record, ensure_ascii=False))
    return {"token_id": f"dev-{delivery}"}
