"""The editors' space: their démarches and pre-filled links, a funnel, their customers.

An editor (``catalog/data/editors.yml``) sees only what went through its own démarches:
aggregates for the funnel (no request content), and the habilitations whose technical
contact is its support team (organisation, SIRET, reference, data, state, token expiry).
Every list is computed in SQL with a constant number of queries whatever the data size.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import and_, case, extract, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload
from werkzeug.datastructures import MultiDict

from datapass import blocks
from datapass.blocks.contacts import TECHNICAL
from datapass.blocks.modalities import MODALITY_LABELS
from datapass.catalog import Editor, get_catalog
from datapass.catalog.model import Form as CatalogForm
from datapass.extensions import db
from datapass.models import ApiToken, Authorization, AuthorizationRequest, AuthorizationRequestEvent
from datapass.models.authorization import AUTHORIZATION_OBSOLETE
from datapass.models.base import utcnow
from datapass.services import tokens

PAGE_SIZE = 25
FUNNEL_MONTHS = 12
NBSP = "\u00a0"
REFUSED_PREFIX = f"Ce champ ne peut pas être pré-rempli par un lien{NBSP}: "


def editor_or_none(editor_id: str) -> Editor | None:
    return get_catalog().editors.get(editor_id)


def editor_forms(editor_id: str) -> tuple[CatalogForm, ...]:
    """The editor's démarches, public or not, in catalogue order."""
    return get_catalog().editor_forms(editor_id)


def editor_form_or_none(editor_id: str, uid: str) -> CatalogForm | None:
    """One of the editor's démarches (never another editor's, nor a generic form)."""
    return next((f for f in editor_forms(editor_id) if f.uid == uid), None)


# ---------------------------------------------------------------- the link builder


@dataclass(frozen=True)
class LinkField:
    """A value an editor's link may pre-fill on a démarche (a query parameter)."""

    name: str  # the field, and the parameter that ``blocks.prefill_from_query`` reads
    label: str
    hint: str | None = None
    multiline: bool = False
    render_kw: Mapping[str, Any] = field(default_factory=dict)
    choices: tuple[tuple[str, str], ...] = ()  # list fields: (value, label)

    @property
    def is_list(self) -> bool:
        return self.name in blocks.LIST_FIELDS

    @property
    def parameter(self) -> str:
        """The name in the link: ``scopes[]`` for a list, as documented for editors."""
        return f"{self.name}[]" if self.is_list else self.name


def _list_choices(catalog_form: CatalogForm, name: str) -> tuple[tuple[str, str], ...]:
    """The values a link may tick: offered and not locked by the démarche."""
    if name == "scopes":
        locked = catalog_form.locked_scopes
        return tuple(
            (scope.value, scope.label)
            for group in catalog_form.offered_scopes()
            for scope in group.scopes
            if scope.value not in locked
        )
    if name == "modalities":
        return tuple((m, MODALITY_LABELS.get(m, m)) for m in catalog_form.modality_values())
    return ()


def link_fields(catalog_form: CatalogForm) -> list[LinkField]:
    """What a link may pre-fill on this démarche, in its steps' order: the allowlisted fields
    (``blocks.PREFILLABLE_FIELDS``) that it does not lock, list fields with their choices."""
    found: list[LinkField] = []
    for block_id in catalog_form.editable_steps:
        block = blocks.get(block_id)
        if not block.prefillable:
            continue
        instance = block.form_class_for(catalog_form)()
        for name in block.answer_fields(catalog_form):
            if name not in blocks.PREFILLABLE_FIELDS or catalog_form.field_is_locked(name):
                continue
            target = getattr(instance, name, None)
            label = target.label.text if target is not None else name
            if name in blocks.LIST_FIELDS:
                choices = _list_choices(catalog_form, name)
                if choices:
                    found.append(LinkField(name, label, choices=choices))
                continue
            found.append(
                LinkField(
                    name,
                    label,
                    hint=(target.description or None) if target is not None else None,
                    multiline=target is not None and target.type == "TextAreaField",
                    render_kw=dict(getattr(target, "render_kw", None) or {}),
                )
            )
    return found


@dataclass
class PrefillLink:
    """What the builder made of the parameters it was given."""

    url: str | None  # None until a value is accepted
    values: MultiDict  # the accepted values, by field name (the builder's form data)
    errors: dict[str, list[str]]  # field name → messages (values refused or dropped)
    refused: dict[str, str]  # parameters that have no field here → message


def _refusal(catalog_form: CatalogForm, name: str) -> str:
    """Why ``name`` can never be pre-filled by a link on this démarche."""
    block = blocks.block_of(name)
    if block == "contacts":
        reason = "un lien ne nomme pas les personnes impliquées (contacts)."
    elif name in blocks.DOCUMENT_FIELDS:
        reason = "un document ne se transmet pas par un lien."
    elif catalog_form.field_block(name) is None or name not in blocks.PREFILLABLE_FIELDS:
        reason = "ce paramètre n’existe pas dans cette démarche."
    elif catalog_form.field_is_locked(name):
        reason = "il est fixé par la démarche."
    else:
        reason = "aucune valeur n’est proposée pour ce champ dans cette démarche."
    return REFUSED_PREFIX + reason


