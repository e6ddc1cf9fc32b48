"""Read the catalogue's YAML files, check them, and build the frozen ``Catalog``.

Each file is first checked against a small schema (required and unknown keys, types, URLs,
emails, SIRETs, names that must belong to a known set), then cross-checked (references to
definitions, editors, legal frameworks and scopes; steps; duplicates). Every problem is
collected as (file, dotted key, message) before the catalogue is refused, so that one run of
``flask catalog check`` lists all of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType

import yaml
from email_validator import EmailNotValidError, validate_email
from stdnum.fr import siret as stdnum_siret

from datapass.catalog.blocks import (
    BLOCKS,
    CONTACT_TYPES,
    DOCUMENT_FIELDS,
    FIELD_BLOCKS,
    LIST_FIELDS,
    MODALITY_LABELS,
    ORGANIZATION_STEP,
    REQUIRED_BLOCKS,
    SUMMARY_STEP,
    known_fields,
)
from datapass.catalog.model import (
    Catalog,
    Definition,
    Editor,
    Form,
    LegalFramework,
    Links,
    Scope,
    ScopeGroup,
    ScopesConfig,
)

DEFINITIONS_DIR = "definitions"
FORMS_DIR = "forms"
EDITORS_FILE = "editors.yml"
LEGAL_FRAMEWORKS_FILE = "legal_frameworks.yml"
KINDS = ("api", "service")
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
                implicit = item in (ORGANIZATION_STEP, SUMMARY_STEP)
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
EDITOR = {
    "name": _f(_text, True),
    "siret": _f(_siret, True),
    "solution": _f(_text, True),
    "contact_email": _f(_email),
    "url": _f(_url),
}
SCOPE = {
    "value": _f(_identifier, True),
    "label": _f(_text, True),
    "description": _f(_text),
    "retired": _f(_record_of({"since": _f(_date, True)})),
    "link": _f(_url),
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
    "summary_block_order": _f(_names("block", BLOCKS), True, ()),
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
    "steps": _f(_names("block", BLOCKS), True, ()),
    "static_blocks": _f(_names("block", BLOCKS), False, ()),
    "legal_framework": _f(_pattern(FRAMEWORK_KEY, "write it in upper case, e.g. CCAS")),
    "justificatif_label": _f(_text),
    "legacy_ids": _f(_names("legacy id")),
    "initialize_with": _f(lambda file, value, key: value),
    "scopes_config": _f(_record_of(SCOPES_CONFIG)),
    "hints": _f(_texts, False, {}),
}


# --- Building -----------------------------------------------------------------------------


def _build_definition(file: _File, data: dict) -> Definition | None:
    record = _record(file, data, "", DEFINITION)
    if record is None or not record["id"] or record["links"] is None:
        return None
    groups, seen = [], set()
    for group in record["scope_groups"]:
        scopes = []
        for scope in group["scopes"]:
            if scope["value"] in seen:
                file.error(f"{scope['_key']}.value", f"duplicate scope {scope['value']!r}")
                continue
            seen.add(scope["value"])
            retired = scope["retired"]
            scopes.append(
                Scope(
                    value=scope["value"],
                    label=scope["label"],
                    group=group["name"],
                    description=scope["description"],
                    retired=retired is not None,
                    retired_since=retired["since"] if retired else None,
                    link=scope["link"],
                )
            )
        groups.append(ScopeGroup(group["name"], tuple(scopes), group["documentation_url"]))
    for index, modality in enumerate(record["default_modalities"]):
        if modality not in record["modalities"]:
            file.error(f"default_modalities[{index}]", f"{modality!r} is not in modalities")
    missing = [block for block in REQUIRED_BLOCKS if block not in record["summary_block_order"]]
    if missing:
        file.error("summary_block_order", f"missing block(s): {', '.join(missing)}")
    links = record["links"]
    return Definition(
        id=record["id"],
        name=record["name"],
        description=record["description"],
        provider=record["provider"],
        kind=record["kind"],
        public=record["public"],
        unique=record["unique"],
        contact_types=record["contact_types"],
        modalities=record["modalities"],
        default_modalities=record["default_modalities"] or record["modalities"][:1],
        links=Links(
            links["doc_url"],
            links["cgu_url"],
            links["support_email"],
            links["access_url_template"],
        ),
        scope_groups=tuple(groups),
        summary_block_order=record["summary_block_order"],
        token_lifetime_days=record["token_lifetime_days"],
    )


def _check_scope_names(
    file: _File, key: str, names: Iterable[str], definition: Definition, *, new: bool = True
) -> None:
    for index, name in enumerate(names):
        scope = definition.scope(name)
        if scope is None:
            file.error(f"{key}[{index}]", f"unknown scope {name!r} of {definition.id}")
        elif new and scope.retired:
            file.error(f"{key}[{index}]", f"scope {name!r} is retired")


def _initial_values(
    file: _File, record: dict, definition: Definition
) -> dict[str, str | tuple[str, ...]]:
    key = _join(record["_key"], "initialize_with")
    raw = record["initialize_with"]
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        file.error(key, f"expected a mapping, got {_kind(raw)}")
        return {}
    allowed = known_fields(definition.contact_types)
    values: dict[str, str | tuple[str, ...]] = {}
    for name, value in raw.items():
        where = _join(key, name)
        if name in DOCUMENT_FIELDS:
            file.error(where, "a document cannot be pre-filled")
        elif name not in allowed:
            file.error(where, f"unknown field {name!r} for {definition.id}")
        elif name in LIST_FIELDS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                file.error(where, f"expected a list of names, got {_kind(value)}")
                continue
            if name == "scopes":
                _check_scope_names(file, where, value, definition)
            else:
                for index, modality in enumerate(value):
                    if modality not in definition.modalities:
                        file.error(f"{where}[{index}]", f"modality {modality!r} not allowed")
            values[name] = tuple(dict.fromkeys(value))
        elif isinstance(value, bool) or not isinstance(value, str | int):
            file.error(where, f"expected a text, got {_kind(value)}")
        else:
            text = str(value).strip()
            if name.endswith("_url") and not is_valid_url(text):
                file.error(where, f"bad URL {text!r}")
            elif name.endswith("_email") and not is_valid_email(text):
                file.error(where, f"invalid email {text!r}")
            values[name] = text
    return values


def _build_form(
    file: _File,
    record: dict,
    definition: Definition,
    editors: dict[str, Editor],
    frameworks: dict[str, LegalFramework],
) -> Form | None:
    key = record["_key"]
    editor = None
    if record["editor"]:
        editor = editors.get(record["editor"])
        if editor is None:
            file.error(_join(key, "editor"), f"unknown editor {record['editor']!r}")
    framework = None
    if record["legal_framework"]:
        framework = frameworks.get(record["legal_framework"])
        if framework is None:
            name = record["legal_framework"]
            file.error(_join(key, "legal_framework"), f"unknown legal framework {name!r}")
    steps, static = record["steps"], record["static_blocks"]
    for index, block in enumerate(static):
        if block in steps:
            file.error(_join(key, f"static_blocks[{index}]"), f"{block!r} is also a step")
    for block in REQUIRED_BLOCKS:
        if block not in steps and block not in static:
            file.error(_join(key, "steps"), f"block {block!r} is neither a step nor static")
    if "modalities" not in steps and "modalities" not in static and definition.modalities:
        file.error(_join(key, "steps"), "block 'modalities' is neither a step nor static")
    config = record["scopes_config"] or {}
    scopes_key = _join(key, "scopes_config")
    for name in ("disabled", "displayed", "hidden"):
        if config.get(name):
            _check_scope_names(
                file, _join(scopes_key, name), config[name], definition, new=name != "hidden"
            )
    values = _initial_values(file, record, definition)
    if framework and "cadre_juridique_nature" not in values:
        values["cadre_juridique_nature"] = framework.text
    disabled = frozenset(config.get("disabled") or ())
    displayed = config.get("displayed")
    scopes_config = ScopesConfig(
        disabled=disabled,
        displayed=None if displayed is None else frozenset(displayed) | disabled,
        hidden=frozenset(config.get("hidden") or ()),
    )
    # Locked (disabled) scopes are always asked for: add them to the pre-checked ones.
    if disabled:
        ordered = [scope.value for scope in definition.scopes if scope.value in disabled]
        values["scopes"] = tuple(dict.fromkeys((*values.get("scopes", ()), *ordered)))
    for index, name in enumerate(values.get("scopes", ())):
        scope = definition.scope(name)
        if scope and not scopes_config.offers(scope):
            where = _join(key, f"initialize_with.scopes[{index}]")
            file.error(where, f"scope {name!r} is pre-checked but not offered by the form")
    if "modalities" in static and not values.get("modalities"):
        values["modalities"] = definition.default_modalities
    if "scopes" in static and not values.get("scopes"):
        file.error(_join(key, "initialize_with.scopes"), "a static scopes block needs scopes")
    if "legal" in static and not (values.get("cadre_juridique_url") and framework):
        file.error(
            _join(key, "static_blocks"),
            "a static legal block needs a legal_framework and initialize_with.cadre_juridique_url",
        )
    for name in record["hints"] or {}:
        if name not in FIELD_BLOCKS:
            file.error(_join(key, f"hints.{name}"), f"unknown field {name!r}")
    return Form(
        uid=record["uid"],
        name=record["name"],
        description=record["description"],
        introduction=record["introduction"] or "",
        definition=definition,
        editor=editor,
        use_case=record["use_case"],
        public=record["public"],
        default=record["default"],
        steps=steps,
        static_blocks=static,
        initialize_with=MappingProxyType(values),
        scopes_config=scopes_config,
        legal_framework=framework,
        justificatif_label=record["justificatif_label"],
        legacy_ids=record["legacy_ids"] or (),
        hints=MappingProxyType(dict(record["hints"] or {})),
    )


def _read(directory: Path, relative: str, issues: list[CatalogIssue]):
    file = _File(issues, relative)
    try:
        content = (directory / relative).read_bytes()
    except OSError as error:
        file.error("", f"cannot read the file: {error.strerror}")
        return file, None, b""
    return file, file.parse(content), content


def load_catalog(directory: str | Path) -> Catalog:
    """Read, check and build the catalogue of ``directory``; raise ``CatalogError`` if invalid."""
    directory = Path(directory)
    issues: list[CatalogIssue] = []
    digest = hashlib.sha256()

    def files(subdirectory: str) -> list[str]:
        folder = directory / subdirectory
        if not folder.is_dir():
            issues.append(CatalogIssue(subdirectory, "", "missing directory"))
            return []
        return sorted(f"{subdirectory}/{path.name}" for path in folder.glob("*.yml"))

    def read(relative: str):
        file, data, content = _read(directory, relative, issues)
        digest.update(relative.encode() + b"\0" + content + b"\0")
        return file, data

    file, data = read(EDITORS_FILE)
    editor_records = _entries(file, data or {}, EDITOR, IDENTIFIER, "write ids in lower case")
    editors = {
        key: Editor(key, r["name"], r["siret"], r["solution"], r["contact_email"], r["url"])
        for key, r in editor_records.items()
    }
    file, data = read(LEGAL_FRAMEWORKS_FILE)
    framework_records = _entries(
        file, data or {}, LEGAL_FRAMEWORK, FRAMEWORK_KEY, "write keys in upper case, e.g. CCAS"
    )
    frameworks = {
        key: LegalFramework(
            key, r["label"], r["text"], tuple((u["label"], u["url"]) for u in r["urls"] or ())
        )
        for key, r in framework_records.items()
    }

    definitions: dict[str, Definition] = {}
    for relative in files(DEFINITIONS_DIR):
        file, data = read(relative)
        if data is None:
            continue
        definition = _build_definition(file, data)
        if definition is None:
            continue
        if definition.id in definitions:
            file.error("id", f"duplicate definition {definition.id!r}")
        elif Path(relative).stem != definition.id:
            file.error("id", f"the file must be named {definition.id}.yml")
        definitions[definition.id] = definition

    forms: dict[str, Form] = {}
    legacy: dict[tuple[str, str], str] = {}
    for relative in files(FORMS_DIR):
        file, data = read(relative)
        if data is None:
            continue
        header = _record(file, data, "", FORMS_FILE)
        if header is None or not header["definition"]:
            continue
        definition = definitions.get(header["definition"])
        if definition is None:
            file.error("definition", f"unknown definition {header['definition']!r}")
            continue
        items = header["forms"]
        if not isinstance(items, list):
            file.error("forms", f"expected a list, got {_kind(items)}")
            items = []
        for index, item in enumerate(items):
            # Problems are reported under the form's uid when it has a usable one.
            uid = item.get("uid") if isinstance(item, dict) else None
            key = uid if isinstance(uid, str) and UID.match(uid) else f"forms[{index}]"
            record = _record(file, item, key, FORM)
            if record is None:
                continue
            form = _build_form(file, record, definition, editors, frameworks)
            if form is None or not form.uid:
                continue
            if form.uid in forms:
                file.error(form.uid, f"duplicate form uid {form.uid!r}")
                continue
            for legacy_id in form.legacy_ids:
                pair = (definition.id, legacy_id.casefold())
                if pair in legacy:
                    file.error(f"{form.uid}.legacy_ids", f"{legacy_id!r} is also {legacy[pair]}")
                legacy[pair] = form.uid
            forms[form.uid] = form
        defaults = [f.uid for f in forms.values() if f.definition is definition and f.default]
        if len(defaults) > 1:
            file.error("forms", f"several default forms: {', '.join(defaults)}")

    for editor_id in editors:
        if issues:
            break  # an editor's form may only be missing because of another problem
        if not any(form.editor and form.editor.id == editor_id for form in forms.values()):
            issues.append(CatalogIssue(EDITORS_FILE, editor_id, "editor without any form"))
    if issues:
        raise CatalogError(issues)
    return Catalog(
        version=digest.hexdigest()[:12],
        definitions=MappingProxyType(definitions),
        forms=MappingProxyType(forms),
        editors=MappingProxyType(editors),
        legal_frameworks=MappingProxyType(frameworks),
    )
