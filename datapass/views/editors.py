"""The editors' space (``/editeurs/<editor_id>``): their démarches and pre-filled links, a
funnel of their requests, their customers' habilitations. Its staff (``editor:<id>``) and
admins only; anybody else gets a 404, as for an unknown editor."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required

from datapass import permissions
from datapass.forms.editors import link_builder_form
from datapass.services import editors
from datapass.views import int_arg

bp = Blueprint("editors", __name__, url_prefix="/editeurs")


def _editor_or_404(editor_id: str):
    """The editor if the current user may use its space; 404 otherwise (no existence leak)."""
    editor = editors.editor_or_none(editor_id)
    if editor is None or not permissions.can_use_editor_space(current_user, editor_id):
        abort(404)
    return editor


def _cursor(name: str) -> int | None:
    return int_arg(name)


@bp.get("/<editor_id>")
@login_required
def space(editor_id: str):
    editor = _editor_or_404(editor_id)
    view = editors.editor_space(editor, after=_cursor("apres"), before=_cursor("avant"))
    public_links = {
        catalog_form.uid: url_for("applicant.introduction", uid=catalog_form.uid, _external=True)
        for catalog_form in view.forms
    }
    return render_template("editors/space.html", view=view, public_links=public_links)


@bp.get("/<editor_id>/demarches/<uid>/lien")
@login_required
def link_builder(editor_id: str, uid: str):
    """A GET form: the values an editor's link may pre-fill on this démarche, and the link."""
    editor = _editor_or_404(editor_id)
    catalog_form = editors.editor_form_or_none(editor_id, uid)
    if catalog_form is None:
        abort(404)
    base_url = url_for("applicant.introduction", uid=uid, _external=True)
    link = (
        editors.build_prefill_link(catalog_form, request.args, base_url) if request.args else None
    )
    form = link_builder_form(editors.link_fields(catalog_form), link, request.args)
    return render_template(
        "editors/link.html",
        editor=editor,
        catalog_form=catalog_form,
        form=form,
        link=link,
        base_url=base_url,
    )
