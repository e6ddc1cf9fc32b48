"""The DSFR form macros (templates/dsfr/forms.html), components and template helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from flask import render_template_string
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FileField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional

from datapass.views.template_helpers import date_fr, datetime_fr, filesize_fr

VOID = {"input", "br", "img", "meta", "link", "hr", "source", "col", "wbr", "area"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


class Tree(HTMLParser):
    """Just enough of an HTML tree to follow ids, classes and texts."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.current = self.root
        self.nodes: list[Node] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        self.nodes.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)

    def by_id(self, id_: str) -> Node:
        matches = [n for n in self.nodes if n.attrs.get("id") == id_]
        assert len(matches) == 1, f"{len(matches)} elements with id={id_!r}"
        return matches[0]

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        return [n for n in self.nodes if n.tag == tag and (cls is None or cls in n.classes)]

    def label_for(self, id_: str) -> Node:
        labels = [n for n in self.nodes if n.tag == "label" and n.attrs.get("for") == id_]
        assert len(labels) == 1, f"{len(labels)} labels for {id_!r}"
        return labels[0]


class SampleForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField(
        "Nom de la collectivité",
        description="Tel qu’il figure au répertoire Sirene.",
        validators=[InputRequired(message="Saisissez le nom de la collectivité.")],
    )
    email = EmailField("Adresse électronique", validators=[Optional()])
    purpose = TextAreaField("Finalité", validators=[InputRequired(message="Décrivez la finalité.")])
    kind = SelectField(
        "Type d’organisation",
        choices=[SelectChoice("ccas", "CCAS"), SelectChoice("mairie", "Mairie")],
    )
    accept = BooleanField(
        "J’atteste l’exactitude des informations",
        validators=[InputRequired(message="Cochez la case pour continuer.")],
    )
    volume = RadioField(
        "Volume de demandes",
        choices=[SelectChoice("small", "Moins de 50 000"), SelectChoice("large", "Plus de 50 000")],
        validators=[InputRequired(message="Choisissez un volume.")],
    )
    scopes = SelectMultipleField(
        "Données demandées",
        choices=[
            SelectChoice("qf", "Quotient familial"),
            SelectChoice("student", "Statut étudiant"),
            SelectChoice("family", "Composition familiale", render_kw={"disabled": True}),
        ],
        validators=[InputRequired(message="Choisissez au moins une donnée.")],
    )
    document = FileField("Délibération", validators=[InputRequired(message="Joignez un fichier.")])
    start = DateField("Date de mise en œuvre", validators=[Optional()])


TEMPLATE = """{% import "dsfr/forms.html" as forms %}
{{ forms.error_summary(form) }}
{{ forms.input(form.name, autocomplete="organization") }}
{{ forms.input(form.email) }}
{{ forms.input(form.purpose, rows=4) }}
{{ forms.select(form.kind) }}
{{ forms.checkbox(form.accept) }}
{{ forms.radios(form.volume) }}
{{ forms.checkboxes(form.scopes, choice_hints={"qf": "Fourni par la CAF et la MSA"},
                    disabled=["student"]) }}
{{ forms.upload(form.document, hint="Format PDF, 10 Mo au maximum.", accept=".pdf") }}
{{ forms.input(form.start) }}
"""


def render_form(app, data: dict | None = None, validate: bool = False) -> Tree:
    with app.test_request_context(method="POST", data=MultiDict(data or {})):
        form = SampleForm()
        if validate:
            form.validate()
        return Tree(render_template_string(TEMPLATE, form=form))


@pytest.fixture
def valid_page(app):
    return render_form(
        app,
        {
            "name": "CCAS de Mauves",
            "purpose": "Aides facultatives",
            "kind": "ccas",
            "accept": "y",
            "volume": "small",
            "scopes": ["qf"],
        },
    )


@pytest.fixture
def invalid_page(app):
    return render_form(app, {"kind": "ccas", "scopes": ["qf"]}, validate=True)


@pytest.mark.parametrize(
    ("field_id", "control"),
    [
        ("name", "input"),
        ("email", "input"),
        ("purpose", "textarea"),
        ("kind", "select"),
        ("accept", "input"),
        ("document", "input"),
        ("start", "input"),
    ],
)
def test_every_control_has_a_bound_label(valid_page, field_id, control):
    element = valid_page.by_id(field_id)
    assert element.tag == control
    assert valid_page.label_for(field_id).text.strip()
    messages = valid_page.by_id(f"{field_id}-messages")
    assert field_id + "-messages" in element.attrs["aria-describedby"].split()
    assert messages.text.strip() == ""
    assert "aria-invalid" not in element.attrs


def test_input_types_follow_the_field(valid_page):
    assert valid_page.by_id("name").attrs["type"] == "text"
    assert valid_page.by_id("email").attrs["type"] == "email"
    assert valid_page.by_id("start").attrs["type"] == "date"
    assert valid_page.by_id("document").attrs["type"] == "file"
    assert valid_page.by_id("accept").attrs["type"] == "checkbox"
    assert "fr-input" in valid_page.by_id("purpose").classes
    assert "fr-select" in valid_page.by_id("kind").classes
    assert "fr-upload" in valid_page.by_id("document").classes


