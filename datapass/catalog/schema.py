"""The schema of the catalogue's YAML files: issues, value checks and record specs.

Each file is checked against a small schema (required and unknown keys, types, URLs,
emails, SIRETs, names that must belong to a known set); every problem is collected as
(file, dotted key, message) by ``_File.error``. ``loader.py`` builds the catalogue.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import yaml
from email_validator import EmailNotValidError, validate_email
from stdnum.fr import siret as stdnum_siret

from datapass import validators
from datapass.blocks import (
    CONTACT_TYPES,
    MODALITY_LABELS,
    ORGANIZATION,
    REGISTRY,
    SUMMARY,
)

DEFINITIONS_DIR = "definitions"
FORMS_DIR = "forms"
EDITORS_FILE = "editors.yml"
LEGAL_FRAMEWORKS_FILE = "legal_frameworks.yml"
KINDS = ("api", "service")
# ``technical_contact`` of a form: who the draft's technical contact starts as.
TECHNICAL_CONTACTS = ("editor",)
LA_POSTE_SIREN = "356000000"

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
FRAMEWORK_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")
UID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
URL = re.compile(
    r"^https?://(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(?::\d+)?(?:[/?#]\S*)?$", re.I
)


@dataclass(frozen=True, slots=True)
class CatalogIssue:
    file: str  # relative to the catalogue directory
    key: str  # dotted path, e.g. ``api-particulier-ccas-arpege.steps[3]``
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key or '(file)'}: {self.message}"


class CatalogError(Exception):
    """The catalogue is invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: Iterable[CatalogIssue]):
        self.issues = tuple(issues)
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = "\n".join(str(issue) for issue in self.issues)
        return f"invalid catalogue ({len(self.issues)} problem(s)):\n{lines}"


def is_valid_url(value: object) -> bool:
    """``http(s)://`` then a host with a dot and a top-level domain (placeholders allowed)."""
    return isinstance(value, str) and bool(URL.match(re.sub(r"\{[a-z_]+\}", "x", value)))


