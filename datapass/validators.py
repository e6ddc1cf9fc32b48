"""Field validators shared by forms and services, with French messages."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from wtforms import validators as wtforms_validators

from datapass.errors import UserError

# Metropolitan numbers (0X…) and international forms for France and the overseas
# departments and territories (+33, +590, +594, +596, +262, +269, +508, +681, +687, +689).
_PHONE_PREFIXES = ("33", "590", "594", "596", "262", "269", "508", "681", "687", "689")
_SEPARATORS = re.compile(r"[\s.\-()\u00a0\u202f]")


class ValidationError(UserError, ValueError):
    """A value refused; the message is shown next to the field."""


def normalize_phone(raw: str) -> str:
    return _SEPARATORS.sub("", raw or "")


def validate_french_phone(raw: str) -> str:
    """A French phone number (metropolitan or overseas); returns it as typed, trimmed."""
    value = normalize_phone(raw)
    if re.fullmatch(r"0[1-9]\d{8}", value):
        return raw.strip()
    if value.startswith("00"):
        value = "+" + value[2:]
    if value.startswith("+"):
        digits = value[1:]
        for prefix in _PHONE_PREFIXES:
            rest = digits[len(prefix) :]
            if digits.startswith(prefix) and re.fullmatch(r"\d{6,9}", rest or ""):
                if prefix == "33" and not re.fullmatch(r"[1-9]\d{8}", rest):
                    break
                return raw.strip()
    raise ValidationError(
        "Saisissez un numéro de téléphone français valide, par exemple 01 23 45 67 89 "
        "ou +262 262 12 34 56."
    )


def normalize_email(raw: str) -> str:
    """A syntactically valid email address, lowercased (no network check here)."""
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError(
            "Saisissez une adresse électronique valide, par exemple nom@commune.fr."
        ) from error
    return result.normalized.lower()


def validate_url(raw: str) -> str:
    """An http(s) URL with a host that has a dot (``https://www.legifrance.gouv.fr/…``)."""
    value = (raw or "").strip()
    if value and "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or "." not in host or " " in value:
        raise ValidationError(
            "Saisissez une adresse web valide, par exemple https://www.legifrance.gouv.fr/…"
        )
    return value


def validate_iso_date(raw: str) -> str:
    """A date that exists, as ``AAAA-MM-JJ`` (what ``<input type="date">`` sends)."""
    value = (raw or "").strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        date.fromisoformat(value)
    except ValueError as error:
        raise ValidationError("Saisissez une date valide, par exemple 31/12/2026.") from error
    return value


# ---------------------------------------------------------------- WTForms checks, in French

NNBSP = "\u202f"  # the thousands separator: 10 000


def _number(value: int) -> str:
    return f"{value:,}".replace(",", NNBSP)


class Length(wtforms_validators.Length):
    """WTForms' length check with a French message: « 255 caractères au maximum. »"""

    def __init__(self, min: int = -1, max: int = -1, message: str | None = None):
        if message is None:
            if min > 0 and max > 0:
                message = f"Entre {_number(min)} et {_number(max)} caractères."
            elif max > 0:
                message = f"{_number(max)} caractères au maximum."
            else:
                message = f"{_number(min)} caractères au minimum."
        super().__init__(min=min, max=max, message=message)


SINGLE_LINE = "Ce champ tient sur une ligne\u00a0: retirez les retours à la ligne."
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x85\u2028\u2029]")


def single_line(form, field) -> None:
    """A one-line field (name, title, email…) holds no line break."""
    if isinstance(field.data, str) and _LINE_BREAKS.search(field.data):
        raise wtforms_validators.ValidationError(SINGLE_LINE)


def has_line_break(value: str) -> bool:
    return bool(_LINE_BREAKS.search(value))
