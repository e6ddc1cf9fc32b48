"""The development blueprint (mailbox, webhook receiver): there outside production only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datapass import create_app
from datapass.services import webhook_delivery
from tests.support.webhooks import make_webhook


def production_app(tmp_path):
    return create_app(
        environ={
            "DATAPASS_ENV": "production",
            "SECRET_KEY": "s" * 40,
            "DATABASE_URL": "postgresql://u@127.0.0.1:1/none",
            "OIDC_DISCOVERY_URL": "https://idp.example.gouv.fr/.well-known/openid-configuration",
            "MAIL_SERVER": "smtp.example.gouv.fr",
            "CLAMD_ADDRESS": "tcp://clamav.example.gouv.fr:3310",
            "INSTANCE_DIR": str(tmp_path),
        }
    )


def test_the_dev_blueprint_is_absent_in_production(tmp_path):
    app = production_app(tmp_path)
    assert "dev" not in app.blueprints
    assert not any(rule.rule.startswith("/dev/") for rule in app.url_map.iter_rules())
    client = app.test_client()
    base_url = "https://datapass.example.gouv.fr"
    assert client.get("/dev/courriels", base_url=base_url).status_code == 404
    assert client.get("/dev/courriels/x", base_url=base_url).status_code == 404
    assert client.post("/dev/webhooks/recepteur", base_url=base_url).status_code == 404


def test_the_dev_blueprint_is_there_outside_production(app):
    assert "dev" in app.blueprints
    assert {"/dev/courriels", "/dev/courriels/<name>", "/dev/webhooks/recepteur"} <= {
        rule.rule for rule in app.url_map.iter_rules()
    }


def test_the_dev_mailbox_is_hidden_when_emails_go_out_by_smtp(app, client, login_as, monkeypatch):
    login_as(roles=["admin"])
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.gouv.fr")
    assert client.get("/dev/courriels").status_code == 404
    assert client.get("/dev/courriels/x").status_code == 404
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    assert client.get("/dev/courriels").status_code == 200


@pytest.mark.parametrize("path", ["/dev/courriels", "/dev/courriels/x"])
def test_the_dev_mailbox_needs_an_administrator_even_in_development(client, login_as, path):
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/connexion" in anonymous.headers["Location"]
    login_as(roles=["api_particulier:instructor", "api_particulier:developer"])
    assert client.get(path).status_code == 403
    login_as(roles=["admin"])
    assert client.get(path).status_code in (200, 404)  # 404: no such email


def test_the_dev_receiver_takes_only_calls_signed_by_a_known_webhook(app, client, db, httpserver):
    make_webhook(httpserver, secret="b" * 64)
    body = b'{"test": true}'
    headers = {"X-DataPass-Delivery": "ping-1", "Content-Type": "application/json"}
    unsigned = client.post("/dev/webhooks/recepteur", data=body, headers=headers)
    assert unsigned.status_code == 403
    forged = {**headers, "X-Hub-Signature-256": webhook_delivery.signature("c" * 64, body)}
    assert client.post("/dev/webhooks/recepteur", data=body, headers=forged).status_code == 403
    signed = {**headers, "X-Hub-Signature-256": webhook_delivery.signature("b" * 64, body)}
    response = client.post("/dev/webhooks/recepteur", data=body, headers=signed)
    assert response.status_code == 200 and response.get_json() == {"token_id": "dev-ping-1"}
    saved = Path(app.config["INSTANCE_DIR"]) / "webhooks" / "ping-1.json"
    assert json.loads(saved.read_text())["body"] == body.decode()
