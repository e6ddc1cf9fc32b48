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
from urllib.parse import quote

from datapass.catalog.blocks import FIELD_BLOCKS, ORGANIZATION_STEP

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
class Editor:
    id: str
    name: str
    siret: str
    solution: str
    contact_email: str | None = None
    url: str | None = None


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

    def is_locked(self, block: str) -> bool:
        """A static block is shown on the summary, pre-filled, and cannot be edited."""
        return block in self.static_blocks

    def prefilled_blocks(self) -> frozenset[str]:
        """Blocks holding at least one ``initialize_with`` value (they show a notice)."""
        return frozenset(
            FIELD_BLOCKS[name] for name in self.initialize_with if name in FIELD_BLOCKS
        )

    @property
    def all_blocks(self) -> tuple[str, ...]:
        """The steps, then the static blocks that are not steps, in summary order."""
        order = {block: index for index, block in enumerate(self.definition.summary_block_order)}
        extra = [block for block in self.static_blocks if block not in self.steps]
        extra.sort(key=lambda block: order.get(block, len(order)))
        return self.steps + tuple(extra)

    @property
    def wizard_steps(self) -> tuple[str, ...]:
        """The wizard's steps: the organisation first, then the form's steps."""
        return (ORGANIZATION_STEP, *self.steps)


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
