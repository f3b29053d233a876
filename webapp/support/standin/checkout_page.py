"""The hosted checkout page at a session's `url`: where Stripe would ask for a card, the
stand-in offers Pay, Decline and Cancel. Plain forms, no script, no CSRF token: it is a
local test tool, and anyone who can reach it can already pay through `/_standin/`."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from webapp.support.standin.api import standin
from webapp.support.standin.ledger import StripeError

blueprint = Blueprint("standin_checkout", __name__, template_folder="templates")

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$"}


def money(cents: int, currency: str) -> str:
    amount = f"{cents // 100:,}.{cents % 100:02d}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {currency.upper()}"


def how_often(price: dict) -> str:
    recurring = price["recurring"]
    if not recurring:
        return "one time"
    count, interval = recurring["interval_count"], recurring["interval"]
    return f"every {interval}" if count == 1 else f"every {count} {interval}s"


def _session_or_404(session_id: str) -> dict:
    try:
        return standin().ledger.get("checkout.session", session_id)
    except StripeError:
        abort(404, description="There is no checkout session at this address.")


def _page(session: dict, *, declined: bool = False, status: int = 200):
    items = standin().ledger.line_items(session["id"])
    lines = [{"name": item["description"], "quantity": item["quantity"],
              "price": f"{money(item['amount_total'], item['currency'])} {how_often(item['price'])}"}
             for item in items]
    total = money(session["amount_total"], session["currency"])
    return render_template("standin/checkout.html", session=session, lines=lines, total=total,
                           often=how_often(items[0]["price"]), declined=declined), status


@blueprint.get("/c/pay/<session_id>")
def show(session_id: str):
    return _page(_session_or_404(session_id), declined=request.args.get("declined") == "1")


@blueprint.post("/c/pay/<session_id>")
def choose(session_id: str):
    session = _session_or_404(session_id)
    if session["status"] != "open":
        # A second press, or Back after paying: say where things stand, change nothing.
        return _page(session, status=409)
    action = request.form.get("action")
    if action == "pay":
        session = standin().ledger.pay(session_id, request.form.get("email", "").strip() or None)
        return redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id), 303)
    if action == "decline":
        # Nothing is recorded and nothing is sent: a refused card leaves the session open.
        return redirect(url_for(".show", session_id=session_id, declined="1"), 303)
    if action == "cancel" and session["cancel_url"]:
        return redirect(session["cancel_url"], 303)
    abort(400, description="Choose Pay, Decline or Cancel.")
