"""The block registry: every block is whole, and the catalogue only names known blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from datapass import blocks
from datapass.catalog import DEFAULT_DIR, load_catalog

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
CATALOG = load_catalog(DEFAULT_DIR)


@pytest.mark.parametrize("block", blocks.REGISTRY.values(), ids=lambda block: block.id)
def test_every_block_has_a_slug_a_title_fields_a_form_and_a_template(block):
    assert block.slug and block.title and block.fields
    assert (TEMPLATES / block.template).is_file()
    form_fields = {field.name for field in block.form_class()}
    assert set(block.fields) - block.document_fields <= form_fields


def test_slugs_and_fields_are_unique_across_blocks():
    slugs = [block.slug for block in blocks.REGISTRY.values()]
    slugs += list(blocks.STEP_SLUGS.values())
    assert len(slugs) == len(set(slugs))
    fields = [name for block in blocks.REGISTRY.values() for name in block.fields]
    assert len(fields) == len(set(fields))


@pytest.mark.parametrize("catalog_form", CATALOG.forms.values(), ids=lambda form: form.uid)
def test_every_form_s_answers_have_labels_and_a_summary(catalog_form):
    labels = blocks.field_labels(catalog_form)
    for name in catalog_form.answer_fields():
        if name not in blocks.LIST_FIELDS:
            assert labels.get(name), name
    steps = blocks.steps(catalog_form)
    assert steps[0].block == blocks.ORGANIZATION and steps[-1].block == blocks.SUMMARY
    assert all(not catalog_form.is_locked(step.block) for step in steps[1:-1])


def test_one_set_of_modality_labels():
    assert set(blocks.MODALITY_LABELS) >= {"params", "formulaire_qf", "france_connect"}
