"""gunicorn's settings for DataPass on an app machine (docs/deployment.md).

    gunicorn -c gunicorn.conf.py wsgi:app

Environment: ``PORT`` (8000) and ``BIND_HOST`` (0.0.0.0) where to listen, ``WEB_CONCURRENCY``
(2 × CPUs + 1) how many worker processes, ``GUNICORN_TIMEOUT`` (30) seconds before a stuck
worker is replaced; gunicorn's own ``FORWARDED_ALLOW_IPS`` names the load balancers trusted
for ``X-Forwarded-Proto``. Command-line options win over this file.

``on_starting`` runs in the master before any worker: it refuses to serve with a
configuration that cannot be right behind gunicorn (``config.check_server``): an empty
``DATAPASS_ENV``, or production with several workers counting rate limits in memory.
"""

import multiprocessing
import os

from config import check_server

bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
# Sync workers: each serves one request at a time, with its own database connection pool.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30
keepalive = 5
# Workers are replaced now and then (a slow leak cannot grow for ever), not all at once.
# An API provider may introspect thousands of times a second: a restart (the app built again,
# about a second) every 100 000 requests per worker.
max_requests = 100_000
max_requests_jitter = 10_000
# Each worker builds the app itself: no database connection is ever shared across a fork.
preload_app = False
# Access log on stdout without query strings (searches may carry names) nor client
# addresses: no personal data in logs. Status, path, size and duration (µs) are enough.
accesslog = "-"
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(D)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def on_starting(server):
    check_server(os.environ, server.cfg.workers)
