"""Sign-in through the identity provider's page, as a real agent does it."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.a11y import check_page
from tests.browser.conftest import sign_in


def test_ccas_agent_signs_in_and_sees_their_account(page, live_server):
    sign_in(page, live_server, "demo-agent-ccas")

    expect(page).to_have_url(live_server("/compte"))
    expect(page.get_by_role("heading", level=1, name="Mon compte")).to_be_visible()
    expect(page.get_by_text("Vous êtes connecté en tant que Camille Dupont.")).to_be_visible()
    expect(page.get_by_role("cell", name="26920023400012")).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("button", name="Se déconnecter")).to_be_visible()
    check_page(page, "compte")
