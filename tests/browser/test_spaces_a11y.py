"""Accessibility of the developers', instructors' and administrators' pages (axe-core)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.a11y import check_page
from tests.browser.conftest import sign_in


def test_developer_pages(page, live_server):
    sign_in(page, live_server, "demo-fournisseur")
    for path, name in (
        ("/developpeurs/applications", "dev-applications"),
        ("/developpeurs/documentation", "dev-documentation"),
        ("/developpeurs/webhooks", "dev-webhooks"),
        ("/developpeurs/webhooks/nouveau", "dev-webhook-new"),
    ):
        page.goto(live_server(path))
        check_page(page, name)
    for box in page.get_by_role("checkbox").all():
        box.uncheck(force=True)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Cochez au moins un événement.").first).to_be_visible()
    check_page(page, "dev-webhook-new-errors")
    page.goto(live_server("/developpeurs/applications"))
    page.get_by_role("button", name="Créer l’application").click()
    expect(page.get_by_text("Indiquez un nom.").first).to_be_visible()
    check_page(page, "dev-applications-errors")


def test_instruction_settings_and_templates(page, live_server):
    sign_in(page, live_server, "demo-instructeur")
    for path, name in (
        ("/instruction/tableau-de-bord/habilitations", "instruction-habilitations"),
        ("/instruction/api_particulier/modeles", "instruction-templates"),
        ("/instruction/parametres", "instruction-settings"),
    ):
        page.goto(live_server(path))
        check_page(page, name)


def test_admin_pages(page, live_server):
    sign_in(page, live_server, "demo-admin")
    for path, name in (
        ("/admin/taches", "admin-jobs"),
        ("/admin/clients", "admin-clients"),
        ("/instruction/api_particulier/modeles/nouveau", "admin-template-new"),
        ("/instruction/api_particulier/droits", "admin-rights"),
        ("/dev/courriels", "dev-mailbox"),
    ):
        page.goto(live_server(path))
        check_page(page, name)
