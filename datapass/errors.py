"""The one user-facing error: a refusal whose ``message`` is French, ready to show.

Services raise it (or a subclass naming the concept) after rolling back what they had
begun; the view that called them either re-renders its form with the message next to the
field, or lets it through to the handler registered by ``create_app``
(``views/errors.py``), which rolls the session back again (a net), flashes the message and
sends the user back to the page they came from (JSON ``422`` under ``/api``).
"""

from __future__ import annotations


class UserError(Exception):
    """A refused action; ``message`` is French and safe to show; ``field`` names the input."""

    status = 422

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
