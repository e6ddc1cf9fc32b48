"""What pages show that does not change from one request to the next, computed once.

Every page pays for its layout: building a URL with ``url_for`` walks the URL map (tens of
microseconds each, some twenty per page for the assets, the header and the footer, one per
line of a list), and a macro call per badge costs more than the badge. Here:

- ``path_for(endpoint, **constants)``: ``url_for`` of a link whose arguments are constants
  of the template (assets, menus, footer), built once per script root (the prefix a proxy
  mounts the site under, ``request.script_root``) and kept;
- ``path_of(endpoint, argument)``: a link per line of a list (``path_of("instruction.show",
  "request_id")(row.id)``): the path around an integer argument, built once, then joined;
- ``badges()``: the state badges' markup, rendered once by the DSFR ``badge`` macro
  (templates/dsfr/components.html stays the only source of the markup), then a dictionary
  lookup per line;
- ``fragment(template, macro, *args)``: a macro's markup for hashable arguments, rendered
  once per script root (and catalogue) and kept; ``layout_head()``, ``layout_navigation()``,
  ``layout_footer()``, ``layout_scripts()`` are base.html's parts rendered that way
  (templates/_layout.html), the navigation once per set of roles and section of the site,
  ``layout_account()`` the header's account entries once, the user's name and CSRF token
  put in their marks at each request.

Nothing kept depends on the user's identity or on the data: only on the URL map, the
catalogue, the templates (which do not change while a process runs) and, for the
navigation, the user's set of roles: what the user's *name*, CSRF token or flashes show is
rendered at each request.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from flask import Flask, current_app, get_flashed_messages, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from datapass import permissions, workflow
from datapass.models.authorization import AUTHORIZATION_STATE_BADGES, AUTHORIZATION_STATE_LABELS
from datapass.services import accessibility

T = TypeVar("T")

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


# Kept fragments: key → (app, catalogue, markup); the app and catalogue are kept in the value
# and checked by identity (a test may give the app another catalogue: new fragments).
_FRAGMENTS: dict[tuple, tuple[Flask, object, Any]] = {}
MAX_FRAGMENTS = 1024


def kept_value(key: tuple, build: Callable[[], T]) -> T:
    """``build()``, kept under ``key`` + the app, catalogue and script root (``key`` holds
    everything else the value depends on)."""
    app = _app()
    catalog = app.extensions["catalog"]  # get_catalog()'s, without a second lookup of the app
    full_key = (id(app), id(catalog), request.script_root, *key)
    entry = _FRAGMENTS.get(full_key)
    if entry is None or entry[0] is not app or entry[1] is not catalog:
        value = build()
        if len(_FRAGMENTS) >= MAX_FRAGMENTS:
            _FRAGMENTS.clear()
        entry = _FRAGMENTS[full_key] = (app, catalog, value)
    return entry[2]


def kept(key: tuple, render: Callable[[], Markup]) -> Markup:
    """``render()``'s markup, kept under ``key`` + the app, catalogue and script root (``key``
    holds everything else the markup depends on)."""
    # A macro of an autoescaping template: Markup already.
    return kept_value(key, lambda: Markup(render()))  # noqa: S704


def macro(template: str, name: str):
    return getattr(_app().jinja_env.get_template(template).module, name)


def fragment(template: str, name: str, *args) -> Markup:
    """The markup of the macro ``name`` of ``template`` for ``args``, rendered once per app,
    catalogue and script root, then kept (up to ``MAX_FRAGMENTS``, then all rendered again).

    ``args`` must hold everything the markup depends on besides these three: the macro reads
    no request, user or session (its links through ``path_for``/``static_path`` only)."""
    return kept((template, name, args), lambda: macro(template, name)(*args))


LAYOUT = "_layout.html"


def layout_head() -> Markup:
    """The assets' links of every page's ``<head>``."""
    return fragment(LAYOUT, "head_links")


def layout_scripts() -> Markup:
    return fragment(LAYOUT, "scripts")


def layout_footer() -> Markup:
    # The self-assessment's state is read-only (services/accessibility.py).
    return fragment(LAYOUT, "footer", accessibility.declared_state())


# What layout_account() puts the user's name and CSRF token in place of (no escaping alters
# them, no markup holds them).
_NAME_MARK, _TOKEN_MARK = "\x00datapass-name\x00", "\x00datapass-csrf\x00"
ACCOUNT_ENDPOINTS = ("auth.profile", "auth.logout", "auth.login")


def _account_marked(signed_in: bool) -> tuple[Markup, bool]:
    """The account's entries with their marks (rendered once per script root, signed in or
    not and pages served) and whether they hold the sign-out form's CSRF token."""
    views = _app().view_functions
    served = tuple(endpoint in views for endpoint in ACCOUNT_ENDPOINTS)
    html = kept(
        ("account", signed_in, served),
        lambda: macro(LAYOUT, "account")(signed_in, *served, _NAME_MARK, _TOKEN_MARK),
    )
    return html, signed_in and served[1]


