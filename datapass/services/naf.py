"""Labels of the NAF rév. 2 activity codes (APE), which the registries give without label."""

from __future__ import annotations

from functools import cache
from pathlib import Path

NAF_FILE = Path(__file__).resolve().parent.parent / "data" / "naf_rev2.tsv"


@cache
def _labels() -> dict[str, str]:
    labels = {}
    for line in NAF_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, label = line.split("\t", 1)
            labels[code] = label
    return labels


def naf_label(code: str | None) -> str | None:
    """« Action sociale sans hébergement n.c.a. » for ``88.99B`` (also accepts ``8899B``)."""
    if not code:
        return None
    code = code.strip().upper()
    if len(code) == 5 and "." not in code:
        code = f"{code[:2]}.{code[2:]}"
    return _labels().get(code)
