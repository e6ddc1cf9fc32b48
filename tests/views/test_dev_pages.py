"""The development blueprint (mailbox, webhook receiver): there outside production only."""

from __future__ import annotations

from datapass import create_app


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


def test_the_dev_mailbox_is_hidden_when_emails_go_out_by_smtp(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.gouv.fr")
    assert client.get("/dev/courriels").status_code == 404
    assert client.get("/dev/courriels/x").status_code == 404
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    assert client.get("/dev/courriels").status_code == 200
