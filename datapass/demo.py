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
        "sub": "demo-editeur",
        "email": "developpeur@arche-mc2.example.fr",
        "given_name": "Sacha",
        "usual_name": "Développeur",
        "phone": "04 78 00 00 00",
        "job_title": "Développeur chez l’éditeur Arche MC2",
        "siret": "38251931200088",
        "roles": ["api_particulier:developer"],
        "label": "Développeur de l’éditeur Arche MC2",
    },
]
