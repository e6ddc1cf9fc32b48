"""The FlaskForm of a wizard step: a block's form (from the registry) plus CSRF protection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm

from datapass import blocks


def step_form(catalog_form, block_id: str, data: Mapping[str, Any], *, posted: bool = False):
    """The step's form: from the POST (``posted``), or from the stored answers."""
    block = blocks.get(block_id)
    base = getattr(block, "step_form_class", None) or block.form_class_for(catalog_form)
    cls = type(f"{base.__name__}Step", (FlaskForm, base), {})
    if posted:
        instance = cls()
    else:
        subset = {f: data[f] for f in block.answer_fields(catalog_form) if f in data}
        instance = cls(formdata=blocks.answers_as_formdata(subset))
    return block.configure(catalog_form, instance, data)


def apply_errors(step_form, errors: Mapping[str, list[str]]) -> None:
    """Put a block's errors (``Block.validate``) on the fields of a step form."""
    for name, messages in errors.items():
        field = getattr(step_form, name, None)
        if field is not None:
            field.errors = list(messages)
