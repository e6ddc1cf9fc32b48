"""A blank form's fields, rendered once per form class: the request's values spliced in.

Rendering a WTForms field through the DSFR macros (``templates/dsfr/forms.html``) costs some
100 µs a field (its label, hint, attributes, messages group, every piece escaped). A form
nobody has typed in yet (no data, no error) gives the same markup to everyone, but for its
CSRF token and the few values the page puts into it (the request's version in a hidden
field). So its fields are rendered once per process by the real macros, from a fresh
instance of the form's class whose varying values are marks, and the markup is kept in
pieces; each page joins the pieces with its own, escaped, values:

    fields = blank_form("instruction/_transfer_fields.html", InstructorTransferForm,
                        version=authorization_request.version)

The template receives the form as ``form`` and must depend on nothing else (no URL, no
user, no request argument): its output is keyed by template, form class and the names of
the values only. A form holding data or errors (a template's text filled in, a form shown
again) is rendered by ``render_form``, through the same template: the markup is the same
either way (``tests/views/test_form_fragments.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app, render_template
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

CSRF = "csrf_token"
# A mark no escaping changes and no label holds: NUL, the value's name, NUL.
_MARK = "\x00{}\x00"
_MARKS = re.compile("\x00(\\w+)\x00")


@dataclass(frozen=True, slots=True)
class _Pieces:
    """The markup between the values (``texts``, one more than ``names``) and the name of
    the value in each gap."""

    texts: tuple[str, ...]
    names: tuple[str, ...]

    def join(self, values: dict[str, object]) -> Markup:
        out = [self.texts[0]]
        for name, text in zip(self.names, self.texts[1:], strict=True):
            out.append(escape(values[name]))
            out.append(text)
        return Markup("".join(out))  # noqa: S704 (macro output and escaped values)


def render_form(template: str, form) -> Markup:
    """The fields of ``form`` as ``template`` renders them (any data, any error)."""
    return Markup(render_template(template, form=form))  # noqa: S704 (autoescaped template)


def _pieces(template: str, form_class, names: tuple[str, ...]) -> _Pieces:
    form = (
        None
        if form_class is None
        else form_class(formdata=None, data={name: _MARK.format(name) for name in names})
    )
    # The token of this request (the form's field, or ``csrf_token()`` where the form has
    # none) is no part of the kept markup.
    html = str(render_form(template, form)).replace(generate_csrf(), _MARK.format(CSRF))
    parts = _MARKS.split(html)
    return _Pieces(texts=tuple(parts[0::2]), names=tuple(parts[1::2]))


def blank_form(template: str, form_class=None, **values: object) -> Markup:
    """The fields of a blank ``form_class`` as ``template`` renders them, with this
    request's CSRF token and ``values`` (field name → the field's data). Without a form
    class, ``form`` is None: a form-less button's CSRF field."""
    cache = current_app.extensions.setdefault("blank_forms", {})
    key = (template, form_class, tuple(sorted(values)))
    pieces = cache.get(key)
    if pieces is None:
        # Two threads may both render it: the same pieces, one kept (a dict's item is atomic).
        pieces = cache[key] = _pieces(template, form_class, key[2])
    if CSRF in pieces.names:
        values[CSRF] = generate_csrf()
    return pieces.join(values)