def test_extra_arguments_become_attributes(valid_page):
    assert valid_page.by_id("name").attrs["autocomplete"] == "organization"
    assert valid_page.by_id("purpose").attrs["rows"] == "4"
    assert valid_page.by_id("document").attrs["accept"] == ".pdf"


def test_hint_is_inside_the_label(valid_page):
    hints = valid_page.label_for("name").children
    hint = next(c for c in hints if not isinstance(c, str) and "fr-hint-text" in c.classes)
    assert hint.text == "Tel qu’il figure au répertoire Sirene."
    upload_label = valid_page.label_for("document")
    assert "Format PDF, 10 Mo au maximum." in upload_label.text


def test_required_fields_are_marked(valid_page):
    assert "*" in valid_page.label_for("name").text
    assert "*" not in valid_page.label_for("email").text
    assert "required" in valid_page.by_id("name").attrs


def test_errors_are_bound_to_their_field(invalid_page):
    for field_id, message in [
        ("name", "Saisissez le nom de la collectivité."),
        ("purpose", "Décrivez la finalité."),
        ("accept", "Cochez la case pour continuer."),
        ("document", "Joignez un fichier."),
    ]:
        control = invalid_page.by_id(field_id)
        assert control.attrs["aria-invalid"] == "true"
        described = [invalid_page.by_id(i) for i in control.attrs["aria-describedby"].split()]
        assert any(message in node.text for node in described)
        error = invalid_page.by_id(f"{field_id}-message-error")
        assert error.text == message
        assert {"fr-message", "fr-message--error"} <= error.classes
        group = invalid_page.by_id(f"{field_id}-group")
        assert any(cls.endswith("-group--error") for cls in group.classes)


def test_choice_groups_are_fieldsets_with_a_legend(valid_page):
    for field_id in ("volume", "scopes"):
        fieldset = valid_page.by_id(field_id)
        assert fieldset.tag == "fieldset"
        legend = valid_page.by_id(f"{field_id}-legend")
        assert legend.tag == "legend" and legend.parent is fieldset
        assert fieldset.attrs["aria-labelledby"] == f"{field_id}-legend {field_id}-messages"
    radios = [n for n in valid_page.find_all("input") if n.attrs.get("name") == "volume"]
    assert [r.attrs["id"] for r in radios] == ["volume-0", "volume-1"]
    assert all(r.attrs["type"] == "radio" for r in radios)
    assert "checked" in radios[0].attrs
    for radio in radios:
        assert valid_page.label_for(radio.attrs["id"])


def test_checkboxes_keep_choices_hints_and_disabled_values(valid_page):
    boxes = [n for n in valid_page.find_all("input") if n.attrs.get("name") == "scopes"]
    assert [(b.attrs["value"], "checked" in b.attrs, "disabled" in b.attrs) for b in boxes] == [
        ("qf", True, False),
        ("student", False, True),  # disabled by the macro's argument
        ("family", False, True),  # disabled by the choice's render_kw
    ]
    assert "Fourni par la CAF et la MSA" in valid_page.label_for("scopes-0").text
    # Several answers are possible: no single box is required.
    assert not any("required" in b.attrs for b in boxes)


def test_choice_group_errors_name_the_group(invalid_page):
    fieldset = invalid_page.by_id("volume")
    assert "fr-fieldset--error" in fieldset.classes
    error = invalid_page.by_id("volume-message-error")
    assert error.text == "Choisissez un volume."
    assert error.parent is invalid_page.by_id("volume-messages")


def test_error_summary_links_every_error_to_its_field(invalid_page):
    summary = invalid_page.by_id("error-summary")
    assert {"fr-alert", "fr-alert--error"} <= summary.classes
    title = invalid_page.by_id("error-summary-title")
    assert title.attrs["tabindex"] == "-1"
    assert title.text == "Le formulaire contient 5 erreurs"
    links = [n for n in invalid_page.find_all("a") if _inside(n, summary)]
    targets = [link.attrs["href"] for link in links]
    assert targets == ["#name", "#purpose", "#accept", "#volume-0", "#document"]
    for link in links:
        invalid_page.by_id(link.attrs["href"][1:])  # every target exists, once
    assert "Nom de la collectivité\u00a0: Saisissez le nom de la collectivité." in links[0].text


def test_no_error_summary_without_errors(valid_page):
    assert not [n for n in valid_page.nodes if n.attrs.get("id") == "error-summary"]


def test_csrf_macro_renders_the_token(app):
    class TokenForm(FlaskForm):
        pass

    with app.test_request_context():
        html = render_template_string(
            '{% import "dsfr/forms.html" as forms %}{{ forms.csrf(form) }}|{{ forms.csrf() }}',
            form=TokenForm(),
        )
    own, session_token = (Tree(part).find_all("input")[0] for part in html.split("|"))
    for field in (own, session_token):
        assert field.attrs["type"] == "hidden"
        assert field.attrs["name"] == "csrf_token"
        assert field.attrs["value"]