def _value_errors(catalog_form: CatalogForm, name: str, value: str) -> list[str]:
    """The field's own checks on a pre-filled value (a refused value would be dropped)."""
    block = blocks.get(blocks.FIELD_BLOCKS[name])
    cleaned, problem = block.clean_value(name, value)
    if problem is not None:
        return [problem]
    instance = block.form(catalog_form, {name: cleaned})
    target = getattr(instance, name, None)
    if target is None or target.validate(instance):
        return []
    return [f"Cette valeur ne serait pas reprise{NBSP}: {message}" for message in target.errors]


def build_prefill_link(catalog_form: CatalogForm, args: MultiDict, base_url: str) -> PrefillLink:
    """Check the builder's parameters (or a link's query string) and build the link.

    Accepted values go into the link with the names ``blocks.prefill_from_query`` reads
    (``intitule=…``, ``scopes[]=…``); a parameter the démarche does not allow (unknown,
    contact, document, locked field, value not offered) is refused with a French message.
    """
    fields = {f.name: f for f in link_fields(catalog_form)}
    values, errors, refused = MultiDict(), {}, {}
    pairs: list[tuple[str, str]] = []
    for key in dict.fromkeys(args.keys()):
        name = key[:-2] if key.endswith("[]") else key
        raw = [item.strip() for item in args.getlist(key)]
        if not any(raw):
            continue
        link_field = fields.get(name)
        if link_field is None:
            refused[key] = _refusal(catalog_form, name)
            continue
        if link_field.is_list:
            offered = {value for value, _ in link_field.choices}
            for item in dict.fromkeys(item for item in raw if item):
                if item in offered:
                    values.add(name, item)
                    pairs.append((link_field.parameter, item))
                    continue
                what = (
                    "est fixée par la démarche"
                    if item in catalog_form.locked_scopes
                    else ("n’est pas proposée par cette démarche")
                )
                errors.setdefault(name, []).append(
                    f"{REFUSED_PREFIX}la valeur «{NBSP}{item}{NBSP}» {what}."
                )
            continue
        value = next(item for item in raw if item)
        values[name] = value
        problems = _value_errors(catalog_form, name, value)
        if problems:
            errors[name] = problems
        else:
            pairs.append((name, value))
    query = "&".join(f"{quote(key, safe='[]')}={quote(value, safe='')}" for key, value in pairs)
    url = f"{base_url}?{query}" if query else None
    return PrefillLink(url=url, values=values, errors=errors, refused=refused)


# ---------------------------------------------------------------- the funnel


@dataclass
class FunnelRow:
    """One démarche and month (of the requests' start): aggregates only."""

    catalog_form: CatalogForm
    month: date  # its first day
    started: int = 0
    submitted: int = 0
    validated: int = 0
    refused: int = 0
    median_days: float | None = None  # from the first submission to the first decision


def _since(now: datetime, months: int) -> datetime:
    """The first instant of the month ``months - 1`` months before ``now``'s."""
    index = now.year * 12 + now.month - 1 - (months - 1)
    return now.replace(
        year=index // 12, month=index % 12 + 1, day=1, hour=0, minute=0, second=0, microsecond=0
    )


