"""The délibération checked against the data, in Chromium: the agent uploads the Chaville
délibération, the worker reads it, the summary warns; the instructor sees each data item's
verdict and follows the request. Every page visited is checked by axe-core."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from datapass.extensions import db
from tests.browser.a11y import check_page
from tests.browser.conftest import sign_in
from tests.browser.helpers import AGENT, INSTRUCTOR, button, submitted_request, tick
from tests.support.deliberations import chaville_pdf

EXPOSE_ONLY = "mentionnée seulement dans l’exposé"


def run_the_worker(live_server, request_id: int) -> None:
    """What ``flask jobs work`` does with this request's délibération job."""
    from datapass import outbox
    from datapass.models import Document, OutboxJob
    from datapass.models.base import utcnow
    from datapass.services import deliberation_analysis

    with live_server.app.app_context():
        key = db.session.scalar(
            select(Document.storage_key).where(Document.authorization_request_id == request_id)
        )
        job = db.session.scalar(
            select(OutboxJob).where(
                OutboxJob.kind == deliberation_analysis.JOB_KIND,
                OutboxJob.idempotency_key == f"deliberation-{key}",
            )
        )
        job.locked_by, job.locked_at = "browser-test", utcnow()  # claimed, as ``claim`` does
        db.session.commit()
        assert outbox.run_job(job.id, "browser-test") == "done"


def test_the_chaville_deliberation_against_the_four_caf_items(open_page, live_server, tmp_path):
    pdf = tmp_path / "DEL03_2023_0017.pdf"
    pdf.write_bytes(chaville_pdf())
    request_id = submitted_request(live_server, submit=False)

    agent = open_page()
    sign_in(agent, live_server, AGENT)
    agent.goto(live_server(f"/demandes/{request_id}/etapes/cadre-juridique"))
    agent.get_by_label(re.compile("^Délibération ou texte juridique")).set_input_files(pdf)
    button(agent, "Suivant").click()
    run_the_worker(live_server, request_id)

    agent.goto(live_server(f"/demandes/{request_id}/etapes/synthese"))
    warning = agent.locator("#deliberation-analysis")
    expect(warning).to_contain_text(
        "Données non approuvées par la délibération\u00a0: Identités allocataire et conjoint, "
        "Identités enfants, Adresse du foyer."
    )
    check_page(agent, "deliberation-summary-warning")
    tick(agent, "J’ai lu et j’accepte les conditions générales d’utilisation")
    tick(agent, "Je confirme que le délégué à la protection des données")
    button(agent, "Soumettre la demande d’habilitation").click()
    expect(agent.get_by_text("Votre demande est en cours d’instruction.")).to_be_visible()

    instructor = open_page()
    sign_in(instructor, live_server, INSTRUCTOR)
    instructor.goto(live_server(f"/instruction/demandes/{request_id}"))
    table = instructor.get_by_role("table", name=re.compile("^Données demandées"))
    expect(table.get_by_role("row", name=re.compile("Quotient familial"))).to_contain_text(
        "approuvée"
    )
    expect(table.get_by_role("row").filter(has_text=EXPOSE_ONLY)).to_have_count(3)
    check_page(instructor, "deliberation-instruction-request")

    button(instructor, "Marquer comme suivie").click()
    expect(instructor.get_by_role("button", name="Ne plus suivre")).to_be_visible()
    check_page(instructor, "deliberation-instruction-followed")
