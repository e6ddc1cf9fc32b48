import pytest

from datapass.validators import (
    ValidationError,
    normalize_email,
    validate_french_phone,
    validate_url,
)


@pytest.mark.parametrize(
    "phone",
    [
        "01 23 45 67 89",
        "0123456789",
        "06.12.34.56.78",
        "+33 1 23 45 67 89",
        "+33612345678",
        "0033 6 12 34 56 78",
        "+262 262 12 34 56",  # La Réunion
        "+590 590 12 34 56",  # Guadeloupe
        "+687 12 34 56",  # Nouvelle-Calédonie
        "+689 40 12 34 56",  # Polynésie française
        "+508 41 23 45",  # Saint-Pierre-et-Miquelon
    ],
)
def test_french_phone_numbers_are_accepted(phone):
    assert validate_french_phone(phone) == phone.strip()


@pytest.mark.parametrize(
    "phone", ["", "12345", "00 00 00 00 00", "+44 20 7946 0958", "+33 0 1 23 45 67 89", "abc"]
)
def test_other_numbers_are_refused_in_french(phone):
    with pytest.raises(ValidationError) as error:
        validate_french_phone(phone)
    assert "numéro de téléphone français" in error.value.message


def test_emails_are_lowercased_and_checked():
    assert (
        normalize_email(" Camille.Dupont@CCAS-Villedemo.fr ") == "camille.dupont@ccas-villedemo.fr"
    )
    with pytest.raises(ValidationError) as error:
        normalize_email("camille@")
    assert "adresse électronique valide" in error.value.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000031106561/", None),
        ("www.commune.fr/deliberation.pdf", "https://www.commune.fr/deliberation.pdf"),
    ],
)
def test_urls(raw, expected):
    assert validate_url(raw) == (expected or raw)


@pytest.mark.parametrize(
    "raw", ["Joindre les délibérations", "ftp://x.fr/a", "http://localhost", "javascript:alert(1)"]
)
def test_bad_urls_are_refused(raw):
    with pytest.raises(ValidationError):
        validate_url(raw)
