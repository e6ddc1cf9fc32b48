"""The catalogue as frozen data: definitions and their scopes, editors, legal frameworks, forms.

Everything here is immutable and built once by ``datapass.catalog.loader``; mappings are
read-only views (``types.MappingProxyType``) and list values are tuples.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from datapass import blocks
from datapass.blocks import contacts, modalities

EMPTY_MAPPING: Mapping = MappingProxyType({})


def collation_key(text: str) -> str:
    """A French-friendly sort key: case and accents ignored (« Arpège » sorts as « arpege »)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@dataclass(frozen=True, slots=True)
class Scope:
    value: str
    label: str
    group: str
    description: str | None = None
    retired: bool = False
    retired_since: date | None = None
    link: str | None = None
    keywords: tuple[str, ...] = ()  # how a délibération names it (docs/catalogue.md)


@dataclass(frozen=True, slots=True)
class ScopeGroup:
    name: str
    scopes: tuple[Scope, ...]
    documentation_url: str | None = None


@dataclass(frozen=True, slots=True)
class Links:
    doc_url: str
    cgu_url: str
    support_email: str
    access_url_template: str | None = None  # with an ``{external_provider_id}`` placeholder

    def access_url(self, external_provider_id: str) -> str | None:
        """Where the applicant finds the access (e.g. the token) once the request is approved."""
        if not self.access_url_template:
            return None
        return self.access_url_template.replace(
            "{external_provider_id}", quote(str(external_provider_id), safe="")
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Definition:
    id: str
    name: str
    description: str
    provider: str
    kind: str
    public: bool
    unique: bool
    contact_types: tuple[str, ...]
    modalities: tuple[str, ...]
    default_modalities: tuple[str, ...]
    links: Links
    scope_groups: tuple[ScopeGroup, ...]
    summary_block_order: tuple[str, ...]
    # Validity of the habilitations' API tokens; None: the TOKEN_LIFETIME_DAYS setting.
    token_lifetime_days: int | None = None
    _index: Mapping[str, Scope] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index = {scope.value: scope for group in self.scope_groups for scope in group.scopes}
        object.__setattr__(self, "_index", MappingProxyType(index))

    @property
    def scopes(self) -> tuple[Scope, ...]:
        """Every scope, retired ones included, in display order."""
        return tuple(self._index.values())

    def scope(self, value: str) -> Scope | None:
        return self._index.get(value)

    @property
    def scope_values(self) -> frozenset[str]:
        return frozenset(self._index)

    @property
    def active_scopes(self) -> tuple[Scope, ...]:
        """The scopes a new request may ask for (not retired)."""
        return tuple(scope for scope in self._index.values() if not scope.retired)


@dataclass(frozen=True, slots=True)
class EditorContact:
    """An editor's support team, the technical contact its démarches may set: a service, not
    a person (no first or last name)."""

    service: str  # « Support Millésime Action Sociale »
    email: str
    phone: str


@dataclass(frozen=True, slots=True)
class Editor:
    id: str
    name: str
    siret: str
    solution: str
    contact_email: str | None = None
    url: str | None = None
    contact: EditorContact | None = None


@dataclass(frozen=True, slots=True)
class LegalFramework:
    key: str
    label: str
    text: str  # pre-fills ``cadre_juridique_nature``
    urls: tuple[tuple[str, str], ...] = ()  # (label, url)


@dataclass(frozen=True, slots=True)
class ScopesConfig:
    disabled: frozenset[str] = frozenset()  # shown, greyed: the applicant cannot change them
    displayed: frozenset[str] | None = None  # None: every scope that is not retired
    hidden: frozenset[str] = frozenset()

    def offers(self, scope: Scope) -> bool:
        """Precedence: hidden, then retired, then displayed."""
        if scope.value in self.hidden or scope.retired:
            return False
        return self.displayed is None or scope.value in self.displayed


@dataclass(frozen=True, slots=True, kw_only=True)
class Form:
    uid: str
    name: str
    description: str
    introduction: str
    definition: Definition
    editor: Editor | None
    use_case: str | None
    public: bool
    default: bool
    steps: tuple[str, ...]
    static_blocks: tuple[str, ...]
    initialize_with: Mapping[str, str | tuple[str, ...]] = field(
        default_factory=lambda: EMPTY_MAPPING, hash=False
    )
    scopes_config: ScopesConfig = field(default_factory=ScopesConfig)
    legal_framework: LegalFramework | None = None
    justificatif_label: str | None = None
    legacy_ids: tuple[str, ...] = ()
    hints: Mapping[str, str] = field(default_factory=lambda: EMPTY_MAPPING, hash=False)
    # ``technical_contact: editor``: the draft starts with the editor's support team as the
    # technical contact (an organisation contact); ``technical_contact_locked``: for good.
    technical_contact_editor: bool = False
    technical_contact_locked: bool = False
    # Scope prefixes (``dgfip``) whose data need a délibération (a PDF or the act's URL).
    deliberation_required_for: tuple[str, ...] = ()

    # ------------------------------------------------------------ blocks and steps

    def is_locked(self, block: str) -> bool:
        """A static block is shown on the summary, pre-filled, and cannot be edited."""
        return block in self.static_blocks

    @property
    def editable_steps(self) -> tuple[str, ...]:
        """The blocks the applicant fills, one step each (locked ones are not steps)."""
        return tuple(block for block in self.steps if not self.is_locked(block))

    @property
    def summary_blocks(self) -> tuple[str, ...]:
        """Every block the request answers, in the definition's summary order."""
        present = set(self.steps) | set(self.static_blocks)
        order = self.definition.summary_block_order
        return tuple(b for b in order if b in present) + tuple(
            b for b in self.steps if b not in order
        )

    @property
    def wizard_steps(self) -> tuple[str, ...]:
        """The wizard's steps: the organisation first, then the form's steps."""
        return (blocks.ORGANIZATION, *self.steps)

    def block_fields(self, block: str) -> tuple[str, ...]:
        return blocks.get(block).fields_for(self)

    def answer_fields(self) -> tuple[str, ...]:
        """Every answer key of the démarche (documents excluded)."""
        return tuple(
            name for block in self.summary_blocks for name in blocks.get(block).answer_fields(self)
        )

    def field_block(self, name: str) -> str | None:
        """The block of the démarche holding ``name``, or None."""
        block = blocks.block_of(name)
        if block is None or block not in self.summary_blocks:
            return None
        return block if name in self.block_fields(block) else None

    def field_is_locked(self, name: str) -> bool:
        """A field of a static block, or of a contact the démarche fixes."""
        block = self.field_block(name)
        return block is not None and (
            self.is_locked(block) or name in self.locked_fields or name in self.implied_answers()
        )

    @property
    def locked_fields(self) -> frozenset[str]:
        """Fields fixed by the démarche outside static blocks: a locked editor contact's."""
        if not self.technical_contact_locked:
            return frozenset()
        return frozenset(self.editor_contact_answers())

    def prefilled_blocks(self) -> frozenset[str]:
        """Blocks holding at least one ``initialize_with`` value (they show a notice)."""
        return frozenset(block for name in self.initialize_with if (block := blocks.block_of(name)))

    # ------------------------------------------------------------ contacts and modalities

    @property
    def contact_types(self) -> tuple[str, ...]:
        """The definition's contact types in display order."""
        return contacts.ordered(self.definition.contact_types)

    def editor_contact_answers(self) -> dict[str, str]:
        """The technical contact's answers when the démarche sets the editor's support team
        (an organisation contact), else nothing."""
        contact = self.editor.contact if self.editor else None
        if not self.technical_contact_editor or contact is None:
            return {}
        return contacts.organization_contact_answers(
            contacts.TECHNICAL, service=contact.service, email=contact.email, phone=contact.phone
        )

    def implied_answers(self) -> dict[str, str]:
        """Contact answers the card implies and never asks (the DPO's « Fonction »)."""
        return contacts.implied_answers(self.contact_types)

    @property
    def locked_contact_types(self) -> frozenset[str]:
        """Contacts the applicant cannot change (shown read-only, never « C’est moi »)."""
        return frozenset({contacts.TECHNICAL}) if self.locked_fields else frozenset()

    def technical_contact_is_editor(self, data: Mapping[str, Any]) -> bool:
        """Is the technical contact of these answers the editor's support team?"""
        answers = self.editor_contact_answers()
        if not answers:
            return False
        expected = answers[f"{contacts.TECHNICAL}_email"].strip().lower()
        typed = data.get(f"{contacts.TECHNICAL}_email")
        return isinstance(typed, str) and typed.strip().lower() == expected

    def organization_contacts(self, data: Mapping[str, Any]) -> frozenset[str]:
        """The contact types that are an organisation, not a person, in these answers."""
        if self.technical_contact_is_editor(data):
            return frozenset({contacts.TECHNICAL})
        return frozenset()

    @property
    def has_dpo(self) -> bool:
        return contacts.DPO in self.definition.contact_types

    def modality_values(self) -> list[str]:
        """The modalities an applicant may tick."""
        return [m for m in self.definition.modalities if m not in modalities.NOT_OFFERED]

    # ------------------------------------------------------------ scopes

    def offered_scopes(self) -> tuple[ScopeGroup, ...]:
        """The scope groups a new request shows, each with its offered scopes only."""
        groups = []
        for group in self.definition.scope_groups:
            scopes = tuple(scope for scope in group.scopes if self.scopes_config.offers(scope))
            if scopes:
                groups.append(ScopeGroup(group.name, scopes, group.documentation_url))
        return tuple(groups)

    def offered_scope_values(self) -> frozenset[str]:
        return frozenset(scope.value for group in self.offered_scopes() for scope in group.scopes)

    def deliberation_scopes(self, scopes) -> list[str]:
        """The scopes among ``scopes`` that need a délibération in this démarche."""
        prefixes = tuple(f"{prefix}_" for prefix in self.deliberation_required_for)
        return [s for s in scopes or () if prefixes and str(s).startswith(prefixes)]

    @property
    def locked_scopes(self) -> frozenset[str]:
        """Scopes shown greyed: the applicant cannot change them."""
        return frozenset(self.scopes_config.disabled)

    def selectable_scopes(self, current: list[str] | None = None) -> list[str]:
        """Scopes the applicant may tick: offered ones, plus retired ones already held."""
        offered = [s.value for group in self.offered_scopes() for s in group.scopes]
        held_retired = [
            s
            for s in (current or [])
            if (scope := self.definition.scope(s)) is not None and scope.retired
        ]
        return offered + [s for s in held_retired if s not in offered]

    # ------------------------------------------------------------ answers

    def enforce_locks(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Locked blocks hold the form's values; locked scopes keep their pre-set state; a
        locked editor contact holds the editor's support team."""
        data = dict(data)
        defaults = self.initialize_with
        for block in self.static_blocks:
            for name in self.block_fields(block):
                if name in defaults:
                    value = defaults[name]
                    data[name] = list(value) if isinstance(value, list | tuple) else value
                else:
                    data.pop(name, None)
        if self.locked_fields:
            data.update(self.editor_contact_answers())
        data.update(self.implied_answers())
        if "scopes" in data or "scopes" in defaults:
            current = list(data.get("scopes") or [])
            allowed = set(self.selectable_scopes(current))
            preset = set(defaults.get("scopes") or ())
            locked = self.locked_scopes
            kept = {s for s in current if s in allowed and s not in locked} | (locked & preset)
            order = {s.value: i for i, s in enumerate(self.definition.scopes)}
            data["scopes"] = sorted(kept, key=lambda s: order.get(s, len(order)))
        if "modalities" in data:
            allowed_modalities = set(self.modality_values()) | set(defaults.get("modalities") or ())
            data["modalities"] = [m for m in data["modalities"] if m in allowed_modalities]
        return data

    def initial_answers(self, prefill: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A new request's answers: the form's defaults < a link's pre-fill, locks enforced."""
        data: dict[str, Any] = {}
        for key, value in self.initialize_with.items():
            data[key] = list(value) if isinstance(value, list | tuple) else value
        for key, value in (prefill or {}).items():
            if key == "scopes":
                data[key] = sorted(set(data.get("scopes", [])) | set(value))
            else:
                data[key] = list(value) if isinstance(value, list | tuple) else value
        return self.enforce_locks(data)


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalog:
    version: str
    definitions: Mapping[str, Definition] = field(hash=False)
    forms: Mapping[str, Form] = field(hash=False)  # in file order
    editors: Mapping[str, Editor] = field(hash=False)
    legal_frameworks: Mapping[str, LegalFramework] = field(hash=False)
    _legacy: Mapping[tuple[str, str], Form] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        legacy = {
            (form.definition.id, legacy_id.casefold()): form
            for form in self.forms.values()
            for legacy_id in form.legacy_ids
        }
        object.__setattr__(self, "_legacy", MappingProxyType(legacy))

    def form(self, uid: str) -> Form | None:
        return self.forms.get(uid)

    def public_forms(self) -> tuple[Form, ...]:
        return tuple(form for form in self.forms.values() if form.public)

    def forms_for(
        self,
        definition_id: str,
        *,
        editor_id: str | None = None,
        use_case: str | None = None,
        without_editor: bool = False,
    ) -> tuple[Form, ...]:
        """The public forms of a definition (file order), optionally filtered.

        ``editor_id``: that editor's forms; ``without_editor``: forms with no editor (the
        applicant's own developers); ``use_case``: forms of that use case.
        """
        forms = []
        for form in self.public_forms():
            if form.definition.id != definition_id:
                continue
            editor = form.editor.id if form.editor else None
            if editor_id is not None and editor != editor_id:
                continue
            if without_editor and editor is not None:
                continue
            if use_case is not None and form.use_case != use_case:
                continue
            forms.append(form)
        return tuple(forms)

    def editor_forms(self, editor_id: str) -> tuple[Form, ...]:
        """Every form (démarche) of the editor, public or not, in file order."""
        return tuple(
            form for form in self.forms.values() if form.editor and form.editor.id == editor_id
        )

    def editors_for(self, definition_id: str) -> tuple[Editor, ...]:
        """Editors with a public form of the definition, sorted by name (French collation)."""
        editors = {
            form.editor.id: form.editor for form in self.forms_for(definition_id) if form.editor
        }
        return tuple(
            sorted(editors.values(), key=lambda editor: (collation_key(editor.name), editor.name))
        )

    def form_for_legacy_id(self, definition_id: str, legacy_id: str) -> Form | None:
        """The form a v1 link (``?demarche=<legacy_id>``) stands for; case is ignored."""
        return self._legacy.get((definition_id, (legacy_id or "").strip().casefold()))
