"""The mail seam: Plumb sends a few plain-text messages (confirming an address, telling
an address that someone tried to register with it). Who delivers them is chosen by the
settings: an SMTP server (MAIL_SERVER), or, without one (development, tests), the log.

A mailer only delivers; what a message says is the accounts service's business."""
from __future__ import annotations

import logging
import smtplib
from collections import deque
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

from flask import Flask, current_app

logger = logging.getLogger(__name__)

KEPT_MESSAGES = 20
# Lines up to RFC 5322's limit: a long address in a header (List-Unsubscribe) stays one
# <…> address, where the default 78 would encode it as RFC 2047 words mail clients
# cannot follow.
HEADERS_UNFOLDED = policy.SMTP.clone(max_line_length=998)
# What a reader is told when a message could not be handed over, and when to try again.
FAILED = "We could not send you a message just now. Please try again in a few minutes."
RETRY_SECONDS = 120


class MailError(Exception):
    """The message could not be handed to the mail server (try again later)."""


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    headers: tuple[tuple[str, str], ...] = ()


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str, headers: dict[str, str] | None = None) -> None:
        """Deliver one plain-text message (with these extra headers, such as
        List-Unsubscribe), or raise MailError."""


class SmtpMailer:
    """An SMTP server, through the standard library; STARTTLS when MAIL_USE_TLS."""

    def __init__(self, server: str, port: int, sender: str, username: str = "", password: str = "",
                 use_tls: bool = True, timeout: float = 10.0):
        self.server, self.port, self.sender = server, port, sender
        self.username, self.password, self.use_tls, self.timeout = username, password, use_tls, timeout

    def send(self, to: str, subject: str, text: str, headers: dict[str, str] | None = None) -> None:
        message = EmailMessage(policy=HEADERS_UNFOLDED)
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2].strip("> ") or None)
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(text)
        try:
            with smtplib.SMTP(self.server, self.port, timeout=self.timeout) as smtp:
                if self.use_tls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:  # refused, unreachable, timed out
            raise MailError(str(error)) from error


class LogMailer:
    """No mail server: each message goes to the log, and the last few stay here so that
    tests (and a developer at the console) can read the links they carry."""

    def __init__(self) -> None:
        self.sent: deque[Message] = deque(maxlen=KEPT_MESSAGES)

    def send(self, to: str, subject: str, text: str, headers: dict[str, str] | None = None) -> None:
        self.sent.append(Message(to, subject, text, tuple((headers or {}).items())))
        logger.warning("mail to %s (MAIL_SERVER is not set, so it was only logged): %s\n%s", to, subject, text)


def create(config) -> Mailer:
    if not config.get("MAIL_SERVER"):
        return LogMailer()
    return SmtpMailer(config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 587),
                      config.get("MAIL_FROM") or "Plumb <no-reply@localhost>", config.get("MAIL_USERNAME") or "",
                      config.get("MAIL_PASSWORD") or "", bool(config.get("MAIL_USE_TLS", True)))


def mailer(app: Flask | None = None) -> Mailer:
    """This app's mailer, made from its settings the first time it is needed."""
    app = app or current_app._get_current_object()
    if "mail" not in app.extensions:
        app.extensions["mail"] = create(app.config)
    return app.extensions["mail"]
