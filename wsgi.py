"""WSGI entry point: ``gunicorn wsgi:app``."""

from datapass import create_app

app = create_app()
