"""What pages show that does not change from one request to the next, computed once.

Every page pays for its layout: building a URL with ``url_for`` walks the URL map (tens of
microseconds each, some twenty per page for the assets, the header and the footer, one per
line of a list), and a macro call per badge costs more than the badge. Here:

- ``path_for(endpoint, **constants)``: ``url_for`` of a link whose arguments are constants
  of the template (assets, menus, footer), built once per script root (the prefix a proxy
  mounts the site under, ``request.script_root``) and kept;
- ``path_of(endpoint, argument)``: a link per line of a list (``path_of("instruction.show",
  "request_id")(row.id)``): the path around an integer argument, built once, then joined;
- ``request_state_badge_html`` …: the state badges' markup, rendered once by the DSFR
  ``badge`` macro (templates/dsfr/components.html stays the only source of the markup), then
  a dictionary lookup per line.

Nothing here depends on the user or on the data: only on the URL map, the catalogue-free
state tables of ``workflow`` and the templates, which do not change while a process runs.
"""

from __future__ import annotations

from functools import lru_cache

from flask import Flask, current_app, request, url_for
from markupsafe import Markup

from datapass import workflow
from datapass.models.authorization import AUTHORIZATION_STATE_BADGES, AUTHORIZATION_STATE_LABELS

# An integer no page uses as a value, replaced by each line's own (within the SQL integer
# range of the ``int`` converter).
_MARK = 2**31 - 1


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]


@lru_cache(maxsize=512)
def _path(app: Flask, root: str, endpoint: str, values: tuple[tuple[str, str], ...]) -> str:
    return url_for(endpoint, **dict(values))


def path_for(endpoint: str, **values: str) -> str:
    """``url_for(endpoint, **values)`` for constant ``values`` (never a value of the data:
    the paths are kept, up to 512 of them)."""
    return _path(_app(), request.script_root, endpoint, tuple(sorted(values.items())))


def static_path(filename: str) -> str:
    """The URL of a static asset (``url_for("static", filename=…)``), built once."""
    return _path(_app(), request.script_root, "static", (("filename", filename),))


class PathOf:
    """The path of ``endpoint`` for any integer ``argument``: prefix + value + suffix."""

    __slots__ = ("prefix", "suffix")

    def __init__(self, endpoint: str, argument: str) -> None:
        url = url_for(endpoint, **{argument: _MARK})
        prefix, mark, suffix = url.rpartition(str(_MARK))
        if not mark or "?" in url:  # not a part of the path: a query argument
            raise ValueError(f"{endpoint} has no integer part {argument}")
        self.prefix, self.suffix = prefix, suffix

    def __call__(self, value: int) -> str:
        return f"{self.prefix}{int(value)}{self.suffix}"


@lru_cache(maxsize=64)
def _path_of(app: Flask, root: str, endpoint: str, argument: str) -> PathOf:
    return PathOf(endpoint, argument)


def path_of(endpoint: str, argument: str) -> PathOf:
    return _path_of(_app(), request.script_root, endpoint, argument)


def _badge_macro():
    return current_app.jinja_env.get_template("dsfr/components.html").module.badge


@lru_cache(maxsize=4)
def _badges(app: Flask) -> dict[str, Markup | dict[str, Markup]]:
    badge = _badge_macro()  # a macro of an autoescaped template: it returns Markup
    return {
        "request": {
            state: badge(label, workflow.STATE_BADGES.get(state), small=True)
            for state, label in workflow.STATE_LABELS.items()
        },
        "authorization": {
            state: badge(label, AUTHORIZATION_STATE_BADGES.get(state), small=True)
            for state, label in AUTHORIZATION_STATE_LABELS.items()
        },
        "reopening": badge("Mise à jour", "purple-glycine", small=True, icon=False),
        "unverified_membership": badge("Rattachement non vérifié", "warning", small=True),
        # The queue's markers (services/queue.py).
        "unread_messages": badge("Message non lu", "new", small=True),
        "answered_changes": badge("Réponse du demandeur", "info", small=True, icon=False),
    }


def badges() -> dict:
    """The badges' markup by kind (``request``/``authorization``: by state), rendered once."""
    return _badges(_app())


def register(app: Flask) -> None:
    app.jinja_env.globals.update(
        path_for=path_for, static_path=static_path, path_of=path_of, badges=badges
    )
