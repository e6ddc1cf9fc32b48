"""Flask commands."""


def register(app):
    pass
