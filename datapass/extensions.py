"""Flask extensions: instantiation only, configured in ``create_app``."""

from authlib.integrations.flask_client import OAuth
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from datapass.database import ReadsAloneSession
from datapass.request_cycle import DataPassCSRFProtect, DataPassLoginManager

# A stable naming convention keeps Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# A request that only reads runs its statements without a transaction (datapass/database.py).
db = SQLAlchemy(model_class=Base, session_options={"class_": ReadsAloneSession})
migrate = Migrate()
# Flask-WTF's and Flask-Login's, their per-request hooks cheaper (datapass/request_cycle.py).
csrf = DataPassCSRFProtect()
login_manager = DataPassLoginManager()
oauth = OAuth()
# Storage and limits come from the configuration (RATELIMIT_*); see datapass/rate_limits.py.
limiter = Limiter(key_func=get_remote_address)
