"""The request page's « history » of its organisation, as HTML, prepared in one pass.

The organisation's other requests and its habilitations (``services/organization_history.py``:
up to ten of each) were a template of their own, included by templates/instruction/request.html:
the include copied the page's context, then each line looked up, formatted and escaped its
values one by one, about a third of what the page's own markup cost. Here the section is one
f-string per line, like the queue's lines (``views/queue_lines.py``): each value of the data
escaped, the badges joined from those rendered once by the DSFR macro (``views/layout.py``),
the links built around each id (``layout.path_of``). The markup is the template's, to the
byte (``tests/views/test_history_section.py``).
"""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup, escape

from datapass.services.organization_history import OrganizationHistory
from datapass.views import layout
from datapass.views.template_helpers import date_fr

_START = Markup(
    '\n<section class="fr-mb-4w" id="historique-organisation"'
    ' aria-labelledby="autres-demandes-title">\n'
    '  <h3 class="fr-h6 fr-mb-1w" id="autres-demandes-title">Ses autres demandes</h3>\n  '
)
_AUTHORIZATIONS = Markup('\n  <h3 class="fr-h6 fr-mb-1w">Ses habilitations</h3>\n  ')
_NO_REQUEST = Markup(
    '\n  <p class="fr-text--sm">Aucune autre demande soumise par cette organisation.</p>\n  '
)
_NO_AUTHORIZATION = Markup(
    '\n  <p class="fr-text--sm">Aucune habilitation pour cette organisation.</p>\n  '
)
_MORE = '<p class="fr-text--sm"><a href="{}">Toutes les {} du SIRET {}</a></p>'


def _list(lines: list[str], more: str) -> str:
    """A list's ``<ul>`` (``lines``, each its ``<li>``) and its link to all of them."""
    items = "".join(f"\n    {line}\n    " for line in lines)
    return f"\n  <ul>\n    {items}\n  </ul>\n  {more}\n  "


def _more(shown: bool, endpoint: str, what: str, siret: str) -> str:
    if not shown:
        return ""
    return _MORE.format(escape(url_for(endpoint, q=siret)), what, escape(siret))


def history_section(history: OrganizationHistory, siret: str) -> Markup:
    """The organisation's other requests and its habilitations, newest first, with links to
    the queue and the habilitations' list searched by SIRET when there are more."""
    shown = layout.badges()
    request_badges, authorization_badges = shown["request"], shown["authorization"]
    request_url = layout.path_of("instruction.show", "request_id")
    parts = [_START]
    if history.requests:
        lines = []
        for other in history.requests:
            intitule = f"&nbsp;: {escape(other.intitule)}" if other.intitule else ""
            reopening = f" {shown['reopening']}" if other.is_reopening else ""
            lines.append(
                f'<li><a href="{request_url(other.id)}">{other.public_reference}{intitule}</a>'
                f" {request_badges[other.state]}{reopening}</li>"
            )
        more = _more(history.more_requests, "instruction.queue", "demandes", siret)
        parts.append(_list(lines, more))
    else:
        parts.append(_NO_REQUEST)
    parts.append(_AUTHORIZATIONS)
    if history.authorizations:
        lines = []
        for held in history.authorizations:
            request_id = int(held.authorization_request_id)
            lines.append(
                f"<li>{held.public_reference} du {escape(date_fr(held.created_at))} (demande"
                f' <a href="{request_url(request_id)}">D{request_id}</a>)'
                f" {authorization_badges[held.state]}</li>"
            )
        more = _more(
            history.more_authorizations, "instruction.authorizations", "habilitations", siret
        )
        parts.append(_list(lines, more))
    else:
        parts.append(_NO_AUTHORIZATION)
    parts.append("\n</section>")
    return Markup("".join(parts))  # noqa: S704 (constant markup and escaped values)
