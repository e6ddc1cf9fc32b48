"""Realistic answers of the two registry APIs, for the pytest-httpserver stand-in."""

from __future__ import annotations


def recherche_entreprises_answer(
    siret: str,
    *,
    name: str = "CENTRE COMMUNAL D'ACTION SOCIALE DE VILLEDEMO",
    state: str = "A",
    diffusible: bool = True,
    naf: str = "88.99B",
    legal_category: str = "7361",
) -> dict:
    hidden = "[NON-DIFFUSIBLE]"
    establishment = {
        "activite_principale": naf,
        "adresse": hidden if not diffusible else "2 PLACE DE LA MAIRIE 26000 VILLEDEMO",
        "code_postal": "26000",
        "commune": "26999",
        "date_creation": "1986-01-01",
        "date_fermeture": "2024-12-31" if state == "F" else None,
        "est_siege": True,
        "etat_administratif": state,
        "libelle_commune": hidden if not diffusible else "VILLEDEMO",
        "liste_enseignes": None,
        "nom_commercial": None,
        "siret": siret,
        "statut_diffusion_etablissement": "O" if diffusible else "P",
    }
    unit = {
        "siren": siret[:9],
        "nom_complet": name if diffusible else hidden,
        "nom_raison_sociale": name if diffusible else hidden,
        "activite_principale": naf,
        "nature_juridique": legal_category,
        "etat_administratif": state,
        "statut_diffusion": "O" if diffusible else "P",
        "section_activite_principale": "Q",
        "complements": {"est_service_public": True},
        "matching_etablissements": [establishment],
    }
    return {"results": [unit], "total_results": 1, "page": 1, "per_page": 1, "total_pages": 1}


NO_RESULT = {"results": [], "total_results": 0, "page": 1, "per_page": 1, "total_pages": 0}


def insee_answer(siret: str, *, state: str = "A", diffusible: bool = True) -> dict:
    return {
        "header": {"statut": 200, "message": "ok"},
        "etablissement": {
            "siren": siret[:9],
            "nic": siret[9:],
            "siret": siret,
            "statutDiffusionEtablissement": "O" if diffusible else "P",
            "uniteLegale": {
                "denominationUniteLegale": "CENTRE COMMUNAL D'ACTION SOCIALE DE VILLEDEMO",
                "categorieJuridiqueUniteLegale": "7361",
                "activitePrincipaleUniteLegale": "88.99B",
            },
            "adresseEtablissement": {
                "numeroVoieEtablissement": "2",
                "typeVoieEtablissement": "PL",
                "libelleVoieEtablissement": "DE LA MAIRIE",
                "codePostalEtablissement": "26000",
                "libelleCommuneEtablissement": "VILLEDEMO",
            },
            "periodesEtablissement": [
                {
                    "dateFin": None,
                    "etatAdministratifEtablissement": state,
                    "activitePrincipaleEtablissement": "88.99B",
                    "denominationUsuelleEtablissement": None,
                    "enseigne1Etablissement": None,
                }
            ],
        },
    }
