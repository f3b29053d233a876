"""The account forms. The service decides what is valid; these only carry the fields
(and Flask-WTF's CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField


class LoginForm(FlaskForm):
    email = EmailField("Email")
    password = PasswordField("Password")
    remember = BooleanField("Remember me on this device for 30 days")
    next = HiddenField()


class RegisterForm(FlaskForm):
    email = EmailField("Email")
    display_name = StringField("Your name", description="Shown to you only, unless you choose it as a public name when you pledge.")
    password = PasswordField("Password", description="At least 12 characters. A few words you will remember make a good one.")
    next = HiddenField()


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password")
    new_password = PasswordField("New password", description="At least 12 characters.")


class DeleteForm(FlaskForm):
    password = PasswordField("Your password, to confirm")


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the confirmation link itself says which account."""
