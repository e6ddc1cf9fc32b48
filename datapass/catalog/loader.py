"""Read the catalogue's YAML files, check them, and build the frozen ``Catalog``.

Each file is first checked against the schema of ``schema.py``, then cross-checked
(references to definitions, editors, legal frameworks and scopes; steps; duplicates). Every
problem is collected as (file, dotted key, message) before the catalogue is refused, so
that one run of ``flask catalog check`` lists all of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType

from datapass.blocks import (
    CONTACT_TYPES,
    DOCUMENT_FIELDS,
    FIELD_BLOCKS,
    LIST_FIELDS,
    REQUIRED_BLOCKS,
    known_fields,
)
from datapass.blocks.contacts import organization_contact_answers
from datapass.catalog.model import (
    Catalog,
    Definition,
    Editor,
    EditorContact,
    Form,
    LegalFramework,
    Links,
    Scope,
    ScopeGroup,
    ScopesConfig,
)
from datapass.catalog.schema import (
    DEFINITION,
    DEFINITIONS_DIR,
    EDITOR,
    EDITORS_FILE,
    FORM,
    FORMS_DIR,
    FORMS_FILE,
    FRAMEWORK_KEY,
    IDENTIFIER,
    LEGAL_FRAMEWORK,
    LEGAL_FRAMEWORKS_FILE,
    UID,
    CatalogError,
    CatalogIssue,
    _entries,
    _File,
    _join,
    _kind,
    _record,
    is_valid_email,
    is_valid_url,
)

# Role prefixes that are not definitions (``editor:arche_mc2``).
RESERVED_DEFINITION_IDS = frozenset({"editor", "admin"})

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
                    keywords=scope["keywords"],
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
    _check_technical_contact(file, record, definition, editor, values)
    if "modalities" in static and not values.get("modalities"):
        values["modalities"] = definition.default_modalities
    if "scopes" in static and not values.get("scopes"):
        file.error(_join(key, "initialize_with.scopes"), "a static scopes block needs scopes")
    if "legal" in static and not (values.get("cadre_juridique_url") and framework):
        file.error(
            _join(key, "static_blocks"),
            "a static legal block needs a legal_framework and initialize_with.cadre_juridique_url",
        )
    deliberation = record["deliberation_required_for"] or ()
    _check_deliberation(file, key, deliberation, definition, static)
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
        technical_contact_editor=record["technical_contact"] == "editor",
        technical_contact_locked=bool(record["technical_contact_locked"]),
        deliberation_required_for=tuple(deliberation),
    )


def _check_deliberation(file, key: str, prefixes, definition, static) -> None:
    """Each prefix names scopes of the definition; a locked legal block would hide the
    délibération that their data need."""
    where = _join(key, "deliberation_required_for")
    for index, prefix in enumerate(prefixes):
        if not any(scope.value.startswith(f"{prefix}_") for scope in definition.scopes):
            file.error(f"{where}[{index}]", f"no scope of {definition.id} starts with {prefix!r}")
    if prefixes and "legal" in static:
        file.error(where, "a static legal block would hide the required délibération")


def _check_technical_contact(
    file: _File, record: dict, definition: Definition, editor: Editor | None, values: dict
) -> None:
    """``technical_contact: editor`` needs the form's editor, with a ``contact``, and a
    definition with a technical contact; its answers then pre-fill the draft."""
    key = record["_key"]
    if record["technical_contact"] != "editor":
        if record["technical_contact_locked"]:
            file.error(_join(key, "technical_contact_locked"), "needs technical_contact: editor")
        return
    where = _join(key, "technical_contact")
    technical = "contact_technique"
    if technical not in definition.contact_types:
        file.error(where, f"{definition.id} has no {CONTACT_TYPES[technical].lower()}")
    elif editor is None:
        if not record["editor"]:
            file.error(where, "needs the form's editor (key editor)")
    elif editor.contact is None:
        file.error(where, f"editor {editor.id!r} has no contact in {EDITORS_FILE}")
    else:
        for name in values:
            if name.startswith(f"{technical}_"):
                file.error(
                    _join(key, f"initialize_with.{name}"),
                    "set by technical_contact: editor (do not pre-fill it)",
                )
        values.update(
            organization_contact_answers(
                technical,
                service=editor.contact.service,
                email=editor.contact.email,
                phone=editor.contact.phone,
            )
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
        key: Editor(
            id=key,
            name=r["name"],
            siret=r["siret"],
            solution=r["solution"],
            contact_email=r["contact_email"],
            url=r["url"],
            contact=EditorContact(**{k: v for k, v in r["contact"].items() if k != "_key"})
            if r["contact"]
            else None,
        )
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
        elif definition.id in RESERVED_DEFINITION_IDS:
            file.error("id", f"{definition.id!r} is reserved (roles editor:<editor>)")
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
