"""Register, log in, log out, and the account page (change password, delete)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required

from webapp.accounts import limits, service, sessions
from webapp.accounts.forms import DeleteForm, LoginForm, PasswordForm, RegisterForm
from webapp.extensions import db
from webapp.redirects import safe_next
from webapp.rendering import render

bp = Blueprint("accounts", __name__)

def _next() -> str:
    return safe_next(request.values.get("next"), url_for("answers.home"))


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
        return render("accounts/login.html", form=form), 401
    sessions.sign_in(user, remember=bool(form.remember.data))
    return redirect(_next(), code=303)


@bp.route("/register", methods=["GET", "POST"])
@limits.register
def register():
    form = RegisterForm(next=request.args.get("next", ""))
    if request.method == "GET":
        return render("accounts/register.html", form=form)
    try:
        user = service.register(db.session, form.email.data or "", form.display_name.data or "", form.password.data or "")
    except service.AccountError as error:
        getattr(form, error.field).errors = [str(error)]
        return render("accounts/register.html", form=form), 422
    sessions.sign_in(user, remember=False)
    flash(f"Welcome to Plumb, {user.display_name}. Your account is ready.")
    return redirect(_next(), code=303)


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
@limits.login
def change_password():
    form = PasswordForm()
    user = current_user._get_current_object()
    try:
        service.change_password(db.session, user, form.current_password.data or "", form.new_password.data or "")
    except service.AccountError as error:
        getattr(form, error.field).errors = [str(error)]
        return _account_page(password_form=form, status=422)
    sessions.sign_in_again(user)
    flash("Your password is changed. Other devices have been logged out.")
    return redirect(url_for("accounts.account"), code=303)


@bp.post("/account/delete")
@login_required
def delete_account():
    form = DeleteForm()
    try:
        service.delete(db.session, current_user._get_current_object(), form.password.data or "")
    except service.AccountError as error:
        form.password.errors = [str(error)]
        return _account_page(delete_form=form, status=422)
    sessions.sign_out()
    flash("Your account is deleted. Your pledges stay counted, without your name.")
    return redirect(url_for("answers.home"), code=303)
