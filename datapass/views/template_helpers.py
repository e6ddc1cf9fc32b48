"""Jinja globals and filters shared by every template.

Globals: ``has_endpoint``, ``app_environment``, ``page_url``; for the DSFR form macros
(templates/dsfr/forms.html): ``form_error_list``, ``field_focus_id``, ``field_attrs``; for
the state badges: ``request_state_badges``, ``authorization_state_badges`` (state → DSFR
badge kind). The paths and badges computed once are in ``views/layout.py``.
Filters: ``date_fr``, ``datetime_fr``, ``month_fr``, ``filesize_fr``, ``days_fr``,
``deadline_fr`` (the CRPA deadline badge).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request
from flask.templating import Environment

from datapass import workflow
from datapass.models.authorization import AUTHORIZATION_STATE_BADGES
from datapass.services import accessibility
from datapass.views import layout

PARIS = ZoneInfo("Europe/Paris")
NBSP = "\u00a0"

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

# Fields rendered as a group of inputs (radios, checkboxes): their first input is
# where an error link sends the focus, WTForms numbering them ``<id>-0``, ``<id>-1``…
GROUP_FIELD_TYPES = {"RadioField", "SelectMultipleField", "MultiCheckboxField"}


class TemplateEnvironment(Environment):
    """Flask's Jinja environment, whose templates read the application's globals as they are.

    Jinja 3 gives each template a ``ChainMap`` of its own globals over the environment's and
    copies it into every render's context key by key (``dict(ChainMap)``: some 40 µs per page
    with our 50 globals, a Python call per key). Our templates have no globals of their own:
    theirs is then the environment's dictionary itself, copied by C (Jinja 2's behaviour).
    A template made with globals of its own (``from_string(source, globals=…)``) keeps the
    ``ChainMap``; a file template takes none (Jinja would add them to its cached globals: here
    the environment's).

    Its templates are kept in a plain dictionary (``cache_size=-1``), never dropped: Jinja's
    default LRU cache of 400 scans a queue of every template it holds at each lookup (each
    page looks up its template, ``base.html`` and each ``{% from … import %}``: some 5 µs a
    lookup once a worker has served the site's hundred templates, 0.4 µs in a dictionary). The
    file templates are a fixed set; templates from strings are not cached. Production never
    reloads them (``auto_reload`` is Flask's debug mode, off outside ``flask run --debug``).
    """

    def __init__(self, app, **options) -> None:
        options.setdefault("cache_size", -1)
        super().__init__(app, **options)

    def make_globals(self, d):
        if not d:
            return self.globals
        return super().make_globals(d)

    def _load_template(self, name, globals):
        if globals:
            raise TypeError("file templates take no globals of their own (TemplateEnvironment)")
        return super()._load_template(name, globals)


def has_endpoint(name: str) -> bool:
    """Whether the application serves ``name`` (templates link to pages that may not exist yet)."""
    return name in current_app.view_functions


def paris(value: datetime) -> datetime:
    # Naive datetimes are UTC in this application (see datapass.models.base.UTCDateTime).
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS)


# The Paris date of a UTC moment depends on its UTC date and hour only: Paris has been a
# whole number of hours from UTC since 1911. Kept by (day, hour), a few thousand at most.
_PARIS_DATES: dict[tuple[int, int], date] = {}
_MAX_PARIS_DATES = 4096
_WHOLE_HOURS_SINCE = datetime(1912, 1, 1, tzinfo=UTC)


def paris_date(value: datetime) -> date:
    """``paris(value).date()``, looked up once per UTC day and hour for aware UTC moments."""
    if value.tzinfo is not UTC or value < _WHOLE_HOURS_SINCE:
        return paris(value).date()
    key = (value.toordinal(), value.hour)
    local = _PARIS_DATES.get(key)
    if local is None:
        if len(_PARIS_DATES) >= _MAX_PARIS_DATES:
            _PARIS_DATES.clear()
        local = _PARIS_DATES[key] = paris(value).date()
    return local


def _replace_text(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


try:  # MarkupSafe's own escaping in C, as a plain str: a fifth of the five replace calls
    from markupsafe._speedups import _escape_inner as _escape_text
except ImportError:  # pragma: no cover (MarkupSafe without its C speedups)
    _escape_text = _replace_text


def html_text(value: str) -> str:
    """``markupsafe.escape(value)`` as a plain ``str``, for markup built by f-strings in one
    pass (views/queue_lines.py): the same five characters and entities, no ``Markup`` object
    built per value."""
    return _escape_text(str(value))


def date_fr(value: date | datetime | None) -> str:
    """« 22 novembre 2026 », « 1er mars 2027 »; datetimes are shown in Paris time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = paris_date(value)
    text = _DATE_TEXTS.get(value)
    if text is None:
        if len(_DATE_TEXTS) >= _MAX_PARIS_DATES:
            _DATE_TEXTS.clear()
        day = "1er" if value.day == 1 else str(value.day)
        text = _DATE_TEXTS[value] = f"{day} {MONTHS[value.month - 1]} {value.year}"
    return text


_DATE_TEXTS: dict[date, str] = {}


def month_fr(value: date | None) -> str:
    """« novembre 2026 »."""
    if value is None:
        return ""
    return f"{MONTHS[value.month - 1]} {value.year}"


def days_fr(value: float | None) -> str:
    """« 0,5 jour », « 3 jours », « 12,5 jours » (one decimal, French comma)."""
    if value is None:
        return ""
    text = f"{value:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text}{NBSP}jour{'s' if value >= 2 else ''}"


def datetime_fr(value: datetime | None) -> str:
    """« 22 novembre 2026 à 14 h 05 » in Paris time (non-breaking spaces around « h »)."""
    if value is None:
        return ""
    local = paris(value)
    return f"{date_fr(local.date())} à {local.hour}{NBSP}h{NBSP}{local.minute:02d}"


def deadline_days(deadline: datetime, now: datetime | None = None) -> int:
    """Days left until the CRPA deadline (Paris dates); negative once it has passed."""
    return (paris(deadline).date() - paris(now or datetime.now(UTC)).date()).days


def deadline_fr(deadline: datetime | None, now: datetime | None = None) -> str:
    """The CRPA deadline as a badge: « J-12 », « J-0 », « Délai dépassé de 3 jours »."""
    if deadline is None:
        return ""
    return deadline_label(deadline_days(deadline, now))


def deadline_label(days: int) -> str:
    """« J-12 », « J-0 », « Délai dépassé de 3 jours » for ``days`` left (negative: past)."""
    if days >= 0:
        return f"J-{days}"
    return f"Délai dépassé de {-days} jour{'s' if days < -1 else ''}"


def filesize_fr(size: int | None) -> str:
    """« 512 octets », « 1,2 Mo », « 10 Mo » (binary multiples, French decimal comma)."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size}{NBSP}octet{'s' if size > 1 else ''}"
    value = float(size)
    for unit in ("Ko", "Mo", "Go", "To"):
        value /= 1024
        if value < 1024 or unit == "To":
            break
    text = f"{value:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text}{NBSP}{unit}"


def field_focus_id(field) -> str:
    """The id of the element an error link should reach for ``field``."""
    if field.type in GROUP_FIELD_TYPES:
        return f"{field.id}-0"
    return field.id


def field_attrs(field, css_class: str | None = None, extra: dict | None = None) -> dict:
    """HTML attributes of a field's control: DSFR class, messages link, error state.

    ``extra`` holds the caller's attributes (``autocomplete``, ``inputmode``…); a caller's
    ``class``/``class_`` is added to the DSFR class, its ``aria-describedby`` kept first.
    """
    attrs = {}
    for key, value in (extra or {}).items():
        attrs[key.replace("_", "-") if key.startswith(("aria_", "data_")) else key] = value
    classes = [css_class] if css_class else []
    for key in ("class_", "class"):
        if attrs.get(key):
            classes.append(attrs.pop(key))
        attrs.pop(key, None)
    if classes:
        attrs["class"] = " ".join(classes)
    described = [attrs.pop("aria-describedby", None), f"{field.id}-messages"]
    attrs["aria-describedby"] = " ".join(item for item in described if item)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return attrs


def page_url(page: int, param: str = "page") -> str:
    """The current page's URL with ``param`` set to ``page``, other query arguments kept."""
    args = request.args.to_dict(flat=False)
    args[param] = [str(page)]
    return f"{request.script_root}{request.path}?{urlencode(args, doseq=True)}"


def _field_errors(field) -> Iterator[tuple[str, str, str]]:
    errors = field.errors
    if isinstance(errors, dict) or field.type in {"FormField", "FieldList"}:
        # FormField and FieldList: their sub-fields carry the messages.
        for subfield in field:
            yield from _field_errors(subfield)
        return
    if field.type == "CSRFTokenField":
        if errors:
            yield None, "", "Le formulaire a expiré\u00a0: veuillez le soumettre à nouveau."
        return
    label = field.label.text if field.label else field.name
    for message in errors or ():
        if isinstance(message, str):
            yield field_focus_id(field), label, message


def form_error_list(form) -> list[tuple[str | None, str, str]]:
    """Every error of ``form`` as ``(target id or None, field label, message)``, in field order."""
    items: list[tuple[str | None, str, str]] = [
        (None, "", message) for message in getattr(form, "form_errors", None) or ()
    ]
    for field in form:
        items.extend(_field_errors(field))
    return items


def register(app: Flask) -> None:
    layout.register(app)
    environment = app.config.get("DATAPASS_ENV", "development")
    app.jinja_env.globals.update(
        has_endpoint=has_endpoint,
        app_environment=environment,
        page_url=page_url,
        form_error_list=form_error_list,
        field_focus_id=field_focus_id,
        field_attrs=field_attrs,
        workflow=workflow,  # state constants: ``authorization_request.state == workflow.DRAFT``
        request_state_badges=workflow.STATE_BADGES,
        authorization_state_badges=AUTHORIZATION_STATE_BADGES,
        # The footer's « Accessibilité : … », from the self-assessment (datapass/data/rgaa.yml).
        accessibility_state=accessibility.declared_state,
    )
    app.jinja_env.filters.update(
        date_fr=date_fr,
        datetime_fr=datetime_fr,
        month_fr=month_fr,
        days_fr=days_fr,
        deadline_fr=deadline_fr,
        deadline_days=deadline_days,
        filesize_fr=filesize_fr,
    )
