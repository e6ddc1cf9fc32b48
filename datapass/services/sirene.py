"""Establishment lookups in the French business registry, through one of two providers.

- ``recherche_entreprises`` (default): the public *API Recherche d’entreprises*, no key.
- ``insee``: INSEE’s Sirene API 3.11, with an integration key.

Both answer an ``EstablishmentInfo``; faults become ``SireneError`` subclasses so that the
caller can keep an organisation « non vérifiée » and refresh it later. Non-diffusible
establishments (people who opted out of publication) are found but their name and address
are withheld: we keep what the registry gives and never guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from datapass.services.naf import naf_label

NOT_DIFFUSIBLE = "[NON-DIFFUSIBLE]"


class SireneError(Exception):
    """The registry could not give an answer we can use."""


class SireneNotFound(SireneError):
    """No establishment has this SIRET."""


class SireneUnavailable(SireneError):
    """Timeout, connection failure, server error, quota exceeded or unreadable answer."""


@dataclass(frozen=True, slots=True)
class EstablishmentInfo:
    siret: str
    name: str | None
    address: str | None
    commune: str | None
    naf_code: str | None
    naf_label: str | None
    legal_category: str | None
    administrative_state: str | None  # "A" active, "F" closed
    diffusible: bool = True
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def is_closed(self) -> bool:
        return self.administrative_state == "F"


class _Provider:
    def __init__(self, base_url: str, timeout: float, token: str = ""):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token = token

    def _get(self, url: str, **kwargs) -> requests.Response:
        try:
            response = requests.get(url, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise SireneUnavailable(type(error).__name__) from error
        if response.status_code == 404:
            raise SireneNotFound()
        if response.status_code == 429 or response.status_code >= 500:
            raise SireneUnavailable(f"HTTP {response.status_code}")
        return response

    @staticmethod
    def _json(response: requests.Response) -> dict:
        try:
            data = response.json()
        except ValueError as error:
            raise SireneUnavailable("unreadable answer") from error
        if not isinstance(data, dict):
            raise SireneUnavailable("unexpected answer")
        return data


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return None if not text or text == NOT_DIFFUSIBLE else text


class RechercheEntreprisesProvider(_Provider):
    """GET {base}/search?q=<siret>: the legal unit with its matching establishments."""

    def lookup(self, siret: str) -> EstablishmentInfo:
        response = self._get(
            f"{self.base_url}/search",
            params={"q": siret, "page": 1, "per_page": 1},
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            raise SireneUnavailable(f"HTTP {response.status_code}")
        data = self._json(response)
        for unit in data.get("results") or []:
            for establishment in unit.get("matching_etablissements") or []:
                if establishment.get("siret") == siret:
                    return self._info(siret, unit, establishment)
        raise SireneNotFound()

    @staticmethod
    def _info(siret: str, unit: dict, establishment: dict) -> EstablishmentInfo:
        diffusible = (
            unit.get("statut_diffusion", "O") == "O"
            and establishment.get("statut_diffusion_etablissement", "O") == "O"
        )
        naf_code = _clean(
            establishment.get("activite_principale") or unit.get("activite_principale")
        )
        name = _clean(unit.get("nom_complet") or unit.get("nom_raison_sociale"))
        signs = establishment.get("liste_enseignes") or []
        if name and signs and not establishment.get("est_siege"):
            name = f"{name} ({_clean(signs[0])})"
        return EstablishmentInfo(
            siret=siret,
            name=name,
            address=_clean(establishment.get("adresse")),
            commune=_clean(establishment.get("libelle_commune")),
            naf_code=naf_code,
            naf_label=naf_label(naf_code),
            legal_category=_clean(unit.get("nature_juridique")),
            administrative_state=_clean(establishment.get("etat_administratif")),
            diffusible=diffusible,
            payload={"provider": "recherche_entreprises", "unite_legale": unit},
        )


class InseeSireneProvider(_Provider):
    """GET {base}/siret/<siret> with the ``X-INSEE-Api-Key-Integration`` header."""

    def lookup(self, siret: str) -> EstablishmentInfo:
        response = self._get(
            f"{self.base_url}/siret/{siret}",
            headers={"Accept": "application/json", "X-INSEE-Api-Key-Integration": self.token},
        )
        if response.status_code == 403:
            # Older Sirene versions answer 403 for an establishment withheld from publication.
            return EstablishmentInfo(siret, None, None, None, None, None, None, None, False, {})
        if response.status_code != 200:
            raise SireneUnavailable(f"HTTP {response.status_code}")
        establishment = self._json(response).get("etablissement")
        if not isinstance(establishment, dict):
            raise SireneUnavailable("unexpected answer")
        unit = establishment.get("uniteLegale") or {}
        periods = establishment.get("periodesEtablissement") or [{}]
        current = periods[0]
        naf_code = _clean(current.get("activitePrincipaleEtablissement"))
        return EstablishmentInfo(
            siret=siret,
            name=self._name(unit, current),
            address=self._address(establishment.get("adresseEtablissement") or {}),
            commune=_clean(
                (establishment.get("adresseEtablissement") or {}).get("libelleCommuneEtablissement")
            ),
            naf_code=naf_code,
            naf_label=naf_label(naf_code),
            legal_category=_clean(unit.get("categorieJuridiqueUniteLegale")),
            administrative_state=_clean(current.get("etatAdministratifEtablissement")),
            diffusible=establishment.get("statutDiffusionEtablissement", "O") == "O",
            payload={"provider": "insee", "etablissement": establishment},
        )

    @staticmethod
    def _name(unit: Mapping, period: Mapping) -> str | None:
        name = _clean(unit.get("denominationUniteLegale"))
        if not name:
            person = [unit.get("prenomUsuelUniteLegale"), unit.get("nomUniteLegale")]
            name = _clean(" ".join(p for p in person if p))
        usual = _clean(
            period.get("denominationUsuelleEtablissement") or period.get("enseigne1Etablissement")
        )
        return f"{name} ({usual})" if name and usual and usual != name else name

    @staticmethod
    def _address(address: Mapping) -> str | None:
        parts = [
            address.get("numeroVoieEtablissement"),
            address.get("indiceRepetitionEtablissement"),
            address.get("typeVoieEtablissement"),
            address.get("libelleVoieEtablissement"),
            address.get("codePostalEtablissement"),
            address.get("libelleCommuneEtablissement"),
        ]
        return _clean(" ".join(str(p) for p in parts if p))


PROVIDERS = {
    "recherche_entreprises": RechercheEntreprisesProvider,
    "insee": InseeSireneProvider,
}


def provider_from_config(config: Mapping[str, Any]) -> _Provider:
    cls = PROVIDERS[config["SIRENE_PROVIDER"]]
    return cls(
        config["SIRENE_API_URL"],
        timeout=float(config["SIRENE_TIMEOUT_SECONDS"]),
        token=config.get("SIRENE_API_TOKEN", ""),
    )


def lookup_establishment(siret: str, config: Mapping[str, Any]) -> EstablishmentInfo:
    """Look ``siret`` up with the configured provider; raises ``SireneError`` subclasses."""
    return provider_from_config(config).lookup(siret)
