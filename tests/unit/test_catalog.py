"""The shipped catalogue, its checks, and ``flask catalog check``."""

from __future__ import annotations

import shutil

import pytest

from datapass import create_app
from datapass.catalog import DEFAULT_DIR, CatalogError, load_catalog
from datapass.catalog.cli import catalog_cli

SIX_FORMS = [
    "api-particulier",
    "api-particulier-aides-sociales-ccas",
    "api-particulier-aides-sociales-ccas-dont-facultatives",
    "api-particulier-ccas-arche-mc2",
    "api-particulier-ccas-arpege",
    "api-particulier-pass-famille",
]
CNAF = ["cnaf_quotient_familial", "cnaf_allocataires", "cnaf_enfants", "cnaf_adresse"]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(DEFAULT_DIR)


@pytest.fixture
def broken(tmp_path):
    """A writable copy of the shipped catalogue."""
    directory = tmp_path / "catalog"
    shutil.copytree(DEFAULT_DIR, directory)
    return directory


def replace(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def problems(directory) -> list[str]:
    with pytest.raises(CatalogError) as error:
        load_catalog(directory)
    return [str(issue) for issue in error.value.issues]


def test_the_six_demarches_are_shipped(catalog):
    assert list(catalog.forms) == SIX_FORMS
    assert [form.uid for form in catalog.public_forms()] == SIX_FORMS
    assert catalog.form("api-particulier").default


def test_api_particulier_scopes(catalog):
    definition = catalog.definitions["api_particulier"]
    assert len(definition.scopes) == 87  # 61 current, 24 DGFIP, 2 retired
    assert len(definition.active_scopes) == 85
    retired = {scope.value for scope in definition.scopes if scope.retired}
    assert retired == {"dgfip_avis_imposition", "dgfip_adresse"}
    assert definition.scope("cnaf_quotient_familial").label == "Quotient familial CAF & MSA"
    assert definition.scope("dgfip_revenu_fiscal_reference").group.startswith("DGFIP")
    assert "responsable_traitement" in definition.contact_types


def test_editor_forms_lock_their_scopes(catalog):
    millesime = catalog.form("api-particulier-ccas-arche-mc2")
    assert millesime.editor.name == "Arche MC2"
    assert millesime.static_blocks == ("modalities", "scopes")
    assert millesime.initialize_with["scopes"] == tuple(CNAF)
    assert millesime.scopes_config.disabled == frozenset(CNAF)
    assert millesime.offered_scope_values() == frozenset(CNAF)
    sonate = catalog.form("api-particulier-ccas-arpege")
    assert sonate.offered_scope_values() == {"cnaf_quotient_familial", "cnaf_allocataires"}


def test_free_form_hides_france_connect_and_retired_scopes(catalog):
    offered = catalog.form("api-particulier").offered_scope_values()
    assert "openid" not in offered and "family_name" not in offered
    assert "dgfip_avis_imposition" not in offered
    assert "dgfip_montant_impot" in offered and "cnaf_quotient_familial" in offered


def test_legal_frameworks_prefill_the_nature(catalog):
    ccas = catalog.form("api-particulier-aides-sociales-ccas")
    # Pre-filled but a step: the DGFIP data need a délibération uploaded there.
    assert not ccas.is_locked("legal") and ccas.deliberation_required_for == ("dgfip",)
    assert "L123-5" in ccas.initialize_with["cadre_juridique_nature"]
    assert ccas.initialize_with["cadre_juridique_url"].startswith("https://www.legifrance")
    assert (
        "L114-8"
        in catalog.form("api-particulier-pass-famille").initialize_with["cadre_juridique_nature"]
    )


def test_choice_tree_queries(catalog):
    assert [editor.name for editor in catalog.editors_for("api_particulier")] == [
        "Arche MC2",
        "Arpège",
    ]
    own = catalog.forms_for("api_particulier", without_editor=True, use_case="ccas")
    assert [form.uid for form in own] == SIX_FORMS[1:3]
    by_editor = catalog.forms_for("api_particulier", editor_id="arpege")
    assert [form.uid for form in by_editor] == ["api-particulier-ccas-arpege"]


@pytest.mark.parametrize(
    ("legacy", "uid"),
    [
        ("ccas", "api-particulier-aides-sociales-ccas"),
        ("ccas-up", "api-particulier-ccas-arche-mc2"),
        ("ccas-ArcheMC2", "api-particulier-ccas-arche-mc2"),
        ("ccas-arpege", "api-particulier-ccas-arpege"),
        ("pass-famille", "api-particulier-pass-famille"),
        ("default", "api-particulier"),
    ],
)
def test_v1_links_map_to_forms(catalog, legacy, uid):
    assert catalog.form_for_legacy_id("api_particulier", legacy).uid == uid


def test_unknown_v1_link(catalog):
    assert catalog.form_for_legacy_id("api_particulier", "agora-plus") is None


def test_the_version_changes_with_the_files(catalog, broken):
    assert load_catalog(broken).version == catalog.version
    replace(broken / "forms/api_particulier.yml", "name: Demande libre", "name: Demande ouverte")
    assert load_catalog(broken).version != catalog.version


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "forms/api_particulier.yml",
            "disabled: [cnaf_quotient_familial, cnaf_allocataires]\n",
            "disabled: [cnaf_quotient_familial, cnaf_inconnu]\n",
            "forms/api_particulier.yml: api-particulier-ccas-arpege.scopes_config.disabled[1]: "
            "unknown scope 'cnaf_inconnu'",
        ),
        (
            "forms/api_particulier.yml",
            "editor: arpege",
            "editor: sonate",
            "forms/api_particulier.yml: api-particulier-ccas-arpege.editor: unknown editor",
        ),
        (
            "forms/api_particulier.yml",
            "steps: [basic_infos, legal, scopes, personal_data, contacts]",
            "steps: [basic_infos, legal, scopes, personal_data, contacts, summary]",
            "api-particulier-pass-famille.steps[5]: unknown block 'summary' (implicit",
        ),
        (
            "forms/api_particulier.yml",
            "    legal_framework: SOCLE\n",
            "    legal_framework: SOCLE\n    colour: blue\n",
            "forms/api_particulier.yml: api-particulier-pass-famille.colour: unknown key",
        ),
        (
            "forms/api_particulier.yml",
            "      intitule: Aides sociales des CCAS\n",
            "      intitule: Aides sociales des CCAS\n      contact_technique_emial: x@y.fr\n",
            "initialize_with.contact_technique_emial: unknown field",
        ),
        (
            "editors.yml",
            'siret: "35142130000036"',
            'siret: "35142130000037"',
            "editors.yml: arpege.siret: invalid SIRET '35142130000037'",
        ),
        (
            "definitions/api_particulier.yml",
            "  cgu_url: https://particulier.api.gouv.fr/cgu",
            "  cgu_url: particulier.api.gouv.fr/cgu",
            "definitions/api_particulier.yml: links.cgu_url: bad URL",
        ),
        (
            "legal_frameworks.yml",
            "CANTINES:\n  label: Tarification de la restauration scolaire\n",
            "CANTINES:\n  label: Tarification de la restauration scolaire\n  label: Bis\n",
            "YAML syntax error: duplicate key 'label'",
        ),
    ],
)
def test_a_broken_catalogue_names_file_and_key(broken, file, old, new, expected):
    replace(broken / file, old, new)
    found = problems(broken)
    assert any(expected in problem for problem in found), found


