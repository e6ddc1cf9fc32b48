"""End-to-end tests in Chromium: the real app and identity provider served on 127.0.0.1.

The browser is Debian's Chromium (/usr/bin/chromium), driven by Playwright, which never
downloads browsers here. The app runs as in production as far as a browser can tell:
CSRF on, real sign-in through the bundled OpenID Connect provider, its own SQLite file
loaded with the demo data. So these tests never use the rollback ``db`` fixture, and
they run once per ``make test``: the PostgreSQL pass skips them.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from flask import Flask
from werkzeug.wrappers import Request, Response

from datapass import create_app
from datapass.demo import DEMO_ORGANIZATIONS, DEMO_USERS
from datapass.extensions import db, oauth
from datapass.local_idp import create_idp_app, demo_claims
from datapass.services.demo import seed_demo_data
from datapass.services.identity import PROVIDER_NAME
from tests.browser.a11y import AXE_PATH
from tests.conftest import ServerThread
from tests.support.sirene import NO_RESULT, recherche_entreprises_answer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OIDC_CLIENT_ID = "datapass-browser"
HERE = Path(__file__).resolve().parent
# Anything that is not one of our servers on 127.0.0.1 (the provider's page links a CDN
# stylesheet): aborted, so the tests never wait on the network.
EXTERNAL_URL = re.compile(r"^(?!https?://127\.0\.0\.1[:/])[a-z-]+://")

# A CCAS that never filed a request, and its agent: the first-time journey (test_measure.py).
FIRST_TIME_ORGANIZATION = {"siret": "26920020000013", "name": "CCAS de Chaville-Test"}
FIRST_TIME_AGENT = {
    "sub": "agent-ccas-premiere-fois",
    "email": "lea.martin@ccas-chaville-test.fr",
    "given_name": "Léa",
    "usual_name": "Martin",
    "phone": "01 41 15 40 00",
    "job_title": "Travailleuse sociale",
    "siret": FIRST_TIME_ORGANIZATION["siret"],
}

# Playwright only downloads browsers from `playwright install`; make sure nothing does.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


def pytest_collection_modifyitems(config, items):
    skip = None
    if os.environ.get("TEST_DATABASE_URL"):
        skip = pytest.mark.skip(
            reason="browser tests run once, in the SQLite pass (the live server has its "
            "own SQLite file whatever TEST_DATABASE_URL says)"
        )
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)
            # werkzeug's development server, in a thread here, leaves a static file open when
            # the browser drops a request it no longer needs (a favicon); not the app's doing.
            item.add_marker(
                pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
            )
            if skip:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch options (--headed, --slowmo) on Debian's Chromium."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make system-test-deps` (apt-get install chromium)"
        )
    headed = browser_type_launch_args.get("headless") is False
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": not headed,
        "args": [arg for arg in CHROMIUM_ARGS if not (headed and arg.startswith("--headless"))],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "locale": "fr-FR", "color_scheme": "light"}


@pytest.fixture
def context(context):
    context.route(EXTERNAL_URL, lambda route: route.abort())
    context.set_default_timeout(10_000)
    return context


@Request.application
def sirene_stand_in(request: Request) -> Response:
    """recherche-entreprises.api.gouv.fr knowing the demo organisations, and nothing else."""
    if request.path.rstrip("/") != "/search":
        return Response(status=404)
    organizations = {org["siret"]: org for org in [*DEMO_ORGANIZATIONS, FIRST_TIME_ORGANIZATION]}
    siret = request.args.get("q", "")
    body = (
        recherche_entreprises_answer(siret, name=organizations[siret]["name"])
        if siret in organizations
        else NO_RESULT
    )
    return Response(json.dumps(body), mimetype="application/json")


@dataclass
class LiveServer:
    url: str
    idp_url: str
    app: Flask
    oauth_client: Any

    def __call__(self, path: str = "/") -> str:
        return urljoin(self.url + "/", path.lstrip("/"))


def _create_live_app(database_url: str, instance: Path, idp_url: str, sirene_url: str):
    """The app and its own OpenID Connect client, leaving authlib's registry as it was.

    authlib's ``OAuth`` registry (``datapass.extensions.oauth``) is one object for the whole
    process and keeps the first client made under a name, so another app in the same test
    session (the ``app`` fixture) would otherwise share our client, or we theirs.
    """
    saved_registry, saved_clients = dict(oauth._registry), dict(oauth._clients)
    saved_app = oauth.app
    oauth._clients.pop(PROVIDER_NAME, None)
    try:
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": database_url},
            environ={
                "DATAPASS_ENV": "test",
                "INSTANCE_DIR": str(instance),
                "OIDC_DISCOVERY_URL": f"{idp_url}/.well-known/openid-configuration",
                "OIDC_CLIENT_ID": OIDC_CLIENT_ID,
                "OIDC_CLIENT_SECRET": "browser-secret",
                "SIRENE_API_URL": sirene_url,
                "SIRENE_TIMEOUT_SECONDS": "1",
            },
        )
        client = oauth._clients[PROVIDER_NAME]
    finally:
        oauth._registry.clear()
        oauth._registry.update(saved_registry)
        oauth._clients.clear()
        oauth._clients.update(saved_clients)
        if saved_app is not None:
            oauth.app = saved_app
    return app, client


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app served on 127.0.0.1 with its own SQLite file, provider and registry stand-in."""
    if not AXE_PATH.exists():
        pytest.fail(f"{AXE_PATH} is missing: run `npm ci` (or `make setup`)")
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    instance = tmp_path_factory.mktemp("browser-instance")
    database_url = f"sqlite:///{instance / 'browser.sqlite3'}"
    with (
        ServerThread(
            create_idp_app(demo_claims([*DEMO_USERS, FIRST_TIME_AGENT]), audience=OIDC_CLIENT_ID)
        ) as idp,
        ServerThread(sirene_stand_in) as sirene,
    ):
        app, client = _create_live_app(database_url, instance, idp.url, sirene.url)
        assert not app.testing and app.config.get("WTF_CSRF_ENABLED", True)
        with app.app_context():
            db.create_all()
            seed_demo_data()
        with ServerThread(app) as server:
            yield LiveServer(url=server.url, idp_url=idp.url, app=app, oauth_client=client)
        app.extensions["datapass_lane"].connections.close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _live_oauth_client(request, monkeypatch):
    """While a test drives the live server, the process-wide client is the live app's."""
    if "live_server" in request.fixturenames:
        server = request.getfixturevalue("live_server")
        monkeypatch.setitem(oauth._clients, PROVIDER_NAME, server.oauth_client)


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """``page.goto("/connexion")`` goes to the live server."""
    return live_server.url


def sign_in(page, live_server: LiveServer, sub: str) -> None:
    """The real flow: « S’identifier avec ProConnect », the provider's page, back to the app."""
    page.goto(live_server("/connexion"))
    page.get_by_role("button", name=re.compile("ProConnect")).click()
    page.wait_for_url(f"{live_server.idp_url}/**")
    page.get_by_role("textbox", name="sub").fill(sub)
    page.get_by_role("button", name="Authorize", exact=True).click()
    page.wait_for_url(f"{live_server.url}/**")
    page.wait_for_load_state("load")


@pytest.fixture
def open_page(new_context):
    """A page in a browser context of its own (its own cookies): ``open_page(viewport=…)``.

    For tests that need two people at once (an agent and an instructor); pytest-playwright
    closes the contexts at the end of the test.
    """

    def _open(**context_args):
        context = new_context(**context_args)
        context.route(EXTERNAL_URL, lambda route: route.abort())
        context.set_default_timeout(10_000)
        return context.new_page()

    return _open
