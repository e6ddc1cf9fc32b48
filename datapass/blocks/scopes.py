"""« Les données »: the scopes asked for, grouped as the definition groups them."""

from __future__ import annotations

from typing import Any

from wtforms import Form, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from datapass.blocks.base import Block, SummaryBlock, SummaryItem

RETIRED_GROUP = "Données retirées du catalogue"


class ScopesForm(Form):
    scopes = SelectMultipleField(
        "Les données",
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )

    def validate_scopes(self, field):
        if not field.data:
            raise ValidationError("Cochez au moins une donnée.")


class Scopes(Block):
    id = "scopes"
    slug = "donnees"
    title = "Les données"
    fields = ("scopes",)
    list_fields = frozenset({"scopes"})
    form_class = ScopesForm

    def configure(self, catalog_form, form, answers):
        definition = catalog_form.definition
        values = catalog_form.selectable_scopes(list(answers.get("scopes") or []))
        form.scopes.choices = [
            SelectChoice(value, definition.scope(value).label)
            for value in values
            if definition.scope(value)
        ]
        return form

    def labels(self, catalog_form):
        return {}  # a list: its changes are told as scopes added or removed

    def step_context(self, catalog_form, authorization_request, step_form, user):
        return {"scope_groups": groups_for_display(catalog_form, list(step_form.scopes.data or []))}

    def summary(self, catalog_form, authorization_request):
        labels = {scope.value: scope for scope in catalog_form.definition.scopes}
        chosen = [labels[v] for v in (authorization_request.data or {}).get("scopes") or []]
        by_group: dict[str, list[str]] = {}
        for scope in chosen:
            suffix = " (donnée retirée du catalogue)" if scope.retired else ""
            by_group.setdefault(scope.group, []).append(scope.label + suffix)
        return SummaryBlock(
            block=self.id,
            title=self.title,
            slug=None if catalog_form.is_locked(self.id) else self.slug,
            groups=[(name, [SummaryItem("Données", values)]) for name, values in by_group.items()],
        )


def groups_for_display(catalog_form, current: list[str]) -> list[dict[str, Any]]:
    """Groups of checkboxes: offered scopes, then retired ones the request still holds."""
    locked = catalog_form.locked_scopes
    groups = [
        {
            "name": group.name,
            "scopes": [
                {"scope": s, "checked": s.value in current, "locked": s.value in locked}
                for s in group.scopes
            ],
        }
        for group in catalog_form.offered_scopes()
    ]
    definition = catalog_form.definition
    retired = [
        scope
        for value in current
        if (scope := definition.scope(value)) is not None and scope.retired
    ]
    if retired:
        groups.append(
            {
                "name": RETIRED_GROUP,
                "retired": True,
                "scopes": [{"scope": s, "checked": True, "locked": True} for s in retired],
            }
        )
    return groups


BLOCK = Scopes()
