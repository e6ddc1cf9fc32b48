"""Forms of the habilitation page (token prolongation)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField


class ProlongForm(FlaskForm):
    same_purpose = BooleanField("L’objet du traitement n’a pas changé")
    same_data = BooleanField("Les données demandées n’ont pas changé")
    same_contacts = BooleanField("Le contact métier et le contact technique n’ont pas changé")
