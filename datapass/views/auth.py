"""Sign-in with OpenID Connect (ProConnect), sign-out, profile and organisations."""

from __future__ import annotations

import contextlib
import logging
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from joserfc.errors import JoseError

from datapass import rate_limits
from datapass.database import may_write, writes
from datapass.extensions import login_manager
from datapass.forms.account import CurrentOrganizationForm, JoinOrganizationForm, SignOutForm
from datapass.models.base import utcnow
from datapass.services import identity, impersonation, organizations, sessions
from datapass.siret import InvalidSiret
from datapass.views.errors import AccountSuspended

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

SESSION_KEY = "datapass_sid"
NEXT_KEY = "datapass_next"
ID_TOKEN_KEY = "datapass_id_token"  # noqa: S105  (a session key name)
PROVIDER_ERRORS = (AuthlibBaseError, JoseError, requests.RequestException, ValueError, KeyError)


def safe_next(target: str | None) -> str | None:
    """Keep a redirect target only when it is a path of this site (no open redirect)."""
    if not target:
        return None
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        # An absolute URL is accepted only for this very host, then reduced to its path.
        if parts.scheme not in ("http", "https") or parts.netloc != request.host:
            return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


@login_manager.user_loader
def load_user(user_id: str):
    """The session's user: a read-only ``SessionUser`` on a page that only reads (its ORM
    ``User`` is ``entity``, loaded if some code needs it), the ``User`` in a request that
    may write (``database.may_write``)."""
    active = sessions.load_session(session.get(SESSION_KEY), writing=may_write())
    if active is None or str(active.user_id) != user_id:
        return None
    now = utcnow()
    if active.user.is_banned or not active.is_active(now):
        session.pop(SESSION_KEY, None)
        session.pop(ID_TOKEN_KEY, None)
        if active.user.is_banned:
            raise AccountSuspended()
        flash("Votre session a expiré : veuillez vous reconnecter.", "warning")
        return None
    user, expired = impersonation.acting_user(active, now)
    if expired:
        flash(
            "La connexion « en tant que » a pris fin\u00a0: vous agissez de nouveau en votre nom.",
            "info",
        )
    g.user_session = active
    return user


login_manager.login_view = "auth.login"
# Flask-Login's session protection hashes the address and user agent at every request to
# mark a session « not fresh » when they change: nothing here reads freshness (no
# ``fresh_login_required``, no remember cookie), the server-side session is what is checked.
login_manager.session_protection = None
login_manager.login_message = "Veuillez vous connecter pour accéder à cette page."
login_manager.login_message_category = "info"


@bp.get("/connexion")
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("public.home"))
    target = safe_next(request.args.get("next"))
    if target:
        session[NEXT_KEY] = target
    return render_template(
        "auth/login.html", form=SignOutForm(), configured=identity.oidc_configured()
    )


@bp.post("/connexion")
def start_login():
    form = SignOutForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        client = identity.provider()
        return client.authorize_redirect(url_for("auth.callback", _external=True))
    except identity.SignInError as error:
        return _failure(error.message)
    except PROVIDER_ERRORS:
        logger.warning("identity provider unreachable at sign-in start", exc_info=True)
        return _failure(
            "Le service de connexion ne répond pas pour le moment. Veuillez réessayer plus tard."
        )


def _failure(message: str, status: int = 400):
    return render_template("auth/failure.html", message=message), status


@bp.get("/auth/proconnect/callback")
@rate_limits.sign_in
@writes  # signs in: creates or updates the user, their memberships and a session row
def callback():
    try:
        client = identity.provider()
        token = client.authorize_access_token()
        id_claims = token.get("userinfo")
        if not id_claims:
            raise identity.SignInError(
                "Le fournisseur d’identité n’a pas transmis de jeton d’identité."
            )
        claims = identity.fetch_userinfo(client, token, id_claims)
    except identity.SignInError as error:
        return _failure(error.message)
    except AuthlibBaseError as error:
        logger.warning("sign-in refused by the OIDC checks: %s", type(error).__name__)
        code = getattr(error, "error", None)
        if code == "mismatching_state":
            return _failure(
                "La demande de connexion a expiré ou a été modifiée. Veuillez recommencer."
            )
        if code == "access_denied":
            return _failure("Vous avez annulé la connexion.")
        return _failure(
            "La connexion a échoué : le fournisseur d’identité a renvoyé une erreur. "
            "Veuillez recommencer."
        )
    except PROVIDER_ERRORS as error:
        logger.warning("sign-in failed: %s", type(error).__name__)
        return _failure(
            "La connexion a échoué : la réponse du fournisseur d’identité n’a pas pu être "
            "vérifiée. Veuillez recommencer."
        )

    try:
        result = identity.sign_in(claims)
    except identity.SignInError as error:
        return _failure(error.message, 403)

    target = session.get(NEXT_KEY)
    # Renew the session at sign-in (no fixation): drop everything, keep what we need.
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = result.session_key
    session[ID_TOKEN_KEY] = token.get("id_token")
    login_user(result.user)
    flash(f"Vous êtes connecté en tant que {result.full_name}.", "success")
    if result.siret_problem:
        flash(result.siret_problem, "warning")
    if not result.has_organization:
        return redirect(url_for("auth.join_organization", next=target))
    return redirect(target or url_for("auth.profile"))


