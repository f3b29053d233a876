"""Amounts are whole cents; readers see "$12.50" or "$500"."""
from __future__ import annotations

import re

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$"}
MIN_CENTS = 100  # $1
MAX_CENTS = 1_000_000  # $10,000
# Dollars with at most two decimals, with or without thousands separators.
AMOUNT_RE = re.compile(r"^([0-9]{1,3}(,[0-9]{3})+|[0-9]{1,7})(\.[0-9]{1,2})?$")


def parse_cents(text: str) -> int | None:
    """'12.5' -> 1250; None for anything that is not an amount of whole cents."""
    text = text.strip().lstrip("$").strip()
    if not AMOUNT_RE.fullmatch(text):
        return None
    whole, _, cents = text.replace(",", "").partition(".")
    return int(whole) * 100 + int(cents.ljust(2, "0") or 0)


def format_money(cents: int, currency: str = "USD") -> str:
    whole, rest = divmod(cents, 100)
    number = f"{whole:,}" if not rest else f"{whole:,}.{rest:02d}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"
