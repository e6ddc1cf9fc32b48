"""Start-up checks for gunicorn: ``DATAPASS_ENV`` must be set, and production with several
workers needs a shared rate-limit store (``config.check_server``, ``gunicorn.conf.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigurationError, check_server, load_config
from tests.unit.test_config import GOOD_PRODUCTION

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def test_rate_limits_are_read_from_their_variables():
    config = load_config({"RATELIMIT_UPLOADS": "3 per day", "RATELIMIT_SIGN_IN": "2/minute"})
    assert config["RATELIMIT_UPLOADS"] == "3 per day"
    assert config["RATELIMIT_SIGN_IN"] == "2/minute"
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_a_malformed_rate_limit_is_refused():
    with pytest.raises(ConfigurationError, match="RATELIMIT_UPLOADS"):
        load_config({"RATELIMIT_UPLOADS": "beaucoup"})


def test_gunicorn_refuses_an_empty_datapass_env():
    with pytest.raises(ConfigurationError, match="DATAPASS_ENV"):
        check_server({}, workers=1)
    with pytest.raises(ConfigurationError, match="DATAPASS_ENV"):
        check_server({"DATAPASS_ENV": " "}, workers=1)
    check_server({"DATAPASS_ENV": "development"}, workers=4)


def test_the_app_refuses_an_empty_datapass_env_under_gunicorn():
    with pytest.raises(ConfigurationError, match="gunicorn"):
        load_config({"SERVER_SOFTWARE": "gunicorn/23.0.0"})
    assert load_config({"SERVER_SOFTWARE": "gunicorn/23.0.0", "DATAPASS_ENV": "test"})


def test_production_with_several_workers_needs_a_shared_store():
    with pytest.raises(ConfigurationError, match="RATELIMIT_STORAGE_URI"):
        check_server(GOOD_PRODUCTION, workers=2)
    check_server(GOOD_PRODUCTION, workers=1)
    check_server({**GOOD_PRODUCTION, "RATELIMIT_STORAGE_URI": "redis://cache:6379/0"}, workers=8)


def run_gunicorn(environ: dict, workers: int) -> subprocess.CompletedProcess:
    """Start gunicorn from the repository root (it reads ``gunicorn.conf.py``); a refused
    start ends the master before it binds or boots a worker."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATAPASS", "AUTHLIB", "RATELIMIT"))
    }
    env.update(environ)
    return subprocess.run(
        [str(GUNICORN), "--workers", str(workers), "--bind", "127.0.0.1:0", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("environ", "workers", "message"),
    [
        ({"DATAPASS_ENV": ""}, 1, "DATAPASS_ENV is empty"),
        (GOOD_PRODUCTION, 2, "in-memory rate limits"),
    ],
)
def test_gunicorn_conf_refuses_to_start(environ, workers, message):
    result = run_gunicorn(environ, workers)
    assert result.returncode != 0
    assert message in result.stderr
