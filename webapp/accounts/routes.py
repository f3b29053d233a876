"""Register, log in, log out, and the account page (change password, delete)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import ServiceUnavailable

from webapp.accounts import confirmation, limits, mail, service, sessions
from webapp.accounts.forms import ConfirmForm, DeleteForm, LoginForm, PasswordForm, RegisterForm
from webapp.extensions import db
from webapp.redirects import safe_next
from webapp.rendering import render

bp = Blueprint("accounts", __name__)


def _next() -> str:
    return safe_next(request.values.get("next"), url_for("answers.home"))


def _check_inbox(email: str, waiting: bool = False):
    return render("accounts/check_inbox.html", email=email, waiting=waiting)


@bp.route("/login", methods=["GET", "POST"])
@limits.login
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_next())
        return render("accounts/login.html", form=form)
    user = service.authenticate(db.session, form.email.data or "", form.password.data or "")
    if user is None:
        form.password.errors = [service.WRONG_LOGIN]
        limits.wrong_password()
        return render("accounts/login.html", form=form), 401
    if not user.is_confirmed:
        # The password matched, so this tells nothing to someone who did not know it.
        try:
            confirmation.send_link(user, _next())
        except mail.MailError:
            raise ServiceUnavailable(mail.FAILED, retry_after=mail.RETRY_SECONDS) from None
        return _check_inbox(user.email, waiting=True)
    sessions.sign_in(user, remember=bool(form.remember.data))
    return redirect(_next(), code=303)


@bp.route("/register", methods=["GET", "POST"])
@limits.register
def register():
    form = RegisterForm(next=request.args.get("next", ""))
    if request.method == "GET":
        return render("accounts/register.html", form=form)
    try:
        registration = service.register(db.session, form.email.data or "", form.display_name.data or "",
                                        form.password.data or "", link_lifetime=confirmation.link_lifetime())
    except service.AccountError as error:
        getattr(form, error.field).errors = [str(error)]
        return render("accounts/register.html", form=form), 422
    # The same answer whether the address had an account or not; only the mail differs.
    try:
        confirmation.send_for(registration, _next())
    except mail.MailError:
        raise ServiceUnavailable(mail.FAILED, retry_after=mail.RETRY_SECONDS) from None
    return _check_inbox(registration.user.email)


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """The link mailed to a new account's address. Opening it shows one button: a GET
    must not log anyone in (mail scanners open links too)."""
    try:
        user, next_url = confirmation.read(db.session, token)
    except confirmation.BadLink as bad:
        abort(400, description=str(bad))
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(next_url, code=303)
    if user.is_confirmed:
        flash("Your address is confirmed already. Log in to continue.")
        return redirect(url_for("accounts.login", next=next_url), code=303)
    if request.method == "GET":
        return render("accounts/confirm.html", form=ConfirmForm(), email=user.email)
    service.confirm(db.session, user)
    sessions.sign_in(user, remember=False)
    flash(f"Welcome to Plumb, {user.display_name}. Your address is confirmed and your account is ready.")
    return redirect(next_url, code=303)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        # Ends this user's other sessions and remember cookies too: a stolen cookie
        # must not outlive the logout.
        service.end_sessions(db.session, current_user._get_current_object())
    sessions.sign_out()
    flash("You are logged out.")
    return redirect(url_for("answers.home"), code=303)


def _account_page(password_form=None, delete_form=None, status=200):
    return render("accounts/account.html", password_form=password_form or PasswordForm(),
                  delete_form=delete_form or DeleteForm()), status


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/password")
@login_required
@limits.password_check
def change_password():
    form = PasswordForm()
    user = current_user._get_current_object()
    try:
        service.change_password(db.session, user, form.current_password.data or "", form.new_password.data or "")
    except service.AccountError as error:
        if error.field == "current_password":
            limits.wrong_password()
        getattr(form, error.field).errors = [str(error)]
        return _account_page(password_form=form, status=422)
    sessions.sign_in_again(user)
    flash("Your password is changed. Other devices have been logged out.")
    return redirect(url_for("accounts.account"), code=303)


@bp.post("/account/delete")
@login_required
@limits.password_check
def delete_account():
    form = DeleteForm()
    try:
        service.delete(db.session, current_user._get_current_object(), form.password.data or "")
    except service.AccountError as error:
        limits.wrong_password()
        form.password.errors = [str(error)]
        return _account_page(delete_form=form, status=422)
    sessions.sign_out()
    flash("Your account is deleted. Your pledges stay counted, without your name.")
    return redirect(url_for("answers.home"), code=303)
