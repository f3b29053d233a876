"""Confirming an address: the signed, expiring link mailed to it, and the messages that
registering (or logging in to an unconfirmed account) sends.

The link carries the account's number and address, a fingerprint of its session token
(a lapsed account started afresh gets a new one, so its old links die) and where to go
afterwards; it is signed with SECRET_KEY, so none of these can be changed, and expires
after CONFIRM_LINK_HOURS."""
from __future__ import annotations

import datetime as dt
import hashlib
import logging

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from webapp.accounts import limits, mail, service
from webapp.accounts.models import User
from webapp.redirects import safe_next
from webapp.urls import absolute_url

logger = logging.getLogger(__name__)

SALT = "plumb-confirm-account"


class BadLink(ValueError):
    """A confirmation link that was changed, has expired or names no waiting account."""


def link_lifetime() -> dt.timedelta:
    return dt.timedelta(hours=current_app.config["CONFIRM_LINK_HOURS"])


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.session_token.encode()).hexdigest()[:16]


def token_for(user: User, next_url: str) -> str:
    return _serializer().dumps({"id": user.id, "email": user.email, "v": _fingerprint(user), "next": next_url})


def read(session: Session, token: str) -> tuple[User, str]:
    """The account a link names and where to go next, or BadLink."""
    try:
        data = _serializer().loads(token, max_age=int(link_lifetime().total_seconds()))
    except SignatureExpired:
        raise BadLink("This link has expired. Log in with your email address and password, and we will send "
                      "you a new one.") from None
    except BadData:
        raise BadLink("This link is not valid. Check that you opened the whole link from the message.") from None
    user = session.get(User, data.get("id")) if isinstance(data, dict) and isinstance(data.get("id"), int) else None
    if user is None or not user.is_active or user.email != data.get("email") or _fingerprint(user) != data.get("v"):
        raise BadLink("This link is no longer valid. Log in with your email address and password, and we will "
                      "send you a new one if your account still needs confirming.")
    return user, safe_next(data.get("next"), "/")


def _send(to: str, subject: str, text: str) -> None:
    """Hand one message to the mailer, unless this address has had its share lately (then
    nothing is sent, silently: the answer must not differ, and a mailbox must not be flooded)."""
    if not limits.may_mail(to):
        logger.info("mail to an address not sent: it reached MAIL_LIMIT_RECIPIENT")
        return
    mail.mailer().send(to, subject, text)


def _confirm_text(user: User, next_url: str, again: bool) -> str:
    link = absolute_url("accounts.confirm", token=token_for(user, next_url))
    hours = current_app.config["CONFIRM_LINK_HOURS"]
    site = current_app.config["SITE_NAME"]
    opening = (f"Someone, perhaps you, tried to register again with this address. Your {site} account, "
               f"started on {user.created_at:%d %B %Y}, is waiting to be confirmed; it keeps the name and "
               "password it was given then." if again else
               f"Hello {user.display_name},\n\nto finish creating your {site} account, confirm your address.")
    return (f"{opening}\n\nOpen this link within {hours} hours to confirm it and log in:\n\n{link}\n\n"
            f"If you did not ask for an account on {site}, ignore this message and do not open the link: "
            "an account that is never confirmed cannot be used, and the address is free again after "
            f"{hours} hours.\n")


def send_link(user: User, next_url: str, again: bool = False) -> None:
    """The confirmation link, to the account's address. Raises mail.MailError."""
    _send(user.email, f"Confirm your {current_app.config['SITE_NAME']} account", _confirm_text(user, next_url, again))


def send_for(registration: service.Registration, next_url: str) -> None:
    """What a registration leads to, by mail to the address it named: the link for a new
    account, the link again for one still waiting, and a note for an existing account
    (which is left as it is). Raises mail.MailError."""
    user, site = registration.user, current_app.config["SITE_NAME"]
    if registration.outcome != service.EXISTING:
        send_link(user, next_url, again=registration.outcome == service.UNCONFIRMED)
        return
    login = absolute_url("accounts.login")
    _send(user.email, f"Someone tried to register on {site} with your address",
          f"Someone, perhaps you, tried to create a {site} account with this address. It has an account "
          f"already, so nothing was created and nothing was changed.\n\nTo log in, go to {login} and use "
          "your email address and the password you chose.\n\nIf it was not you, you need not do anything.\n")
