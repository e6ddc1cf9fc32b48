"""The editors' support contact in the catalogue and ``technical_contact: editor``."""

from __future__ import annotations

import pytest

from datapass.catalog import DEFAULT_DIR, load_catalog
from datapass.catalog.cli import catalog_cli
from tests.unit.test_catalog import broken, problems, replace  # noqa: F401 (fixture)

MILLESIME = "api-particulier-ccas-arche-mc2"
SONATE = "api-particulier-ccas-arpege"
SONATE_SCOPES = (
    '      duree_conservation_donnees_caractere_personnel: "24"\n'
    "    scopes_config:\n"
    "      disabled: [cnaf_quotient_familial, cnaf_allocataires]\n"
)
ARCHE_CONTACT = (
    "  contact:\n"
    "    service: Support Millésime Action Sociale\n"
    "    email: support-millesime@arche-mc2.example.fr\n"
    "    phone: 04 78 00 00 10\n"
)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(DEFAULT_DIR)


def test_editors_carry_their_support_team(catalog):
    contact = catalog.editors["arche_mc2"].contact
    assert contact.service == "Support Millésime Action Sociale"
    assert contact.email == "support-millesime@arche-mc2.example.fr"
    assert contact.phone == "04 78 00 00 10"
    assert catalog.editors["arpege"].contact.service == "Support Sonate Opus"


def test_millesime_locks_its_editor_as_technical_contact_sonate_proposes_it(catalog):
    millesime, sonate = catalog.form(MILLESIME), catalog.form(SONATE)
    assert millesime.technical_contact_editor and millesime.technical_contact_locked
    assert sonate.technical_contact_editor and not sonate.technical_contact_locked
    answers = millesime.editor_contact_answers()
    assert answers == {
        "contact_technique_family_name": "Support Millésime Action Sociale",
        "contact_technique_given_name": "",
        "contact_technique_email": "support-millesime@arche-mc2.example.fr",
        "contact_technique_phone_number": "04 78 00 00 10",
        "contact_technique_job_title": "",
    }
    assert millesime.locked_fields == frozenset(answers)
    assert millesime.locked_contact_types == {"contact_technique"}
    assert millesime.field_is_locked("contact_technique_email")
    assert not millesime.field_is_locked("contact_metier_email")
    assert sonate.locked_fields == frozenset() and not sonate.field_is_locked(
        "contact_technique_email"
    )
    # Both start with it (it is pre-filled), only Millésime enforces it.
    assert "contacts" in millesime.prefilled_blocks() and "contacts" in sonate.prefilled_blocks()
    forced = millesime.enforce_locks({"contact_technique_email": "x@y.fr"})
    assert forced["contact_technique_email"] == answers["contact_technique_email"]
    kept = sonate.enforce_locks({"contact_technique_email": "x@y.fr"})
    assert kept["contact_technique_email"] == "x@y.fr"
    assert [f.uid for f in catalog.editor_forms("arche_mc2")] == [MILLESIME]


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "editors.yml",
            "    phone: 04 78 00 00 10\n",
            "    phone: 12\n",
            "editors.yml: arche_mc2.contact.phone: invalid French phone number 12",
        ),
        (
            "editors.yml",
            "    email: support-millesime@arche-mc2.example.fr\n",
            "    email: support-millesime\n",
            "editors.yml: arche_mc2.contact.email: invalid email 'support-millesime'",
        ),
        (
            "editors.yml",
            "    service: Support Millésime Action Sociale\n",
            "    first_name: Camille\n",
            "editors.yml: arche_mc2.contact.first_name: unknown key",
        ),
        (
            "editors.yml",
            "    service: Support Millésime Action Sociale\n",
            "",
            "editors.yml: arche_mc2.contact.service: required key is missing or empty",
        ),
        (
            "editors.yml",
            ARCHE_CONTACT,
            "",
            f"{MILLESIME}.technical_contact: editor 'arche_mc2' has no contact in editors.yml",
        ),
        (
            "forms/api_particulier.yml",
            "    technical_contact_locked: false\n",
            "    technical_contact_locked: non\n",
            f"{SONATE}.technical_contact_locked: expected true or false",
        ),
        (
            "forms/api_particulier.yml",
            "    technical_contact: editor\n    technical_contact_locked: false\n",
            "    technical_contact: moi\n    technical_contact_locked: false\n",
            f"{SONATE}.technical_contact: unknown value 'moi' (expected one of: editor)",
        ),
        (
            "forms/api_particulier.yml",
            "    technical_contact: editor\n    technical_contact_locked: false\n",
            "    technical_contact_locked: true\n",
            f"{SONATE}.technical_contact_locked: needs technical_contact: editor",
        ),
        (
            "forms/api_particulier.yml",
            "    legacy_ids: [default]\n",
            "    legacy_ids: [default]\n    technical_contact: editor\n",
            "api-particulier.technical_contact: needs the form's editor (key editor)",
        ),
        (
            "forms/api_particulier.yml",
            SONATE_SCOPES,
            '      duree_conservation_donnees_caractere_personnel: "24"\n'
            "      contact_technique_email: moi@ccas.fr\n" + SONATE_SCOPES.split("\n", 1)[1],
            f"{SONATE}.initialize_with.contact_technique_email: set by technical_contact: editor",
        ),
    ],
)
def test_a_broken_editor_contact_names_file_and_key(broken, file, old, new, expected):  # noqa: F811
    replace(broken / file, old, new)
    found = problems(broken)
    assert any(expected in problem for problem in found), found


def test_flask_catalog_check_validates_the_contact(app, broken):  # noqa: F811
    replace(broken / "editors.yml", "    phone: 02 40 00 00 20\n", "    phone: +1 555 0100\n")
    result = app.test_cli_runner().invoke(catalog_cli, ["check", "--dir", str(broken)])
    assert result.exit_code == 1
    assert "editors.yml: arpege.contact.phone: invalid French phone number" in result.output
    assert "1 problem(s)" in result.output
