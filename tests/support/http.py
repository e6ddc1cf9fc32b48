"""Post forms as a browser would (with the page's CSRF token), and read rows again afterwards.

``post_form(client, url, data)`` GETs the page the form lives on (``url`` itself unless
``page`` says otherwise), reads its CSRF token and POSTs ``data`` with it. A test that has
already fetched the page passes the response as ``page``: no second request is made, and
the same token serves several posts, as a browser tab would.

``reload(obj)`` (or ``reload(Model, id)``) forgets what the session holds and reads the row
again by primary key: what a request through the test client (or a service) committed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect

from datapass.extensions import db

if TYPE_CHECKING:
    from flask.testing import FlaskClient
    from werkzeug.test import TestResponse

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The value of the first ``csrf_token`` field of a page."""
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def post_form(
    client: FlaskClient,
    url: str,
    data: dict[str, Any] | None = None,
    *,
    page: str | TestResponse | None = None,
    follow_redirects: bool = False,
    **kwargs: Any,
) -> TestResponse:
    """POST ``data`` to ``url`` with the CSRF token of the form's page.

    ``page`` is the path of the page showing the form (default: ``url``), fetched first, or
    a response already fetched, whose token is used as is. A ``csrf_token`` in ``data``
    wins (to post a forged or stale one). Other keyword arguments go to ``client.post``
    (``content_type``, ``headers``…).
    """
    if page is None or isinstance(page, str):
        page = client.get(page or url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token in {page.request.path} ({page.status_code}) to post to {url}"
    payload = {"csrf_token": match.group(1), **(data or {})}
    return client.post(url, data=payload, follow_redirects=follow_redirects, **kwargs)


def reload(obj: Any, ident: Any = None) -> Any:
    """The row of ``obj`` (or of ``Model`` and ``ident``) as the database has it now.

    Every object of the session is expired first, so relationships read afterwards are
    fresh too. None if the row is gone.
    """
    db.session.expire_all()
    if ident is None:
        state = inspect(obj)
        return db.session.get(state.mapper.class_, state.identity)
    return db.session.get(obj, ident)
