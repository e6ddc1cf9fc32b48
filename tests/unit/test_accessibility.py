"""The RGAA self-assessment (datapass/data/rgaa.yml): whole, on every page of the main
journeys, and its rate computed by the RGAA method."""

from __future__ import annotations

import re
from html import unescape

import pytest
import yaml

from datapass import blocks
from datapass.services import accessibility
from datapass.services.accessibility import AUDIT_PATH, parse_audit

# Issue 18 item 5: the choice page, every wizard step, the summary, the dashboard, the
# request and habilitation pages, the instruction queue and request page.
WIZARD_STEPS = {
    "etape-" + blocks.STEP_SLUGS[blocks.ORGANIZATION],
    *(f"etape-{block.slug}" for block in blocks.REGISTRY.values()),
    "etape-" + blocks.STEP_SLUGS[blocks.SUMMARY],
}
REQUIRED_PAGES = {
    "choix",
    *WIZARD_STEPS,
    "tableau-de-bord",
    "demande",
    "habilitation",
    "instruction-file",
    "instruction-demande",
}
# RGAA 4.1: criteria per theme.
THEMES = {1: 9, 2: 2, 3: 3, 4: 13, 5: 8, 6: 2, 7: 5, 8: 10, 9: 4, 10: 14, 11: 13, 12: 11, 13: 12}


def test_the_self_assessment_covers_every_page_of_the_main_journeys():
    audit = accessibility.load_audit()
    assert {page.id for page in audit.pages} >= REQUIRED_PAGES
    for criterion in audit.criteria:
        assert set(criterion.results) == {page.id for page in audit.pages}, criterion.number
        for result in criterion.results.values():
            assert result.status in accessibility.STATUSES and result.why


def test_it_holds_the_106_criteria_of_rgaa_4_1():
    audit = accessibility.load_audit()
    numbers = [criterion.number for criterion in audit.criteria]
    expected = [f"{theme}.{n}" for theme, count in THEMES.items() for n in range(1, count + 1)]
    assert numbers == expected
    assert len(numbers) == accessibility.CRITERIA_COUNT
    for criterion in audit.criteria:
        assert criterion.title.endswith("?") and criterion.theme


def test_each_page_of_the_sample_is_a_real_route(app):
    adapter = app.url_map.bind("localhost")
    for page in accessibility.load_audit().pages:
        url = page.url.replace("<id>", "1")
        endpoint, _ = adapter.match(url, method="GET")
        assert endpoint, page.url


def test_the_rate_follows_the_rgaa_method():
    page = {"id": "p", "title": "P", "url": "/p"}
    data = {
        "audit": {
            "date": "2026-12-01",
            "reference": "RGAA 4.1.2",
            "auditor": "nous",
            "tools": [],
            "technologies": [],
        },
        "pages": [page, {**page, "id": "q"}],
        "criteria": [
            {"number": "1.1", "theme": "T", "title": "A ?", "all": {"status": "C", "why": "ok"}},
            # Failing on one page only: non conform over the sample.
            {
                "number": "1.2",
                "theme": "T",
                "title": "B ?",
                "all": {"status": "C", "why": "ok"},
                "pages": {"q": {"status": "NC", "why": "raté"}},
            },
            # Conform where it applies.
            {
                "number": "1.3",
                "theme": "T",
                "title": "C ?",
                "all": {"status": "NA", "why": "rien"},
                "pages": {"p": {"status": "C", "why": "ok"}},
            },
            {"number": "1.4", "theme": "T", "title": "D ?", "all": {"status": "NA", "why": "-"}},
        ],
    }
    audit = parse_audit(data)
    assert [c.status for c in audit.criteria] == ["C", "NC", "C", "NA"]
    assert audit.rate == pytest.approx(200 / 3)
    assert audit.rate_label == "66,6"  # rounded down
    assert audit.state == accessibility.PARTIALLY
    [failed] = audit.non_conform()
    assert failed.failures()[0][0] == "q"


def test_a_page_without_a_result_is_refused():
    data = yaml.safe_load(AUDIT_PATH.read_text(encoding="utf-8"))
    del data["criteria"][0]["all"]
    with pytest.raises(ValueError, match="no result for the page"):
        parse_audit(data)


def expected_rate_from_the_file() -> str:
    """The rate computed here from the YAML itself, by the RGAA method."""
    data = yaml.safe_load(AUDIT_PATH.read_text(encoding="utf-8"))
    pages = [page["id"] for page in data["pages"]]
    conform = failed = 0
    for criterion in data["criteria"]:
        statuses = {
            (criterion.get("pages") or {}).get(page, criterion.get("all"))["status"]
            for page in pages
        }
        if "NC" in statuses:
            failed += 1
        elif "C" in statuses:
            conform += 1
    rate = int(1000 * conform / (conform + failed)) / 10
    return f"{rate:.1f}".replace(".", ",")


def test_the_declaration_states_the_rate_computed_from_the_data(client):
    html = client.get("/accessibilite").text
    text = re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))
    audit = accessibility.load_audit()
    assert f"révèle que {expected_rate_from_the_file()}\u00a0% des critères" in text
    assert f"DataPass est {audit.state} avec le référentiel" in text
    for criterion in audit.non_conform():
        assert f"Critère {criterion.number} " in text
        for why, _ in criterion.failures_by_reason():
            assert why in text
    for page in audit.pages:
        assert page.title in text
    for exemption in audit.exemptions:
        assert exemption in text
    assert "Défenseur des droits" in html and "mailto:" in html
    assert "axe-core" in text and "Chromium" in text
