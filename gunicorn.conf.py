"""Gunicorn settings read from the repository root (``gunicorn wsgi:app``).

``on_starting`` runs in the master before any worker: it refuses to serve with a
configuration that cannot be right behind gunicorn (``config.check_server``): an empty
``DATAPASS_ENV``, or production with several workers counting rate limits in memory.
"""

import os

from config import check_server


def on_starting(server):
    check_server(os.environ, server.cfg.workers)