@bp.post("/deconnexion")
def logout():
    form = SignOutForm()
    if not form.validate_on_submit():
        abort(400)
    id_token = session.get(ID_TOKEN_KEY)
    # current_user loads the session row (g.user_session) and its impersonation, if any.
    user_session = g.get("user_session") if current_user.is_authenticated else None
    if user_session is not None and user_session.impersonated_user_id is not None:
        impersonation.stop(user_session, signed_out=True)  # the journal's « stop » line
    sessions.end_session(session.get(SESSION_KEY))
    logout_user()
    session.clear()
    if id_token and identity.oidc_configured():
        try:
            client = identity.provider()
            if client.load_server_metadata().get("end_session_endpoint"):
                return client.logout_redirect(
                    post_logout_redirect_uri=url_for("auth.logged_out", _external=True),
                    id_token_hint=id_token,
                )
        except PROVIDER_ERRORS:
            logger.warning("identity provider unreachable at sign-out", exc_info=True)
    flash("Vous êtes déconnecté.", "success")
    return redirect(url_for("public.home"))


@bp.get("/deconnexion/terminee")
def logged_out():
    if identity.oidc_configured() and request.args.get("state"):
        # The provider echoes our state; a missing or stale one changes nothing here.
        with contextlib.suppress(*PROVIDER_ERRORS):
            identity.provider().validate_logout_response()
    flash("Vous êtes déconnecté.", "success")
    return redirect(url_for("public.home"))


@bp.post("/deconnexion/tous-les-appareils")
@login_required
def logout_everywhere():
    form = SignOutForm()
    if not form.validate_on_submit():
        abort(400)
    count = sessions.end_all_sessions(current_user)
    logout_user()
    session.clear()
    flash(
        f"Vous êtes déconnecté de tous les appareils ({count} session{'s' if count > 1 else ''}"
        " fermée" + ("s" if count > 1 else "") + ").",
        "success",
    )
    return redirect(url_for("public.home"))


@bp.get("/compte")
@login_required
def profile():
    return render_template(
        "auth/profile.html",
        sign_out_form=SignOutForm(),
        switch_form=CurrentOrganizationForm(),
    )


@bp.route("/compte/organisation", methods=["GET", "POST"])
@login_required
@rate_limits.sirene_lookups
def join_organization():
    form = JoinOrganizationForm()
    if form.validate_on_submit():
        try:
            organization = organizations.join_organization_by_siret(current_user, form.siret.data)
        except InvalidSiret as error:
            form.siret.errors.append(error.message)
        else:
            if organization.last_refreshed_at is None:
                flash(
                    "Les informations de cette organisation n’ont pas pu être vérifiées pour le "
                    "moment ; elles le seront plus tard.",
                    "warning",
                )
            flash(
                f"Vous êtes rattaché à {organization.display_name}. Ce rattachement n’est pas "
                "vérifié : seules vos propres demandes vous seront visibles.",
                "info",
            )
            return redirect(safe_next(request.args.get("next")) or url_for("auth.profile"))
    return render_template("auth/join_organization.html", form=form)


@bp.post("/compte/organisation-courante")
@login_required
def switch_organization():
    form = CurrentOrganizationForm()
    if not form.validate_on_submit() or not organizations.switch_current_organization(
        current_user, form.organization_id.data
    ):
        abort(400)
    flash(f"Organisation courante : {current_user.current_organization.display_name}.", "success")
    return redirect(safe_next(request.form.get("next")) or url_for("auth.profile"))


@bp.get("/organisation-fermee")
@login_required
def closed_organization():
    organization = current_user.current_organization
    if organization is None or not organization.is_closed:
        return redirect(url_for("auth.profile"))
    return render_template("auth/closed_organization.html", organization=organization), 403


def register(app) -> None:
    identity.register_provider(app)
    app.register_blueprint(bp)

    @app.before_request
    def _keep_session_permanent():
        # The absolute lifetime is enforced server-side; the cookie follows it. Set only when
        # missing: setting it marks the session modified, and every response (static files
        # included) would then send the cookie again, as it was when that request started,
        # overwriting what a page being loaded at the same time stored (an editor's
        # pre-fill, lost between the link and « Débuter ma demande »).
        if SESSION_KEY in session and not session.permanent:
            session.permanent = True
