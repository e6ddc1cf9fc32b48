"""The outbox worker next to the web app on one SQLite file (issue 16: no lost write).

A delivery reads in a transaction that does not take the write lock (it waits for another
server meanwhile); when someone else writes during the call, SQLite refuses that stale
transaction's first write at once (``database is locked``). The outcome must be written in
a transaction of its own, which waits for the lock and sees the latest data.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug import Response

from datapass import create_app, outbox
from datapass.extensions import db
from datapass.models.outbox import JOB_DONE, OutboxJob
from datapass.models.webhook_endpoint import WebhookAttempt
from tests.support.webhooks import make_webhook


@pytest.fixture
def file_app(tmp_path, httpserver):
    """The app on its own SQLite file: real commits, several connections."""
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'worker.sqlite3'}"},
        environ={
            "DATAPASS_ENV": "test",
            "INSTANCE_DIR": str(tmp_path / "instance"),
            "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1",
            "WEBHOOK_ALLOWED_PORTS": str(httpserver.port),
        },
    )
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_a_delivery_records_its_outcome_although_the_web_app_wrote_meanwhile(file_app, httpserver):
    webhook = make_webhook(httpserver, events=["submit"])
    job = outbox.enqueue("webhook", {"webhook_id": webhook.id, "event": "submit", "body": "{}"})
    db.session.commit()
    job_id = job.id

    def receive(_request):
        # While the worker waits for the answer, the web app commits a write (another
        # connection: the server's thread), here a new job to deliver later.
        with file_app.app_context():
            outbox.enqueue("email", {"to": "x@example.fr"})
            db.session.commit()
        return Response("{}", status=200, content_type="application/json")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(receive)
    [claimed] = outbox.claim("worker-1")
    assert claimed == job_id

    assert outbox.run_job(job_id, "worker-1") == JOB_DONE

    db.session.remove()
    assert db.session.get(OutboxJob, job_id).state == JOB_DONE
    assert db.session.scalar(select(func.count()).select_from(WebhookAttempt)) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxJob)) == 2
