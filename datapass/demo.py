"""Demo identities shared by the seed command and the bundled local identity provider.

Fictional people; the organisations' SIRETs pass the checksum. Never loaded in production.
"""

from __future__ import annotations

DEMO_ORGANIZATIONS = [
    {
        "siret": "26920023400012",
        "name": "CCAS de Villedemo",
        "address": "1 place de la Mairie, 92370 Villedemo",
        "commune": "Villedemo",
        "naf_code": "88.99B",
        "naf_label": "Action sociale sans hébergement n.c.a.",
        "legal_category": "7361",
        "administrative_state": "A",
    },
    {
        "siret": "38251931200088",
        "name": "Arche MC2",
        "address": "Parc d’activités, 69000 Lyon",
        "commune": "Lyon",
        "naf_code": "58.29C",
        "naf_label": "Édition de logiciels applicatifs",
        "legal_category": "5710",
        "administrative_state": "A",
    },
    {
        "siret": "13002526500013",
        "name": "Direction interministérielle du numérique (DINUM)",
        "address": "20 avenue de Ségur, 75007 Paris",
        "commune": "Paris",
        "naf_code": "84.11Z",
        "naf_label": "Administration publique générale",
        "legal_category": "7120",
        "administrative_state": "A",
    },
]

# Each user: OpenID Connect claims (what the local provider returns) and roles.
DEMO_USERS = [
    {
        "sub": "demo-agent-ccas",
        "email": "camille.dupont@ccas-villedemo.fr",
        "given_name": "Camille",
        "usual_name": "Dupont",
        "phone": "01 23 45 67 89",
        "job_title": "Responsable de l’action sociale",
        "siret": "26920023400012",
        "roles": [],
        "label": "Agent du CCAS de Villedemo (demandeur)",
    },
    {
        "sub": "demo-instructeur",
        "email": "instructeur@dinum.example.gouv.fr",
        "given_name": "Dominique",
        "usual_name": "Instructeur",
        "phone": "01 40 00 00 01",
        "job_title": "Instructeur API Particulier",
        "siret": "13002526500013",
        "roles": ["api_particulier:instructor"],
        "label": "Instructeur API Particulier (DINUM)",
    },
    {
        "sub": "demo-admin",
        "email": "admin@dinum.example.gouv.fr",
        "given_name": "Alex",
        "usual_name": "Administrateur",
        "phone": "01 40 00 00 02",
        "job_title": "Administrateur DataPass",
        "siret": "13002526500013",
        "roles": ["admin"],
        "label": "Administrateur DataPass",
    },
    {
        # A software editor's staff: the editor's space only (its démarches and links, its
        # funnel, its customers' habilitations), no request of anybody, no instruction.
        "sub": "demo-editeur",
        "email": "developpeur@arche-mc2.example.fr",
        "given_name": "Sacha",
        "usual_name": "Développeur",
        "phone": "04 78 00 00 00",
        "job_title": "Développeur chez l’éditeur Arche MC2",
        "siret": "38251931200088",
        "roles": ["editor:arche_mc2"],
        "label": "Équipe de l’éditeur Arche MC2 (espace éditeur)",
    },
    {
        # The API provider's own team (API Particulier): webhooks, API applications.
        "sub": "demo-fournisseur",
        "email": "developpeur@particulier.example.gouv.fr",
        "given_name": "Noa",
        "usual_name": "Fournisseur",
        "phone": "01 40 00 00 03",
        "job_title": "Développeuse de l’équipe API Particulier",
        "siret": "13002526500013",
        "roles": ["api_particulier:developer"],
        "label": "Équipe API Particulier (fournisseur de données, développeuse)",
    },
]

# A request the demo CCAS agent has already submitted, so that the instruction queue is not
# empty on a fresh installation (form « Aides sociales des CCAS dont aides facultatives »).
DEMO_REQUEST_FORM = "api-particulier-aides-sociales-ccas-dont-facultatives"
DEMO_REQUEST_ANSWERS = {
    "basic_infos": {
        "intitule": "Aides sociales facultatives du CCAS de Villedemo",
        "description": "Instruire les demandes d’aides facultatives (secours d’urgence, aide "
        "aux vacances) sans demander l’attestation CAF aux familles. Le quotient familial est "
        "consulté par les travailleurs sociaux dans le logiciel d’instruction.",
        "date_prevue_mise_en_production": "2027-01-04",
        "volumetrie_approximative": "50 consultations par semaine",
    },
    "legal": {
        "cadre_juridique_nature": "Délibération DEL03_2024_0017 du conseil d’administration du "
        "CCAS de Villedemo du 12 octobre 2024 ; articles L312-1 et R123-5 du CASF ; article "
        "L114-8 du CRPA.",
        "cadre_juridique_url": "https://www.villedemo.example.fr/deliberations/del03-2024-0017",
    },
    "modalities": {"modalities": ["params"]},
    "scopes": {"scopes": ["cnaf_quotient_familial"]},
    "personal_data": {
        "destinataire_donnees_caractere_personnel": "Travailleurs sociaux du CCAS instruisant "
        "les demandes d’aides facultatives",
        "duree_conservation_donnees_caractere_personnel": "24",
    },
    "contacts": {
        **{
            f"{kind}_{suffix}": value
            for kind, person in {
                "responsable_traitement": ("Lefèvre", "Anne", "Directrice du CCAS"),
                "delegue_protection_donnees": ("Moreau", "Karim", "Délégué à la protection"),
                "contact_technique": ("Petit", "Julie", "Responsable informatique"),
                "contact_metier": ("Dupont", "Camille", "Agente d’accueil social"),
            }.items()
            for suffix, value in (
                ("family_name", person[0]),
                ("given_name", person[1]),
                (
                    "email",
                    f"{person[1].lower()}.{person[0].lower().replace('è', 'e')}@ccas-villedemo.fr",
                ),
                ("phone_number", "01 41 15 40 00"),
                ("job_title", person[2]),
            )
        }
    },
}

# The API provider's introspection client created by ``make run`` (development only).
DEMO_INTROSPECTION_CLIENT = {
    "client_id": "dpc_demo_api_particulier",
    "secret": "demo-introspection-secret-not-for-production",
    "name": "API Particulier (démonstration)",
    "definition_id": "api_particulier",  # it introspects API Particulier's tokens only
}
