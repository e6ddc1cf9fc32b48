"""Documents' malware scan as applicants and instructors see it (clamd: a local test server)."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

from datapass import outbox
from datapass.catalog import get_catalog
from datapass.models import AuthorizationRequest
from datapass.services import documents
from tests.support.authorization_requests import submitted_request
from tests.support.clamd import EICAR, ClamdServer
from tests.support.http import reload
from tests.support.wizard import start, upload_documents

NBSP = "\u00a0"
FORM_UID = "api-particulier-aides-sociales-ccas-dont-facultatives"
PENDING = "Analyse en cours"
CLEAN = "Aucun virus détecté"
DANGEROUS = f"Fichier dangereux{NBSP}: téléchargement bloqué"


def pdf_carrying(payload: bytes) -> bytes:
    return b"%PDF-1.4\n%" + payload + b"\n1 0 obj<</Type/Catalog>>endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def clamd_server(app, monkeypatch):
    with ClamdServer() as server:
        monkeypatch.setitem(app.config, "MALWARE_SCANNER", "clamd")
        monkeypatch.setitem(app.config, "CLAMD_ADDRESS", server.address)
        yield server


def upload(client, request_id, content, name):
    return upload_documents(client, request_id, [(io.BytesIO(content), name)])


def test_the_applicant_sees_the_scan_and_cannot_download_a_dangerous_file(client, db, login_as):
    login_as()
    request_id = start(client, get_catalog().form(FORM_UID))
    upload(client, request_id, pdf_carrying(b"propre"), "propre.pdf")
    upload(client, request_id, pdf_carrying(EICAR), "piege.pdf")
    dangerous, clean = sorted(
        reload(AuthorizationRequest, request_id).documents, key=lambda d: d.filename
    )
    url = f"/demandes/{request_id}/documents/{{}}"
    step = f"/demandes/{request_id}/etapes/cadre-juridique"

    page = client.get(step).text
    assert page.count(PENDING) == 2
    assert url.format(clean.id) not in page and url.format(dangerous.id) not in page
    refused = client.get(url.format(clean.id), headers={"Referer": f"http://localhost{step}"})
    assert refused.status_code == 303
    assert "en cours d’analyse antivirus" in client.get(step).text

    assert outbox.drain() == 4  # two scans, two délibération analyses
    page = client.get(step).text
    assert CLEAN in page and DANGEROUS in page and PENDING not in page
    assert url.format(clean.id) in page and url.format(dangerous.id) not in page
    download = client.get(url.format(clean.id))
    assert download.status_code == 200
    download.close()
    blocked = client.get(url.format(dangerous.id))
    assert blocked.status_code == 303
    assert EICAR not in blocked.data
    assert "son téléchargement est bloqué" in client.get(step).text


def test_the_instructor_sees_the_verdict_and_cannot_download_a_dangerous_file(client, db, login_as):
    authorization_request = submitted_request(form_uid=FORM_UID)
    upload_file = FileStorage(stream=io.BytesIO(pdf_carrying(EICAR)), filename="piege.pdf")
    [document], _ = documents.attach_documents(
        authorization_request, "cadre_juridique_document", [upload_file], user=None
    )
    db.session.commit()
    outbox.drain()
    login_as(roles=["api_particulier:instructor"])
    page = client.get(f"/instruction/demandes/{authorization_request.id}").text
    assert "piege.pdf" in page and DANGEROUS in page
    download_url = f"/demandes/{authorization_request.id}/documents/{document.id}"
    assert download_url not in page
    blocked = client.get(download_url)
    assert blocked.status_code == 303 and EICAR not in blocked.data