def _account_of(html: Markup, user, token: bool) -> Markup:
    html = html.replace(_NAME_MARK, escape(user.full_name))
    if token:  # the sign-out form (only then: a first token writes the session)
        html = html.replace(_TOKEN_MARK, generate_csrf())
    return html


def layout_account(user) -> Markup:
    """The header's account entries (``account`` in ``LAYOUT``): rendered once, then the
    user's name (escaped) and the CSRF token put in at each request."""
    signed_in = bool(user and user.is_authenticated)
    html, token = _account_marked(signed_in)
    return _account_of(html, user, token) if signed_in else html


def _section() -> tuple | str | None:
    """Which entry of the navigation the page belongs to (its ``aria-current``)."""
    endpoint = request.endpoint or ""
    if endpoint in ("public.home", "applicant.dashboard_view"):
        return endpoint
    if endpoint.startswith("developers."):
        return "developers"
    if endpoint.startswith("editors."):
        return ("editors", (request.view_args or {}).get("editor_id"))
    if endpoint.startswith("admin"):
        return "admin"
    if endpoint.startswith("instruction"):
        return "instruction"
    return None


def _navigation(user, section) -> Markup:
    spaces = tuple((editor.id, editor.name) for editor in permissions.editor_spaces(user))
    return macro(LAYOUT, "navigation")(
        bool(getattr(user, "is_authenticated", False)),
        bool(permissions.developer_definitions(user)),
        spaces,
        permissions.is_admin(user),
        permissions.can_access_instruction(user),
        section,
    )


def user_roles(user) -> frozenset[str] | None:
    """The user's set of roles, what the predicates of ``permissions`` read (None: signed out)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return frozenset(user.roles)


def layout_navigation() -> Markup:
    """The main navigation's entries: what the user may reach (the predicates of
    ``permissions``, which read the user's roles only), rendered once per set of roles and
    section of the site."""
    user = current_user._get_current_object()  # not the proxy: a lookup per attribute read
    section = _section()
    return kept(("navigation", user_roles(user), section), lambda: _navigation(user, section))


class LayoutParts:
    """base.html's parts for a set of roles and section of the site, rendered once and kept
    (``page_layout``): the same markup as ``layout_head()``, ``layout_navigation()``,
    ``layout_footer()``, ``layout_scripts()``, the home link and the account's entries with
    their marks (``layout_account``)."""

    __slots__ = ("account", "footer", "head", "home", "navigation", "scripts", "token")

    def __init__(self, user, section) -> None:
        self.head, self.scripts, self.footer = layout_head(), layout_scripts(), layout_footer()
        self.home = path_for("public.home")
        self.navigation = _navigation(user, section)
        self.account, self.token = _account_marked(bool(user and user.is_authenticated))


class PageLayout:
    """What base.html shows around a page's content, for one request (``page_layout``)."""

    __slots__ = (
        "account",
        "flashes",
        "footer",
        "head",
        "home",
        "impersonated",
        "navigation",
        "scripts",
    )

    def __init__(self, parts: LayoutParts, account: str, impersonated: bool, flashes) -> None:
        self.head, self.home, self.navigation = parts.head, parts.home, parts.navigation
        self.footer, self.scripts, self.account = parts.footer, parts.scripts, account
        self.impersonated, self.flashes = impersonated, flashes


def page_layout(user) -> PageLayout:
    """Everything base.html shows around the content, in one call per page: the parts kept
    per set of roles and section (``LayoutParts``), the account's entries given the user's
    name and CSRF token, whether an administrator acts as the user (the banner's) and the
    flashed messages."""
    roles, section = user_roles(user), _section()
    parts = kept_value(("page", roles, section), lambda: LayoutParts(user, section))
    account = parts.account if roles is None else _account_of(parts.account, user, parts.token)
    impersonated = bool(user) and permissions.is_impersonated(user)
    return PageLayout(parts, account, impersonated, get_flashed_messages(with_categories=True))


TABS = "instruction/_tabs_links.html"


def instruction_tabs(definitions) -> Markup:
    """The instruction space's tabs and links (``TABS``), rendered once per page, set of
    roles and definitions shown."""
    user, endpoint = current_user._get_current_object(), request.endpoint or ""
    definitions = tuple(definitions or ())
    return kept(
        (TABS, endpoint, user_roles(user), definitions),
        lambda: macro(TABS, "tabs")(
            endpoint,
            tuple(
                (d, permissions.can_instruct(user, d), permissions.can_manage(user, d))
                for d in definitions
            ),
        ),
    )


def register(app: Flask) -> None:
    app.jinja_env.globals.update(
        path_for=path_for,
        static_path=static_path,
        path_of=path_of,
        badges=badges,
        layout_head=layout_head,
        layout_navigation=layout_navigation,
        layout_footer=layout_footer,
        layout_scripts=layout_scripts,
        layout_account=layout_account,
        page_layout=page_layout,
        instruction_tabs=instruction_tabs,
    )