def _inside(node: Node, ancestor: Node) -> bool:
    while node is not None:
        if node is ancestor:
            return True
        node = node.parent
    return False


def render_components(app, source: str, **context) -> Tree:
    with app.test_request_context("/demandes?etat=draft&page=3"):
        return Tree(
            render_template_string(
                '{% import "dsfr/components.html" as dsfr %}' + source, **context
            )
        )


def test_badge_says_its_state_in_words(app):
    page = render_components(app, '{{ dsfr.badge("Validée", "success", small=true) }}')
    badge = page.find_all("p", "fr-badge")[0]
    assert badge.text == "Validée"
    assert {"fr-badge--success", "fr-badge--sm"} <= badge.classes


def test_alert_button_breadcrumb_tile_and_card(app):
    page = render_components(
        app,
        """{{ dsfr.alert("warning", "Pièce manquante", "Ajoutez la délibération.") }}
        {{ dsfr.button("Continuer", icon="arrow-right-line", icon_position="right") }}
        {{ dsfr.button("Annuler", href="/", kind="secondary") }}
        {{ dsfr.breadcrumb([("Accueil", "/")], "Mes demandes") }}
        {{ dsfr.tile("Aide", "/aide", description="Comment remplir") }}
        {{ dsfr.card("API Particulier", "/f", description="Générique", detail="Éditeur : X") }}""",
    )
    alert = page.find_all("div", "fr-alert")[0]
    assert "fr-alert--warning" in alert.classes
    assert page.find_all("h3", "fr-alert__title")[0].text == "Pièce manquante"
    button = page.find_all("button", "fr-btn")[0]
    assert button.attrs["type"] == "submit"
    assert {"fr-icon-arrow-right-line", "fr-btn--icon-right"} <= button.classes
    link = page.find_all("a", "fr-btn--secondary")[0]
    assert link.attrs["href"] == "/" and link.text == "Annuler"
    current = page.find_all("a", "fr-breadcrumb__link")[-1]
    assert current.attrs["aria-current"] == "page" and current.text == "Mes demandes"
    tile_title = page.find_all("h3", "fr-tile__title")[0]
    assert tile_title.children[0].attrs["href"] == "/aide"
    card_link = next(n for n in page.find_all("a") if n.attrs.get("href") == "/f")
    assert card_link.text == "API Particulier"


def test_stepper_says_where_the_user_is(app):
    page = render_components(app, '{{ dsfr.stepper(2, 4, "Cadre juridique", "Données") }}')
    state = page.find_all("span", "fr-stepper__state")[0]
    assert state.text == "Étape 2 sur 4"
    steps = page.find_all("div", "fr-stepper__steps")[0]
    assert (steps.attrs["data-fr-current-step"], steps.attrs["data-fr-steps"]) == ("2", "4")
    assert "Données" in page.find_all("p", "fr-stepper__details")[0].text


def test_pagination_keeps_the_query_string(app):
    page = render_components(app, "{{ dsfr.pagination(3, 9) }}")
    current = [n for n in page.find_all("a") if n.attrs.get("aria-current") == "page"]
    assert [n.text for n in current] == ["3"]
    hrefs = {n.text.strip(): n.attrs.get("href") for n in page.find_all("a", "fr-pagination__link")}
    assert hrefs["Page suivante"] == "/demandes?etat=draft&page=4"
    assert hrefs["Page précédente"] == "/demandes?etat=draft&page=2"
    assert "9" in hrefs and "7" not in hrefs  # far pages are elided


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 11, 22), "22 novembre 2026"),
        (date(2027, 3, 1), "1er mars 2027"),
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "1er janvier 2027"),  # Paris is UTC+1
        (None, ""),
    ],
)
def test_date_fr(value, expected):
    assert date_fr(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 11, 22, 13, 5, tzinfo=UTC), "22 novembre 2026 à 14\u00a0h\u00a005"),
        (datetime(2026, 7, 14, 8, 0, tzinfo=UTC), "14 juillet 2026 à 10\u00a0h\u00a000"),
        (datetime(2026, 11, 22, 13, 5), "22 novembre 2026 à 14\u00a0h\u00a005"),  # naive = UTC
    ],
)
def test_datetime_fr_is_in_paris_time(value, expected):
    assert datetime_fr(value) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (1, "1\u00a0octet"),
        (512, "512\u00a0octets"),
        (2048, "2\u00a0Ko"),
        (1_258_291, "1,2\u00a0Mo"),
        (10 * 1024 * 1024, "10\u00a0Mo"),
        (3 * 1024**3, "3\u00a0Go"),
    ],
)
def test_filesize_fr(size, expected):
    assert filesize_fr(size) == expected


def test_filters_are_registered(app):
    with app.test_request_context():
        html = render_template_string(
            "{{ day|date_fr }}|{{ size|filesize_fr }}|{{ has_endpoint('public.home') }}"
            "|{{ has_endpoint('nope.nothing') }}",
            day=date(2026, 11, 22),
            size=2048,
        )
    assert html == "22 novembre 2026|2\u00a0Ko|True|False"
