"""Every wizard step on a 320 px wide screen (WCAG 1.4.10 Reflow): no horizontal scroll.

Each step is seen empty, then with its errors (« Suivant » on the empty step), on the
« Demande libre » démarche, which has every kind of step; then a submitted request and the
dashboard. Each page is checked by axe-core too.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.a11y import check_page
from tests.browser.conftest import sign_in
from tests.browser.helpers import AGENT, button, request_number, submitted_request

FORM = "api-particulier"
SLUGS = [
    "organisation",
    "projet",
    "cadre-juridique",
    "modalites",
    "donnees",
    "donnees-personnelles",
    "contacts",
    "synthese",
]
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def assert_no_horizontal_scroll(page, name: str) -> None:
    page.wait_for_load_state("load")  # the style sheets applied
    overflow = page.evaluate(OVERFLOW)
    assert overflow <= 0, f"{name}: {overflow} px of horizontal scroll at 320 px"


def start_draft(open_page, live_server):
    """A fresh « Demande libre » draft, on a 320 px wide screen: (page, request number)."""
    page = open_page(viewport={"width": 320, "height": 720})
    sign_in(page, live_server, AGENT)
    page.goto(live_server(f"/formulaires/{FORM}/demande/nouveau"))
    button(page, "Débuter ma demande").click()
    return page, re.search(r"/demandes/(\d+)/etapes/", page.url).group(1)


def test_every_step_fits_a_320_px_screen(open_page, live_server):
    page, number = start_draft(open_page, live_server)
    for index, slug in enumerate(SLUGS, start=1):
        page.goto(live_server(f"/demandes/{number}/etapes/{slug}"))
        expect(page.get_by_text(f"Étape {index} sur {len(SLUGS)}")).to_be_visible()
        assert_no_horizontal_scroll(page, slug)
        check_page(page, f"small-{index}-{slug}")
        if slug == "synthese":
            break  # with its errors: test_summary_errors_fit_a_320_px_screen
        if slug == "organisation":
            page.get_by_label(re.compile("^Numéro SIRET")).fill("12345678901234")
        if slug == "contacts":
            # The demo CCAS's contacts are remembered from its seeded request: emptied, to
            # see every card with its errors.
            for box in page.get_by_role("textbox").all():
                box.fill("")
        button(page, "Suivant").click()
        expect(page).to_have_title(re.compile(r"^Erreur\s:\s"))
        assert_no_horizontal_scroll(page, f"{slug} with its errors")
        check_page(page, f"small-{index}-{slug}-errors")


def test_summary_errors_fit_a_320_px_screen(open_page, live_server):
    page, number = start_draft(open_page, live_server)
    page.goto(live_server(f"/demandes/{number}/etapes/synthese"))
    button(page, "Soumettre la demande d’habilitation").click()
    expect(page).to_have_title(re.compile(r"^Erreur\s:\s"))
    expect(page.get_by_text("Indiquez le nom du projet.", exact=True)).to_be_visible()
    assert_no_horizontal_scroll(page, "synthese with its errors")
    check_page(page, "small-8-synthese-errors")


def test_a_submitted_request_fits_a_320_px_screen(open_page, live_server):
    number = submitted_request(live_server)
    page = open_page(viewport={"width": 320, "height": 720})
    sign_in(page, live_server, AGENT)
    page.goto(live_server(f"/demandes/{number}"))
    assert request_number(page) == number
    assert_no_horizontal_scroll(page, "the request's page")
    check_page(page, "small-request")
    page.goto(live_server("/tableau-de-bord"))
    expect(page.get_by_role("heading", level=1, name="Tableau de bord")).to_be_visible()
    assert_no_horizontal_scroll(page, "the dashboard")
    check_page(page, "small-dashboard")
