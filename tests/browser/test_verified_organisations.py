"""An agent whose identity provider is not trusted for SIRETs: the administrator's list, the
instructor's badge and check at approval, in Chromium (with axe on each page)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.a11y import check_page
from tests.browser.conftest import sign_in
from tests.browser.helpers import AGENT_SIRET, INSTRUCTOR, button, expect_errors, submitted_request
from tests.support.oidc import register_identity

UNTRUSTED_AGENT = "agent-fournisseur-inconnu"
CHECK = "J’ai vérifié que le demandeur agit pour cette organisation"


def test_an_unverified_applicant_is_checked_before_approval(open_page, live_server):
    register_identity(
        live_server.idp_url,
        UNTRUSTED_AGENT,
        {
            "email": "agent.inconnu@ccas-villedemo.fr",
            "given_name": "Lou",
            "usual_name": "Bernard",
            "siret": AGENT_SIRET,
            "idp_id": "fournisseur-inconnu",
        },
    )
    agent = open_page()
    sign_in(agent, live_server, UNTRUSTED_AGENT)  # creates the (unverified) membership
    agent.goto(live_server("/compte"))
    expect(agent.get_by_text("Non vérifié", exact=True)).to_be_visible()
    number = submitted_request(live_server, sub=UNTRUSTED_AGENT)

    # The administrator sees the membership; verifying it needs a reason.
    admin = open_page()
    sign_in(admin, live_server, "demo-admin")
    admin.goto(live_server("/admin/rattachements"))
    expect(admin.get_by_role("cell", name="agent.inconnu@ccas-villedemo.fr")).to_be_visible()
    check_page(admin, "admin-memberships")
    admin.get_by_role("link", name="Vérifier", exact=True).first.click()
    expect(admin.get_by_role("heading", level=1, name=re.compile("agent.inconnu"))).to_be_visible()
    check_page(admin, "admin-membership")
    button(admin, "Vérifier").click()
    expect_errors(admin)
    check_page(admin, "admin-membership-errors")

    # Not verified: the instructor sees the badge and must tick the check to approve.
    instructor = open_page()
    sign_in(instructor, live_server, INSTRUCTOR)
    instructor.goto(live_server(f"/instruction/demandes/{number}"))
    expect(instructor.get_by_text("Rattachement non vérifié").first).to_be_visible()
    check_page(instructor, "instruction-request-unverified")
    instructor.get_by_role("link", name="Valider", exact=True).click()
    button(instructor, "Valider").click()
    expect_errors(instructor)
    expect(instructor.get_by_text(re.compile("cochez la case")).first).to_be_visible()
    check_page(instructor, "instruction-approve-unchecked")
    instructor.get_by_label(re.compile(f"^{CHECK}")).check(force=True)
    button(instructor, "Valider").click()
    expect(instructor.get_by_text(re.compile("l’habilitation est active"))).to_be_visible()
    expect(
        instructor.get_by_text(
            re.compile("a vérifié que le demandeur agit pour cette organisation")
        )
    ).to_be_visible()
    expect(instructor.get_by_text("Rattachement non vérifié")).to_have_count(0)
