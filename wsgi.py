"""WSGI entry point: ``gunicorn wsgi:app``."""

import gc

from datapass import create_app

app = create_app()
# What the app loaded (catalogue, URL map, templates, ORM mappers) lives as long as the
# process: out of the collector's reach, full collections no longer walk it on every cycle.
gc.freeze()
