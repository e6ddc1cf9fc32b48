"""Two throwaway PostgreSQL databases for `make bench`, next to BENCH_DATABASE_URL's.

python bench/databases.py create URL   prints the project's and the floor's URLs
python bench/databases.py drop URL
"""

from __future__ import annotations

import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

NAMES = ("datapass_bench", "datapass_bench_floor")


def main(action: str, url: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in NAMES:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if action == "create":
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    if action == "create":
        base = make_url(url)
        print(*(base.set(database=name).render_as_string(hide_password=False) for name in NAMES))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
