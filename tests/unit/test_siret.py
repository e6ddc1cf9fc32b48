import pytest

from datapass.siret import InvalidSiret, is_valid_siret, normalize, validate_siret


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("26920023400012", "26920023400012"),  # CCAS (Luhn)
        ("130 025 265 00013", "13002526500013"),  # spaces typed or pasted
        ("382.519.312-00088", "38251931200088"),
        ("35600000000048", "35600000000048"),  # La Poste head office (Luhn)
        ("35600000012345", "35600000012345"),  # La Poste establishment: not Luhn, accepted
        ("35600000049837", "35600000049837"),
    ],
)
def test_valid_sirets(raw, expected):
    assert validate_siret(raw) == expected
    assert is_valid_siret(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("26920023400013", "n’est pas valide"),  # bad checksum
        ("35600100012345", "n’est pas valide"),  # not La Poste's SIREN, not Luhn
        ("2692002340001A", "que des chiffres"),  # letters
        ("SIRET26920023", "que des chiffres"),
        ("2692002340001", "en compte 13"),  # 13 digits
        ("269200234000120", "en compte 15"),  # 15 digits
        ("", "Saisissez"),
        (None, "Saisissez"),
    ],
)
def test_invalid_sirets_say_why_in_french(raw, message):
    with pytest.raises(InvalidSiret) as error:
        validate_siret(raw)
    assert message in error.value.message
    assert not is_valid_siret(raw)


def test_normalize_keeps_digits_only_separators():
    assert normalize(" 269 200 234 00012 ") == "26920023400012"
