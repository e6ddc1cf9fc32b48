"""The accessibility checker itself: it must catch what it is there to catch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.a11y import SCREENSHOTS, AccessibilityError, check_page

BROKEN_PAGE = Path(__file__).with_name("broken_page.html")


def test_check_page_reports_each_violation(page):
    page.set_content(BROKEN_PAGE.read_text(encoding="utf-8"))

    with pytest.raises(AccessibilityError) as caught:
        check_page(page, "broken-page")

    message = str(caught.value)
    assert {v["id"] for v in caught.value.violations} >= {"label", "color-contrast"}
    assert "- label [critical] Form elements must have labels" in message
    assert "- color-contrast [serious]" in message
    assert 'at "input"' in message
    assert 'at "p"' in message
    assert "Element has insufficient color contrast" in message
    assert (SCREENSHOTS / "broken-page.png").stat().st_size > 0


def test_check_page_passes_a_clean_page(page):
    page.set_content(
        '<!doctype html><html lang="fr"><head><title>Propre</title></head>'
        "<body><main><h1>Propre</h1><label for=n>Nom</label> <input id=n></main></body></html>"
    )
    check_page(page, "clean-page")
