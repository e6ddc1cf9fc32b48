"""The request page's read-only answers, rendered once per version of what they show.

The instruction request page shows every block's answers and the délibérations' analysis
(``templates/instruction/_answers.html``). That HTML is the same for every viewer (a document
link is a plain URL: the download checks the permissions) and depends only on:

- the request's answers: any change to the request row goes through the ORM, which bumps
  ``authorization_requests.version`` (its ``version_id_col``) in the same UPDATE;
- its documents (name, size, malware scan state, text extraction state), which change
  without touching the request row: their fingerprint is part of the key;
- the catalogue (labels, blocks of the démarche): its version and the request's form uid.

So the key is built from what the page has just read from the database: a change made by any
worker or machine shows on the next view, never a stale fragment. The cache is a small LRU
in the worker's memory (``FRAGMENT_CACHE_SIZE`` entries), one per application; entries of
older versions simply age out. It holds no personal data beyond what the page shows, and
nothing that depends on the viewer: permissions are checked by the view before it is used.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable

from flask import Flask, current_app, render_template, request, url_for
from markupsafe import Markup

from datapass import blocks
from datapass.catalog import get_catalog
from datapass.services import deliberation_analysis, request_page

FRAGMENT_CACHE_SIZE = 512


class FragmentCache:
    """A thread-safe LRU of rendered HTML fragments."""

    def __init__(self, size: int = FRAGMENT_CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> Markup:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        html = Markup(render())  # noqa: S704 (HTML rendered by autoescaping Jinja)
        with self._lock:
            self._items[key] = html
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return html

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def fragment_cache() -> FragmentCache:
    """The application's cache (created on first use)."""
    return current_app.extensions.setdefault("request_fragments", FragmentCache())


def answers_key(authorization_request: request_page.PageRequest, documents: Iterable) -> tuple:
    """What the answers fragment depends on (see the module's docstring); ``documents``:
    the request's, as ``request_page.PageDocument`` rows or ``Document`` objects."""
    documents = tuple(
        (d.id, d.field, d.filename, d.size, d.scan_state, d.text_state) for d in documents
    )
    return (
        "answers",
        # The public id too: a numeric id may be reused after a deletion (SQLite), a uuid never.
        authorization_request.id,
        authorization_request.public_id,
        authorization_request.version,
        authorization_request.form_uid,
        get_catalog().version,
        documents,
    )


def answers(catalog_form, authorization_request: request_page.PageRequest, documents) -> Markup:
    """Every block's answers and the délibérations' analysis, as HTML (``documents``: as for
    ``answers_key``; the request as an object, with its answers and documents, loads only
    when the fragment is rendered)."""

    def render() -> str:
        loaded = request_page.load_answers(authorization_request.id)
        return render_template(
            "instruction/_answers.html",
            authorization_request=loaded,
            view=blocks.summary(catalog_form, loaded) if catalog_form else [],
            deliberations=deliberation_analysis.analyses(catalog_form, loaded),
        )

    return fragment_cache().get_or_render(answers_key(authorization_request, documents), render)


# An id no request has (within the ``int`` converter's range), replaced by the request's.
_ID_MARK = 2**31 - 1


@functools.lru_cache(maxsize=32)
def _decision_path(app: Flask, script_root: str, event: str) -> tuple[str, str]:
    url = url_for("instruction.decide", request_id=_ID_MARK, event=event)
    before, _, after = url.rpartition(str(_ID_MARK))
    return before, after


def decision_paths(request_id: int, events: Iterable[str]) -> list[tuple[str, str]]:
    """(event, the path of its decision page) for the request: ``url_for`` once per event and
    application (some 25 µs a call), then the request's id put between the two parts."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    paths = []
    for event in events:
        before, after = _decision_path(app, request.script_root, event)
        paths.append((event, f"{before}{int(request_id)}{after}"))
    return paths


@functools.lru_cache(maxsize=32)
def _processed_path(app: Flask, script_root: str) -> tuple[str, str, str]:
    url = url_for("instruction.mark_processed", request_id=_ID_MARK, message_id=_ID_MARK - 1)
    before, _, rest = url.partition(str(_ID_MARK))
    middle, _, after = rest.partition(str(_ID_MARK - 1))
    return before, middle, after


def processed_paths(request_id: int) -> Callable[[int], str]:
    """The path of « Marquer comme traité » of each of the request's messages: ``url_for``
    once per application, then the ids put between the parts (it was once per message)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    before, middle, after = _processed_path(app, request.script_root)
    prefix = f"{before}{int(request_id)}{middle}"
    return lambda message_id: f"{prefix}{int(message_id)}{after}"
