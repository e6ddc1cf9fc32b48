"""What every block is: its fields, its WTForms class, its template, its display and cleaning.

A block is one group of answers of a request (``basic_infos``, ``legal``…). Each block is
one module of this package holding its WTForms class and one ``Block`` instance; the
registry (``datapass.blocks``) lists them. The catalogue's YAML names blocks by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.validators import InputRequired, ValidationError

from datapass import validators as v

if TYPE_CHECKING:
    from datapass.catalog.model import Form as CatalogForm

MAX_VALUE_LENGTH = 10_000
REQUIRED = "Ce champ est obligatoire."


def sanitize(value: Any) -> str:
    """Plain text: tags stripped, spaces trimmed; never cut (lengths are checked, not cut).

    Stripping tags unescapes entities, which can make a tag (``&lt;img onerror&gt;`` becomes
    ``<img onerror>``): strip again until nothing changes, so that no tag comes out.
    """
    text = str(value)
    while "<" in text or "&" in text:
        stripped = Markup(text).striptags()  # noqa: S704 (only to strip tags; never rendered)
        if stripped == text:
            break
        text = stripped
    return text.strip()


def too_long(value: Any, limit: int = MAX_VALUE_LENGTH) -> str | None:
    """The French refusal of a text (or a list of texts) longer than ``limit``, or None."""
    texts = value if isinstance(value, list | tuple) else [value]
    if any(isinstance(text, str) and len(text) > limit for text in texts):
        return f"{limit:,} caractères au maximum.".replace(",", "\u202f")
    return None


def required(message: str = REQUIRED) -> InputRequired:
    return InputRequired(message=message)


def normalizing(check):
    """One of ``datapass.validators`` as a WTForms validator that normalises the value."""

    def validator(form, field):
        if field.data:
            try:
                field.data = check(field.data)
            except v.ValidationError as error:
                raise ValidationError(error.message) from error

    return validator


def answers_as_formdata(answers: Mapping) -> MultiDict:
    """Stored answers as submitted form data, to validate them again later."""
    data = MultiDict()
    for key, value in answers.items():
        if isinstance(value, list | tuple):
            for item in value:
                data.add(key, item)
        elif value is not None:
            data.add(key, str(value))
    return data


@dataclass(frozen=True)
class SummaryItem:
    label: str
    value: Any  # str, list of str, documents, or None (« Non renseigné »)


@dataclass(frozen=True)
class SummaryBlock:
    block: str
    title: str
    slug: str | None  # the step to edit it, None when locked
    items: list[SummaryItem] = field(default_factory=list)
    groups: list[tuple[str, list[SummaryItem]]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)


class Block:
    """A block of answers. Subclasses set the attributes and override what differs."""

    id: str
    slug: str
    title: str
    fields: tuple[str, ...] = ()
    list_fields: frozenset[str] = frozenset()  # answers that are lists of strings
    document_fields: frozenset[str] = frozenset()  # uploads, not answers
    prefillable: bool = True  # may an editor's link pre-fill its fields
    form_class: type[Form]

    @property
    def template(self) -> str:
        return f"applicant/steps/{self.id}.html"

    # ------------------------------------------------------------ fields

    def fields_for(self, catalog_form: CatalogForm) -> tuple[str, ...]:
        """The block's answer keys in this démarche (contacts depend on the definition)."""
        return self.fields

    def answer_fields(self, catalog_form: CatalogForm) -> tuple[str, ...]:
        """The fields stored in ``data`` (documents excluded)."""
        return tuple(f for f in self.fields_for(catalog_form) if f not in self.document_fields)

    # ------------------------------------------------------------ forms

    def form_class_for(self, catalog_form: CatalogForm) -> type[Form]:
        return self.form_class

    def configure(self, catalog_form: CatalogForm, form: Form, answers: Mapping) -> Form:
        """Set what depends on the démarche (choices, hints) on a form instance."""
        return form

    def form(self, catalog_form: CatalogForm, answers: Mapping) -> Form:
        """The block's form filled with stored answers (no CSRF: for validation and labels)."""
        subset = {f: answers[f] for f in self.answer_fields(catalog_form) if f in answers}
        instance = self.form_class_for(catalog_form)(formdata=answers_as_formdata(subset))
        return self.configure(catalog_form, instance, answers)

    def labels(self, catalog_form: CatalogForm) -> dict[str, str]:
        """Field → French label, for summaries and the timeline's sentences."""
        instance = self.form_class_for(catalog_form)()
        return {f.name: f.label.text for f in instance if f.name not in self.document_fields}

    # ------------------------------------------------------------ answers

    def clean_value(self, name: str, value: Any) -> tuple[Any, str | None]:
        """(cleaned value, problem) of one posted value; problem is a French sentence."""
        if name in self.list_fields:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list | tuple) or not all(isinstance(i, str) for i in value):
                return None, f"{name} doit être une liste de textes."
            return [sanitize(item) for item in value], None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return None, f"{name} doit être un texte."
        return sanitize(value), None

    def validate(self, catalog_form: CatalogForm, authorization_request) -> dict[str, list[str]]:
        """Errors of the stored answers: {field: [messages]}, empty when valid."""
        instance = self.form(catalog_form, authorization_request.data or {})
        instance.validate()
        return {name: list(errors) for name, errors in instance.errors.items() if errors}

    def accepts_prefill(self, catalog_form: CatalogForm, name: str, value: Any) -> bool:
        """Would this pre-filled value pass the field's own checks? (else it is dropped)"""
        instance = self.form(catalog_form, {name: value})
        target = getattr(instance, name, None)
        return target is None or target.validate(instance)

    # ------------------------------------------------------------ display

    def step_context(self, catalog_form: CatalogForm, authorization_request, step_form, user):
        """Extra variables of the block's step template."""
        return {}

    def display(self, name: str, value: Any) -> Any:
        """A stored answer as the summary shows it."""
        return value

    def summary(self, catalog_form: CatalogForm, authorization_request) -> SummaryBlock:
        data = authorization_request.data or {}
        items = [
            SummaryItem(label, self.display(name, data.get(name) or None))
            for name, label in self.labels(catalog_form).items()
        ]
        return SummaryBlock(
            block=self.id,
            title=self.title,
            slug=None if catalog_form.is_locked(self.id) else self.slug,
            items=items,
        )


def choices_of(values: Iterable[str], labels: Mapping[str, str]):
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(value, labels.get(value, value)) for value in values]