def test_every_problem_is_listed_at_once(broken):
    replace(broken / "editors.yml", 'siret: "38251931200088"', 'siret: "123"')
    replace(broken / "forms/api_particulier.yml", "use_case: ccas", "use_case: CCAS")
    found = problems(broken)
    assert len(found) == 2, found


def test_flask_catalog_check(app, broken):
    runner = app.test_cli_runner()
    result = runner.invoke(catalog_cli, ["check"])
    assert result.exit_code == 0, result.output
    assert "OK: 1 definition(s), 87 scope(s), 6 form(s), 2 editor(s)" in result.output

    replace(broken / "forms/api_particulier.yml", "editor: arpege", "editor: sonate")
    result = runner.invoke(catalog_cli, ["check", "--dir", str(broken)])
    assert result.exit_code == 1
    assert "forms/api_particulier.yml: api-particulier-ccas-arpege.editor" in result.output
    assert "1 problem(s)" in result.output


def test_the_app_refuses_an_invalid_catalogue(broken, tmp_path):
    replace(broken / "forms/api_particulier.yml", "editor: arpege", "editor: sonate")
    with pytest.raises(CatalogError):
        create_app(
            {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"},
            environ={
                "DATAPASS_ENV": "test",
                "INSTANCE_DIR": str(tmp_path / "instance"),
                "CATALOG_DIR": str(broken),
            },
        )


def test_a_definition_may_shorten_its_tokens_lifetime(broken):
    path = broken / "definitions/api_particulier.yml"
    replace(path, "public: true\n", "public: true\ntoken_lifetime_days: 365\n")
    assert load_catalog(broken).definitions["api_particulier"].token_lifetime_days == 365
    replace(path, "token_lifetime_days: 365", "token_lifetime_days: 900")
    assert any("token_lifetime_days" in problem for problem in problems(broken))
