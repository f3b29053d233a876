"""What a reader chose in the pledge form, checked: amount, frequency, name, message, key."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from webapp.support.models import MONTHLY, ONCE
from webapp.support.money import MAX_CENTS, MIN_CENTS, format_money, parse_cents

PRESETS = (500, 1000, 2500)
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_NAME = 80
MAX_MESSAGE = 280


@dataclass
class Choice:
    amount_cents: int | None = None
    preset: str = "1000"  # the radio button checked: a preset's cents, or "custom"
    custom: str = ""
    frequency: str = ONCE
    public_name: str = ""
    message: str = ""
    key: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def as_form(self) -> dict:
        """What is kept while the reader logs in (in the session)."""
        return {"amount": self.preset, "custom_amount": self.custom, "frequency": self.frequency,
                "public_name": self.public_name, "message": self.message, "key": self.key}

    def summary(self, currency: str) -> str:
        return summary(self.amount_cents or 0, currency, self.frequency)


def summary(amount_cents: int, currency: str, frequency: str) -> str:
    """A pledge in words, the same wherever it is shown: "$10 one time", "$25 every month"."""
    amount = format_money(amount_cents, currency)
    return f"{amount} every month" if frequency == MONTHLY else f"{amount} one time"


def pledge_summary(pledge) -> str:
    """The `pledge_summary` filter: a recorded pledge (or a thank-you) in words."""
    return summary(pledge.amount_cents, pledge.currency, pledge.frequency)


def plain_text(text: str) -> str:
    """User-written text made safe to keep: no control or format characters (such as
    right-to-left overrides that make a name read backwards), whitespace collapsed.
    It is escaped when shown, like everything else."""
    kept = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in unicodedata.normalize("NFC", text))
    return " ".join(kept.split())


def parse(form) -> Choice:
    """Read a submitted pledge form (any mapping). `errors` says what is wrong, by field."""
    choice = Choice(preset=form.get("amount", ""), custom=form.get("custom_amount", "").strip(),
                    frequency=form.get("frequency", ONCE), key=form.get("key", ""))
    choice.public_name = plain_text(form.get("public_name", ""))
    choice.message = plain_text(form.get("message", ""))
    if choice.custom:  # a typed amount is what the reader meant, whichever button is still on
        choice.preset = "custom"
    if choice.preset == "custom":
        cents = parse_cents(choice.custom)
        if cents is None:
            choice.errors["amount"] = "Enter an amount in dollars and cents, such as 15 or 12.50."
        elif not MIN_CENTS <= cents <= MAX_CENTS:
            choice.errors["amount"] = (f"Choose an amount from {format_money(MIN_CENTS)} "
                                       f"to {format_money(MAX_CENTS)}.")
        choice.amount_cents = cents
    elif choice.preset in {str(cents) for cents in PRESETS}:
        choice.amount_cents = int(choice.preset)
    else:
        choice.errors["amount"] = "Choose an amount."
    if choice.frequency not in (ONCE, MONTHLY):
        choice.errors["frequency"] = "Choose one-time or monthly."
    if len(choice.public_name) > MAX_NAME:
        choice.errors["public_name"] = f"Use at most {MAX_NAME} characters for your public name."
    if len(choice.message) > MAX_MESSAGE:
        choice.errors["message"] = f"Keep your message to {MAX_MESSAGE} characters (it has {len(choice.message)})."
    if not KEY_RE.fullmatch(choice.key):
        choice.errors["key"] = "This form is missing its pledge number. Reload the page and try again."
    return choice
