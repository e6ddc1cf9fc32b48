"""The editors' space: the pre-filled link builder (a GET form, no CSRF: it changes nothing)."""

from __future__ import annotations

from collections.abc import Iterable

from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from datapass.services.editors import LinkField, PrefillLink

# Parameters the démarche refuses are shown as disabled fields (never sent again), each with
# its message: their WTForms names.
REFUSED_FIELD = "parametre_refuse_{index}"


def link_builder_form(
    fields: Iterable[LinkField], link: PrefillLink | None, refused_values: MultiDict
) -> Form:
    """One field per value the démarche lets a link pre-fill, named as the link's parameter
    (``scopes`` for the ``scopes[]`` checkboxes), filled with what was accepted, errors set;
    then one disabled field per refused parameter, with its message."""
    attributes = {}
    for link_field in fields:
        if link_field.choices:
            attributes[link_field.name] = SelectMultipleField(
                link_field.label,
                choices=list(link_field.choices),
                widget=ListWidget(prefix_label=False),
                option_widget=CheckboxInput(),
                validate_choice=False,
            )
        elif link_field.multiline:
            attributes[link_field.name] = TextAreaField(
                link_field.label, description=link_field.hint, render_kw={"rows": 3}
            )
        else:
            attributes[link_field.name] = StringField(
                link_field.label,
                description=link_field.hint,
                render_kw=dict(link_field.render_kw),
            )
    refused = list((link.refused if link else {}).items())
    for index, (parameter, _) in enumerate(refused):
        attributes[REFUSED_FIELD.format(index=index)] = StringField(
            f"Paramètre «\u00a0{parameter}\u00a0»", render_kw={"disabled": True}
        )
    form_class = type("LinkBuilderForm", (Form,), attributes)
    form = form_class(formdata=link.values if link else None)
    for index, (parameter, message) in enumerate(refused):
        field = form[REFUSED_FIELD.format(index=index)]
        field.data = " ".join(refused_values.getlist(parameter))
        field.errors = [message]
    for name, messages in (link.errors if link else {}).items():
        if name in form:
            form[name].errors = list(messages)
    form.refused_fields = [form[REFUSED_FIELD.format(index=i)] for i in range(len(refused))]
    form.value_fields = [field for field in form if field not in form.refused_fields]
    return form
