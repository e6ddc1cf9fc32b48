"""Email transport: SMTP (``MAIL_*``), or in development a mailbox folder in ``instance/``."""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app

_LINE_BREAKS = re.compile(r"[ \t]*[\r\n\v\f\x85\u2028\u2029]+[ \t]*")


def _one_line(value: str) -> str:
    return _LINE_BREAKS.sub(" ", str(value)).strip()


def build_message(
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str | None,
    key: str,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = ", ".join(to)
    # A header is one line: a line break typed in an intitulé must not kill the email.
    message["Subject"] = _one_line(subject)
    message["Date"] = formatdate(localtime=False)
    # The outbox's idempotency key: a resent delivery carries the same Message-ID.
    domain = config["MAIL_DEFAULT_SENDER"].rsplit("@", 1)[-1].strip(" >") or "datapass.local"
    message["Message-ID"] = make_msgid(idstring=key, domain=domain)
    message["X-DataPass-Delivery"] = key
    for name, value in (headers or {}).items():
        message[name] = _one_line(value)
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def mailbox_dir() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "mailbox"


def send(message: EmailMessage) -> None:
    """Send now; raise on failure (the outbox retries)."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        if config.get("DATAPASS_ENV") == "production":
            raise RuntimeError("MAIL_SERVER is not configured")
        folder = mailbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        name = message["X-DataPass-Delivery"].replace("/", "_")
        (folder / f"{name}.eml").write_bytes(bytes(message))
        return
    with smtplib.SMTP(
        config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT_SECONDS"]
    ) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
