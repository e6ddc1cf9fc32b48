"""SIRET numbers: normalisation and validation (python-stdnum, plus La Poste's exception).

La Poste's establishments share the SIREN 356000000 and their SIRETs do not follow the
Luhn checksum; python-stdnum only accepts those whose digit sum is a multiple of 5. Like
DataPass v2, we accept any 14-digit SIRET starting with that SIREN.
"""

from __future__ import annotations

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret as stdnum_siret

from datapass.errors import UserError

LA_POSTE_SIREN = "356000000"


class InvalidSiret(UserError, ValueError):
    """A SIRET that cannot be right; the message says what is wrong."""


def normalize(raw: str | None) -> str:
    """Drop spaces, dots and dashes that people type or paste inside a SIRET."""
    return stdnum_siret.compact((raw or "").replace("-", " "))


def validate_siret(raw: str | None) -> str:
    """The compact SIRET, or ``InvalidSiret`` with a French message saying what is wrong."""
    value = normalize(raw)
    if not value:
        raise InvalidSiret("Saisissez un numéro SIRET.")
    if not value.isdigit():
        raise InvalidSiret("Un numéro SIRET ne contient que des chiffres.")
    if len(value) != 14:
        raise InvalidSiret(
            f"Un numéro SIRET compte 14 chiffres\u202f; celui-ci en compte {len(value)}."
        )
    if value.startswith(LA_POSTE_SIREN):
        return value
    try:
        return stdnum_siret.validate(value)
    except StdnumError as error:
        raise InvalidSiret(
            "Ce numéro SIRET n’est pas valide\u00a0: vérifiez qu’il n’y a pas de faute de frappe."
        ) from error


def is_valid_siret(raw: str | None) -> bool:
    try:
        validate_siret(raw)
    except InvalidSiret:
        return False
    return True


def siren_of(siret: str) -> str:
    return siret[:9]
