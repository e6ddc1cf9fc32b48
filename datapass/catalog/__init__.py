"""Placeholder: the catalogue loader is being written."""


def init_app(app):
    app.extensions["catalog"] = None
