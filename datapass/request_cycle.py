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
- ``DataPassRequest``: the upload pages' body limit is read when a body is (no hook at every
  request); the ``Cookie`` header of a request parsed once per process (« flaskpath »).
- ``DataPassResponse``: werkzeug's constructor looks for a ``Content-Type`` among the headers
  it was given, even none, by raising and catching an HTTP exception: with no header given,
  it is given the default content type directly (the same header).
- ``DataPassLoginManager._load_user``: Flask-Login's, each context object read once, the
  ``Authorization`` header looked at only when a header loader is declared (we have none).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response, current_app, request, session
from flask.globals import app_ctx
from flask.templating import _default_template_ctx_processor
from flask_login import LoginManager
from flask_login.config import AUTH_HEADER_NAME, COOKIE_NAME
from flask_login.signals import user_accessed
from flask_wtf import CSRFProtect
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.sansio.http import parse_cookie
from werkzeug.sansio.response import get_content_type
from werkzeug.utils import cached_property

from datapass.security import UPLOAD_ENDPOINTS

# At most this many functions' answers kept (hooks, views, processors: a few hundred).
_MAX_SYNC_FUNCTIONS = 4096


# At most this many distinct ``Cookie`` headers' parsed values kept per process.
_MAX_PARSED_COOKIES = 1024


class DataPassRequest(Request):
    """Flask's request, with two answers found without a hook or a second parse:

    - ``max_content_length``: ``MAX_UPLOAD_REQUEST_BYTES`` on the pages that take files
      (``security.UPLOAD_ENDPOINTS``), ``MAX_CONTENT_LENGTH`` elsewhere (Flask's answer), a
      value set on the request first of all. Werkzeug reads it when it reads a body, after
      routing: a before-request hook no longer sets it at every request.
    - ``cookies``: the ``Cookie`` header parsed by werkzeug the first time the process sees
      it, then the same (immutable) mapping for the same header, at most
      ``_MAX_PARSED_COOKIES`` headers kept.
    """

    _parsed_cookies: dict[str, ImmutableMultiDict] = {}

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and self.endpoint in UPLOAD_ENDPOINTS:
            return current_app.config["MAX_UPLOAD_REQUEST_BYTES"]
        return Request.max_content_length.fget(self)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @cached_property
    def cookies(self) -> ImmutableMultiDict:
        # werkzeug's ``";".join(self.headers.getlist("Cookie"))``: one WSGI key, or none.
        header = self.environ.get("HTTP_COOKIE", "")
        kept = self._parsed_cookies
        parsed = kept.get(header)
        if parsed is None:
            parsed = parse_cookie(header, cls=self.dict_storage_class)
            if len(kept) >= _MAX_PARSED_COOKIES:
                kept.clear()
            kept[header] = parsed
        return parsed


class DataPassResponse(Response):
    """Flask's response; given no header, no content type and no mimetype (a view's string,
    a rendered template), it gets the default content type without werkzeug's search for
    one among no headers (a ``BadRequestKeyError`` raised and caught)."""

    def __init__(
        self,
        response=None,
        status=None,
        headers=None,
        mimetype=None,
        content_type=None,
        direct_passthrough=False,
    ):
        if content_type is None and mimetype is None and not headers and self.default_mimetype:
            content_type = get_content_type(self.default_mimetype, "utf-8")
        super().__init__(response, status, headers, mimetype, content_type, direct_passthrough)


class DataPassFlask(Flask):
    """Flask, whose ``ensure_sync`` answer is computed once per function."""

    request_class = DataPassRequest
    response_class = DataPassResponse

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

    def _protects_sessions(self, config) -> bool:
        mode = config.get("SESSION_PROTECTION", self.session_protection)
        return mode in ("basic", "strong")

    def _session_protection_failed(self) -> bool:
        if not self._protects_sessions(current_app.config):
            return False  # Flask-Login's answer too, but after hashing the client's identifier
        return super()._session_protection_failed()

    def _load_user(self):
        """Flask-Login's ``_load_user``: the same order and answers, the application context
        and the session read once (each read through Flask's proxies is a lookup); the
        header loader's branch taken only when one is declared (Flask-Login's
        ``_load_user_from_header`` answers None without one, after reading
        ``Authorization``)."""
        if self._user_callback is None and self._request_callback is None:
            return super()._load_user()  # Flask-Login's error
        context = app_ctx._get_current_object()
        app, request_globals = context.app, context.g
        user_accessed.send(app)
        if self._protects_sessions(app.config) and super()._session_protection_failed():
            request_globals._login_user = self.anonymous_user()
            return None
        current_session = session._get_current_object()
        user = None
        user_id = current_session.get("_user_id")
        if user_id is not None and self._user_callback is not None:
            user = self._user_callback(user_id)
        if user is None:
            config = app.config
            cookie_name = config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
            cookies = request.cookies
            if cookie_name in cookies and current_session.get("_remember") != "clear":
                user = self._load_user_from_remember_cookie(cookies[cookie_name])
            elif self._request_callback:
                user = self._load_user_from_request(request)
            elif self._header_callback:
                header_name = config.get("AUTH_HEADER_NAME", AUTH_HEADER_NAME)
                if header_name in request.headers:
                    user = self._load_user_from_header(request.headers[header_name])
        # Flask-Login's ``_update_request_context_with_user``, on the ``g`` at hand.
        request_globals._login_user = user if user is not None else self.anonymous_user()
        return None

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
