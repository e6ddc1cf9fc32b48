"""The administrators' support pages with axe-core: users, a user, an organisation, the
journal, and the impersonation banner (started with a reason, then stopped)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.a11y import check_page
from tests.browser.conftest import sign_in


def test_admin_support_pages(page, live_server):
    sign_in(page, live_server, "demo-admin")
    page.goto(live_server("/admin/utilisateurs?q=26920023400012"))
    check_page(page, "admin-users")
    page.get_by_role("link", name="Camille Dupont").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Camille Dupont")
    check_page(page, "admin-user")

    page.get_by_role("button", name="Se connecter en tant que").click()
    expect(page.get_by_text("Indiquez le motif.").first).to_be_visible()
    check_page(page, "admin-user-errors")
    page.get_by_label("Motif de la connexion en tant que cette personne").fill("Ticket 4242")
    page.get_by_role("button", name="Se connecter en tant que").click()
    banner = page.get_by_role("region", name="Vous agissez en tant que Camille Dupont")
    expect(banner).to_be_visible()
    check_page(page, "impersonation-banner")
    banner.get_by_role("button", name="Arrêter").click()
    expect(page.get_by_text("Vous agissez de nouveau en votre nom.")).to_be_visible()

    page.get_by_role("link", name="Ses actions dans le journal d’administration").click()
    page.goto(live_server("/admin/journal"))
    expect(
        page.get_by_role("cell", name="Fin d’une connexion « en tant que »").first
    ).to_be_visible()
    check_page(page, "admin-journal")
    page.goto(live_server("/admin/utilisateurs?q=26920023400012"))
    page.get_by_role("link", name="CCAS", exact=False).first.click()
    check_page(page, "admin-organization")
    page.get_by_role("button", name="Transférer la demande").click()
    expect(page.get_by_text("Indiquez le SIRET de destination.").first).to_be_visible()
    check_page(page, "admin-organization-errors")
