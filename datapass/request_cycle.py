"""What every request pays around its view: the application class and the Flask-Login and
Flask-WTF extensions, with their per-request work reduced to what this app needs.

Each class keeps its library's behaviour and answers; it only skips work whose result is
known in advance (docs/performance.md, « plumb »):

- ``DataPassFlask.ensure_sync``: Flask asks, for every hook, view and context processor it
  calls, whether the function is a coroutine function (``inspect``: some 1.5 µs each, 8 to 13
  per request). The answer of a function never changes: it is kept per function.
- ``DataPassLoginManager``: Flask-Login computes the address-and-agent identifier (a SHA-512)
  before it reads that session protection is off (``views/auth.py``), at every request that
  reads ``current_user``; its after-request hook reads the remember-me cookie's state that
  nothing here sets (no remember-me sign-in, no ``REMEMBER_COOKIE_REFRESH_EACH_REQUEST``).
  Both return at once in that case, and do all their work otherwise.
- ``DataPassCSRFProtect``: Flask-WTF's before-request hook looks up the view's exemption
  (the blueprint, the view, an f-string) before the method: on a GET it then does nothing.
  The method is checked first; an unsafe method is protected exactly as before. Its
  template context processor, which repeats two of the Jinja globals it sets, is removed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request, session
from flask.templating import _default_template_ctx_processor
from flask_login import LoginManager
from flask_wtf import CSRFProtect

# At most this many functions' answers kept (hooks, views, processors: a few hundred).
_MAX_SYNC_FUNCTIONS = 4096


class DataPassFlask(Flask):
    """Flask, whose ``ensure_sync`` answer is computed once per function."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._sync_functions: dict[Callable, Callable] = {}

    def ensure_sync(self, func: Callable) -> Callable:
        kept = self._sync_functions
        try:
            return kept[func]
        except KeyError:
            sync = super().ensure_sync(func)
        except TypeError:  # an unhashable callable: asked every time
            return super().ensure_sync(func)
        if len(kept) < _MAX_SYNC_FUNCTIONS:
            kept[func] = sync
        return sync


class DataPassLoginManager(LoginManager):
    """Flask-Login's manager, its per-request checks skipped when their feature is off."""

    def _session_protection_failed(self) -> bool:
        mode = current_app.config.get("SESSION_PROTECTION", self.session_protection)
        if mode not in ("basic", "strong"):
            return False  # Flask-Login's answer too, but after hashing the client's identifier
        return super()._session_protection_failed()

    def _update_remember_cookie(self, response):
        if "_remember" not in session and not current_app.config.get(
            "REMEMBER_COOKIE_REFRESH_EACH_REQUEST"
        ):
            return response  # no remember-me cookie to set, refresh or clear
        return super()._update_remember_cookie(response)


class DataPassCSRFProtect(CSRFProtect):
    """Flask-WTF's CSRF protection, whose before-request hook checks the method first."""

    HOOK = "CSRFProtect.init_app.<locals>.csrf_protect"
    PROCESSOR = "CSRFProtect.init_app.<locals>.<lambda>"

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        hooks = app.before_request_funcs[None]
        hooks[_only_position(hooks, self.HOOK)] = self.protect_unsafe_request
        # Its template context processor gives each render ``csrf_token`` and
        # ``csrf_meta_tag``, the very functions it has just put in the Jinja globals.
        processors = app.template_context_processors[None]
        del processors[_only_position(processors, self.PROCESSOR)]

    def protect_unsafe_request(self) -> None:
        """Flask-WTF's ``csrf_protect``: the same checks, the method's first (the others
        only read the configuration and the view)."""
        config = current_app.config
        if (
            request.method in config["WTF_CSRF_METHODS"]
            and config["WTF_CSRF_ENABLED"]
            and config["WTF_CSRF_CHECK_DEFAULT"]
        ):
            self.protect(apply_exemptions=True)


def _only_position(functions: list[Callable], qualname: str) -> int:
    positions = [i for i, f in enumerate(functions) if getattr(f, "__qualname__", "") == qualname]
    if len(positions) != 1:
        raise RuntimeError(f"Flask-WTF's {qualname} was not found once")
    return positions[0]


def drop_repeated_context_processor(app: Flask) -> None:
    """Flask gives every blueprint its own copy of the default template context processor
    (``g``, ``request``, ``session``), which the application's already gives every template:
    each page rendered in a blueprint ran it twice. The blueprints' copies are removed (the
    application's stays, the values are the same objects)."""
    for name, processors in app.template_context_processors.items():
        if name is not None:
            processors[:] = [p for p in processors if p is not _default_template_ctx_processor]