def is_valid_email(value: object) -> bool:
    try:
        validate_email(str(value), check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def is_valid_siret(value: object) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{14}", value):
        return False
    return value.startswith(LA_POSTE_SIREN) or stdnum_siret.is_valid(value)


# --- Reading YAML --------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.safe_load`` that refuses a key written twice in one mapping (a silent overwrite)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, str | int | date):
            if key in seen:
                message = f"duplicate key {key!r}"
                raise yaml.constructor.ConstructorError(None, None, message, key_node.start_mark)
            seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _File:
    """The issues found in one file (``name`` is relative to the catalogue directory)."""

    def __init__(self, issues: list[CatalogIssue], name: str):
        self.issues, self.name = issues, name

    def error(self, key: str, message: str) -> None:
        self.issues.append(CatalogIssue(self.name, key, message))

    def parse(self, content: bytes):
        try:
            return yaml.load(content, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            self.error(where, f"YAML syntax error: {error.problem or error.context}")
        except yaml.YAMLError as error:
            self.error("", f"YAML error: {error}")
        return None


# --- A small schema language -----------------------------------------------------------------
# A check takes (file, value, key) and returns the cleaned value, or raises _Bad(message).
# A spec maps each allowed key to (check, required, default).


class _Bad(Exception):
    pass


Check = Callable[[_File, object, str], object]


def _join(prefix: str, name: object) -> str:
    return f"{prefix}.{name}" if prefix else str(name)


def _kind(value: object) -> str:
    if isinstance(value, list | dict):
        return "a list" if isinstance(value, list) else "a mapping"
    return repr(value)


def _record(file: _File, data, key: str, spec: dict) -> dict | None:
    """The mapping's values, cleaned; a missing or bad value is reported and set to its default."""
    if not isinstance(data, dict):
        file.error(key or "(top level)", f"expected a mapping, got {_kind(data)}")
        return None
    for name in data:
        if name not in spec:
            file.error(_join(key, name), f"unknown key (expected one of: {', '.join(spec)})")
    cleaned: dict = {"_key": key}
    for name, (check, required, default) in spec.items():
        cleaned[name] = default
        if data.get(name) is None:
            if required:
                file.error(_join(key, name), "required key is missing or empty")
            continue
        try:
            cleaned[name] = check(file, data[name], _join(key, name))
        except _Bad as error:
            file.error(_join(key, name), str(error))
    return cleaned


def _f(check: Check, required: bool = False, default: object = None) -> tuple:
    return (check, required, default)


def _text(file: _File, value, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"expected a non-empty text, got {_kind(value)}")
    return value.strip()


def _pattern(regex: re.Pattern, rule: str) -> Check:
    def check(file: _File, value, key: str) -> str:
        if not regex.match(_text(file, value, key)):
            raise _Bad(f"{value!r}: {rule}")
        return value

    return check


_identifier = _pattern(IDENTIFIER, "write it in lower case with underscores")
_uid = _pattern(UID, "write it in lower case with dashes (it is part of URLs)")


def _url(file: _File, value, key: str) -> str:
    if not is_valid_url(value):
        raise _Bad(f"bad URL {value!r} (expected https://host.tld/…)")
    return value


def _email(file: _File, value, key: str) -> str:
    if not is_valid_email(value):
        raise _Bad(f"invalid email {value!r}")
    return value


def _siret(file: _File, value, key: str) -> str:
    if not is_valid_siret(value):
        raise _Bad(f"invalid SIRET {value!r} (14 digits, quoted, with a valid checksum)")
    return value


def _phone(file: _File, value, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Bad(f"expected a phone number, got {_kind(value)}")
    try:
        return validators.validate_french_phone(str(value))
    except validators.ValidationError:
        raise _Bad(f"invalid French phone number {value!r} (e.g. 04 78 00 00 00)") from None


def _flag(file: _File, value, key: str) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"expected true or false, got {_kind(value)}")
    return value


def _date(file: _File, value, key: str) -> date:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = date.fromisoformat(value)
    if not isinstance(value, date):
        raise _Bad(f"expected a date (YYYY-MM-DD), got {_kind(value)}")
    return value


def _days(file: _File, value, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 548:
        raise _Bad(f"expected a number of days between 1 and 548 (18 months), got {value!r}")
    return value


def _one_of(choices: Iterable[str]) -> Check:
    choices = tuple(choices)

    def check(file: _File, value, key: str) -> str:
        if value not in choices:
            raise _Bad(f"unknown value {value!r} (expected one of: {', '.join(choices)})")
        return value

    return check


def _names(what: str, allowed: Iterable[str] | None = None) -> Check:
    """A list of distinct names, each in ``allowed`` when given; bad items are reported."""
    allowed = None if allowed is None else frozenset(allowed)

    def check(file: _File, value, key: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise _Bad(f"expected a list, got {_kind(value)}")
        found: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                problem = f"expected a {what} name, got {_kind(item)}"
            elif item in found:
                problem = f"duplicate {what} {item!r}"
            elif allowed is not None and item not in allowed:
                implicit = item in (ORGANIZATION, SUMMARY)
                problem = f"unknown {what} {item!r}" + (" (implicit: do not list it)" * implicit)
            else:
                found.append(item)
                continue
            file.error(f"{key}[{index}]", problem)
        return tuple(found)

    return check


def _list_of(spec: dict) -> Check:
    def check(file: _File, value, key: str) -> list[dict]:
        if not isinstance(value, list) or not value:
            raise _Bad(f"expected a non-empty list, got {_kind(value)}")
        records = (_record(file, item, f"{key}[{i}]", spec) for i, item in enumerate(value))
        return [record for record in records if record is not None]

    return check


def _record_of(spec: dict) -> Check:
    return lambda file, value, key: _record(file, value, key, spec)


def _texts(file: _File, value, key: str) -> dict[str, str]:
    """A mapping of names to texts (``hints``)."""
    if not isinstance(value, dict):
        raise _Bad(f"expected a mapping, got {_kind(value)}")
    record = _record(file, value, key, {name: _f(_text) for name in value}) or {}
    record.pop("_key", None)
    return record


def _entries(file: _File, data, spec: dict, regex: re.Pattern, rule: str) -> dict[str, dict]:
    """A top-level mapping of ids to records (editors, legal frameworks)."""
    if not isinstance(data, dict):
        file.error("(top level)", f"expected a mapping, got {_kind(data)}")
        return {}
    entries = {}
    for key, value in data.items():
        if not regex.match(str(key)):
            file.error(str(key), rule)
        if (record := _record(file, value, str(key), spec)) is not None:
            entries[str(key)] = record
    return entries


LINK = {"label": _f(_text, True), "url": _f(_url, True)}
LEGAL_FRAMEWORK = {"label": _f(_text, True), "text": _f(_text, True), "urls": _f(_list_of(LINK))}
# The editor's support team: a service, never a person (no first or last name).
EDITOR_CONTACT = {
    "service": _f(_text, True),
    "email": _f(_email, True),
    "phone": _f(_phone, True),
}
EDITOR = {
    "name": _f(_text, True),
    "siret": _f(_siret, True),
    "solution": _f(_text, True),
    "contact_email": _f(_email),
    "url": _f(_url),
    "contact": _f(_record_of(EDITOR_CONTACT)),
}
SCOPE = {
    "value": _f(_identifier, True),
    "label": _f(_text, True),
    "description": _f(_text),
    "retired": _f(_record_of({"since": _f(_date, True)})),
    "link": _f(_url),
    # The words that name the data item in a délibération (« quotient familial », « QF »):
    # services/deliberation_analysis.py looks them up, accents and case ignored.
    "keywords": _f(_names("keyword"), False, ()),
}
SCOPE_GROUP = {
    "name": _f(_text, True),
    "scopes": _f(_list_of(SCOPE), True, []),
    "documentation_url": _f(_url),
}
LINKS = {
    "doc_url": _f(_url, True, ""),
    "cgu_url": _f(_url, True, ""),
    "support_email": _f(_email, True, ""),
    "access_url_template": _f(_url),
}
DEFINITION = {
    "id": _f(_identifier, True),
    "name": _f(_text, True, ""),
    "description": _f(_text, True, ""),
    "provider": _f(_text, True, ""),
    "kind": _f(_one_of(KINDS), True, ""),
    "public": _f(_flag, False, True),
    "unique": _f(_flag, False, False),
    "contact_types": _f(_names("contact type", CONTACT_TYPES), True, ()),
    "modalities": _f(_names("modality", MODALITY_LABELS), True, ()),
    "default_modalities": _f(_names("modality", MODALITY_LABELS), False, ()),
    "links": _f(_record_of(LINKS), True),
    "scope_groups": _f(_list_of(SCOPE_GROUP), True, []),
    "summary_block_order": _f(_names("block", REGISTRY), True, ()),
    "token_lifetime_days": _f(lambda file, value, key: _days(file, value, key)),
}
FORMS_FILE = {"definition": _f(_text, True), "forms": _f(lambda file, value, key: value, True)}
SCOPES_CONFIG = {
    "disabled": _f(_names("scope")),
    "displayed": _f(_names("scope")),
    "hidden": _f(_names("scope")),
}
FORM = {
    "uid": _f(_uid, True),
    "name": _f(_text, True, ""),
    "description": _f(_text, True, ""),
    "introduction": _f(_text, False, ""),
    "editor": _f(_identifier),
    "use_case": _f(_identifier),
    "public": _f(_flag, False, True),
    "default": _f(_flag, False, False),
    "steps": _f(_names("block", REGISTRY), True, ()),
    "static_blocks": _f(_names("block", REGISTRY), False, ()),
    "legal_framework": _f(_pattern(FRAMEWORK_KEY, "write it in upper case, e.g. CCAS")),
    "justificatif_label": _f(_text),
    "legacy_ids": _f(_names("legacy id")),
    "initialize_with": _f(lambda file, value, key: value),
    "scopes_config": _f(_record_of(SCOPES_CONFIG)),
    "hints": _f(_texts, False, {}),
    "technical_contact": _f(_one_of(TECHNICAL_CONTACTS)),
    "technical_contact_locked": _f(_flag, False, False),
    "deliberation_required_for": _f(_names("scope prefix")),
}
