"""RGAA 8.2 on the audit's sample (datapass/data/rgaa.yml): each page's generated markup is
well formed (every element closed in order) and its ids are unique."""

from __future__ import annotations

from html.parser import HTMLParser

from datapass import blocks
from datapass.catalog import get_catalog
from datapass.services import accessibility, decisions
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.wizard import start

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr"}
# Elements whose end tag HTML lets the parser infer.
OPTIONAL_END = {"p", "li", "option", "dt", "dd", "tr", "td", "th", "thead", "tbody"}


class MarkupChecker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ids: dict[str, int] = {}
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id":
                self.ids[value] = self.ids.get(value, 0) + 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self.stack and self.stack[-1] != tag and self.stack[-1] in OPTIONAL_END:
            self.stack.pop()
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else '∅'}>")
            return
        self.stack.pop()


def check(html: str) -> list[str]:
    checker = MarkupChecker()
    checker.feed(html)
    checker.close()
    problems = list(checker.problems)
    problems += [f"id {i!r} used {n} times" for i, n in checker.ids.items() if n > 1]
    if checker.stack:
        problems.append(f"unclosed: {checker.stack}")
    return problems


def test_every_page_of_the_sample_is_well_formed(app, client, db, login_as):
    applicant = UserFactory(roles=["api_particulier:instructor"])
    with app.test_request_context():
        approved = submitted_request(applicant, form_uid="api-particulier-aides-sociales-ccas")
        decisions.decide(
            approved, "approve", UserFactory(roles=["admin"]), version=approved.version
        )
    login_as(applicant)
    draft = start(client, get_catalog().form("api-particulier"))
    [authorization] = approved.authorizations
    ids = {"demande": approved.id, "habilitation": authorization.id}
    ids.update({f"etape-{slug}": draft for slug in ("organisation", "synthese")})
    ids.update({f"etape-{block.slug}": draft for block in blocks.REGISTRY.values()})
    ids["habilitation-contacts"] = authorization.id
    ids["instruction-demande"] = approved.id
    for page in accessibility.load_audit().pages:
        url = page.url.replace("<id>", str(ids.get(page.id, 0)))
        response = client.get(url)
        assert response.status_code == 200, (page.id, url, response.status_code)
        assert check(response.text) == [], (page.id, url)
