from flask import Blueprint

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    return "DataPass"
