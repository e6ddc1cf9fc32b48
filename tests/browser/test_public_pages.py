"""Every public page, as a visitor's browser renders it, passes axe with no violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import check_page

PUBLIC_PAGES = [
    ("accueil", "/", 200),
    ("accessibilite", "/accessibilite", 200),
    ("mentions-legales", "/mentions-legales", 200),
    ("donnees-personnelles", "/donnees-personnelles", 200),
    ("plan-du-site", "/plan-du-site", 200),
    ("connexion", "/connexion", 200),
    ("erreur-404", "/page-qui-n-existe-pas", 404),
]


@pytest.mark.parametrize(("name", "path", "status"), PUBLIC_PAGES, ids=[p[0] for p in PUBLIC_PAGES])
def test_public_page_has_no_accessibility_violation(page, name, path, status):
    response = page.goto(path)

    assert response.status == status
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    check_page(page, name)


def test_home_page_fits_a_320px_wide_screen(page):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/")

    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth,"
        " client: document.documentElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"], f"horizontal scroll at 320 px: {widths}"
    check_page(page, "accueil-320px")