def funnel(editor_id: str, *, months: int = FUNNEL_MONTHS, now: datetime | None = None):
    """Per démarche and month of start (the last ``months``): requests started, submitted,
    validated, refused (never validated), and the median days from the first submission to
    the first decision. Two queries, whatever the number of requests."""
    forms = {f.uid: f for f in editor_forms(editor_id)}
    if not forms:
        return []
    since = _since(now or utcnow(), months)
    event = AuthorizationRequestEvent
    in_scope = and_(
        AuthorizationRequest.form_uid.in_(list(forms)), AuthorizationRequest.created_at >= since
    )

    def first(name: str):
        return func.min(case((event.name == name, event.created_at))).label(f"{name}_at")

    firsts = (
        select(event.authorization_request_id.label("request_id"), *map(first, _DECISIONS))
        .join(AuthorizationRequest, AuthorizationRequest.id == event.authorization_request_id)
        .where(in_scope, event.name.in_(_DECISIONS))
        .group_by(event.authorization_request_id)
        .subquery()
    )
    year = extract("year", AuthorizationRequest.created_at).label("year")
    month = extract("month", AuthorizationRequest.created_at).label("month")
    base = (
        select(AuthorizationRequest.form_uid, year, month)
        .outerjoin(firsts, firsts.c.request_id == AuthorizationRequest.id)
        .where(in_scope)
    )
    refused_only = case((and_(firsts.c.refuse_at.is_not(None), firsts.c.approve_at.is_(None)), 1))
    counts = db.session.execute(
        base.add_columns(
            func.count(AuthorizationRequest.id),
            func.count(firsts.c.submit_at),
            func.count(firsts.c.approve_at),
            func.count(refused_only),
        ).group_by(AuthorizationRequest.form_uid, year, month)
    ).all()
    decided = db.session.execute(
        base.add_columns(firsts.c.submit_at, firsts.c.approve_at, firsts.c.refuse_at).where(
            firsts.c.submit_at.is_not(None),
            or_(firsts.c.approve_at.is_not(None), firsts.c.refuse_at.is_not(None)),
        )
    ).all()
    durations: dict[tuple, list[float]] = {}
    for uid, y, m, submitted_at, approved_at, refused_at in decided:
        decision = min(d for d in (approved_at, refused_at) if d is not None)
        days = (decision - submitted_at).total_seconds() / 86400
        durations.setdefault((uid, int(y), int(m)), []).append(max(days, 0.0))
    order = {uid: index for index, uid in enumerate(forms)}
    rows = []
    for uid, y, m, started, submitted, validated, refused in counts:
        key = (uid, int(y), int(m))
        rows.append(
            FunnelRow(
                catalog_form=forms[uid],
                month=date(key[1], key[2], 1),
                started=started,
                submitted=submitted,
                validated=validated,
                refused=refused,
                median_days=statistics.median(durations[key]) if key in durations else None,
            )
        )
    rows.sort(key=lambda row: (order[row.catalog_form.uid], -row.month.toordinal()))
    return rows


_DECISIONS = ("submit", "approve", "refuse")


# ---------------------------------------------------------------- customers' habilitations


@dataclass
class CustomerRow:
    authorization: Authorization
    scope_labels: list[str]
    token: ApiToken | None


@dataclass
class CustomersPage:
    rows: list[CustomerRow]
    next_cursor: int | None  # ``apres``: the last id of this page
    previous_cursor: int | None  # ``avant``: the first id of this page


def _editor_contact_emails(forms) -> list[str]:
    emails = {
        answers[f"{TECHNICAL}_email"].strip().lower()
        for catalog_form in forms
        if (answers := catalog_form.editor_contact_answers())
    }
    return sorted(emails)


def customers_page(
    editor_id: str, *, after: int | None = None, before: int | None = None
) -> CustomersPage:
    """The habilitations (current or revoked, not superseded) made through the editor's
    démarches whose technical contact, as approved, is the editor's support team; newest
    first, by keyset on the id: one query for the page and one for its tokens."""
    forms = [f for f in editor_forms(editor_id) if f.editor_contact_answers()]
    emails = _editor_contact_emails(forms)
    if not forms:
        return CustomersPage([], None, None)
    technical_email = func.lower(Authorization.data[f"{TECHNICAL}_email"].as_string())
    statement = (
        select(Authorization)
        .join(Authorization.organization)
        .options(contains_eager(Authorization.organization), selectinload(Authorization.tokens))
        .where(
            Authorization.form_uid.in_([f.uid for f in forms]),
            Authorization.state != AUTHORIZATION_OBSOLETE,
            technical_email.in_(emails),
        )
    )
    backwards = before is not None and after is None
    if after is not None:
        statement = statement.where(Authorization.id < after)
    elif backwards:
        statement = statement.where(Authorization.id > before)
    ordering = Authorization.id.asc() if backwards else Authorization.id.desc()
    found = list(db.session.scalars(statement.order_by(ordering).limit(PAGE_SIZE + 1)))
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    if backwards:
        found.reverse()
    rows = [_customer_row(authorization) for authorization in found]
    has_next = more if not backwards else True
    has_previous = after is not None if not backwards else more
    return CustomersPage(
        rows=rows,
        next_cursor=found[-1].id if found and has_next else None,
        previous_cursor=found[0].id if found and has_previous else None,
    )


@dataclass
class EditorSpace:
    """Everything the editor's space shows: démarches, funnel, one page of customers."""

    editor: Editor
    forms: tuple[CatalogForm, ...]
    funnel: list[FunnelRow]
    customers: CustomersPage


def editor_space(
    editor: Editor, *, after: int | None = None, before: int | None = None
) -> EditorSpace:
    """The editor's space: four queries whatever the number of requests."""
    return EditorSpace(
        editor=editor,
        forms=editor_forms(editor.id),
        funnel=funnel(editor.id),
        customers=customers_page(editor.id, after=after, before=before),
    )


def _customer_row(authorization: Authorization) -> CustomerRow:
    catalog_form = get_catalog().form(authorization.form_uid)
    definition = catalog_form.definition if catalog_form else None
    labels = []
    for value in (authorization.data or {}).get("scopes") or []:
        scope = definition.scope(value) if definition else None
        labels.append(scope.label if scope else value)
    return CustomerRow(authorization, labels, tokens.current_token(authorization))
