"""The payment provider seam. Plumb records pledges; collecting money is a provider's job.

`RecordOnly` records the commitment and collects nothing: the pledge is active at once.
`StripeCheckout` creates a Stripe Checkout Session (our pledge key is Stripe's
idempotency key, so a retried pledge cannot make a second session or charge twice); the
pledge waits, pending, until Stripe's signed webhook says it is paid (payments.py).
Card data never reaches Plumb: the reader pays on Stripe's hosted page. PAYMENT_PROVIDER
chooses which one new pledges use; each pledge remembers its own. See docs/support.md."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import stripe
from flask import current_app

from webapp.support.models import MONTHLY, RECORD, STRIPE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Commitment:
    key: str
    amount_cents: int
    currency: str
    frequency: str
    email: str | None = None


@dataclass(frozen=True)
class Committed:
    """What the provider made of a commitment: its reference for the pledge and, when the
    reader must pay elsewhere first, where to send them (the pledge waits meanwhile)."""

    reference: str
    pay_at: str | None = None

    @property
    def pending(self) -> bool:
        return self.pay_at is not None


class ProviderUnavailable(Exception):
    """The processor could not be reached or refused to answer now; nothing was written
    here, and the same request may be sent again."""


class ProviderRefused(Exception):
    """The processor refused this request as it stands (the same key was used for other
    choices): sending it again will not help."""


class Provider(Protocol):
    name: str

    def commit(self, commitment: Commitment) -> Committed:
        """Start collecting; the same key again gives the same answer."""

    def cancel(self, pledge) -> None:
        """Stop collecting (a monthly pledge's next months); done already is fine."""

    def abandon(self, pledge) -> None:
        """Close an unpaid pledge's payment page, so it can no longer be paid; closed
        already is fine. ProviderRefused if it was paid meanwhile."""


class RecordOnly:
    name = RECORD

    def commit(self, commitment: Commitment) -> Committed:
        # Deterministic: committing the same key twice gives the same reference.
        return Committed(f"record:{commitment.key}")

    def cancel(self, pledge) -> None:
        return None

    def abandon(self, pledge) -> None:
        return None  # a recorded pledge is never waiting for a payment


def calling_stripe(call, *args, **kwargs):
    """`call(*args, **kwargs)`, with Stripe's errors as the two kinds the routes answer differently."""
    try:
        return call(*args, **kwargs)
    except stripe.IdempotencyError as refused:
        raise ProviderRefused(str(refused)) from refused
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as failed:
        raise ProviderUnavailable(str(failed)) from failed
    except stripe.AuthenticationError as failed:  # the operator's keys, not the reader's doing
        raise ProviderUnavailable(f"Stripe refused the API key: {failed}") from failed
    except stripe.PermissionError as failed:
        # A restricted key lacking a permission: answered 503, so the request (a webhook
        # above all) is retried until the operator gives the key what it needs.
        log.error("Stripe refused the API key a permission: %s", failed)
        raise ProviderUnavailable(f"the Stripe API key lacks a permission: {failed}") from failed


def _missing(error: stripe.InvalidRequestError) -> bool:
    """Stripe has no such object (404 resource_missing)."""
    return error.code == "resource_missing"


class StripeCheckout:
    """Stripe Checkout through the official library; `api_base` empty means Stripe itself."""

    name = STRIPE

    def __init__(self, secret_key: str, site_url: str, api_base: str = "", product_name: str = "Support Plumb"):
        addresses = {"api": api_base} if api_base else None
        # The library retries what failed in the network with the same idempotency key.
        self.client = stripe.StripeClient(secret_key, base_addresses=addresses, max_network_retries=2)
        self.site_url = site_url.rstrip("/")
        self.product_name = product_name

    def session_params(self, commitment: Commitment) -> dict:
        """The Checkout Session for a pledge. Return addresses come from SITE_URL alone,
        never from a request, so a forged Host cannot send readers elsewhere."""
        monthly = commitment.frequency == MONTHLY
        price = {"currency": commitment.currency.lower(), "unit_amount": commitment.amount_cents,
                 "product_data": {"name": self.product_name + (" monthly" if monthly else "")}}
        if monthly:
            price["recurring"] = {"interval": "month"}
        tagged = {"pledge": commitment.key}  # every object Stripe makes for it leads back to the pledge
        params = {
            "mode": "subscription" if monthly else "payment",
            "line_items": [{"quantity": 1, "price_data": price}],
            "success_url": f"{self.site_url}/support/thanks?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{self.site_url}/support?pledge={commitment.key}#support-widget",
            "client_reference_id": commitment.key,
            "metadata": tagged,
        }
        if monthly:
            params["subscription_data"] = {"metadata": tagged}
        else:
            params["payment_intent_data"] = {"metadata": tagged}
        if commitment.email:
            params["customer_email"] = commitment.email
        return params

    def commit(self, commitment: Commitment) -> Committed:
        try:
            session = calling_stripe(self.client.v1.checkout.sessions.create, params=self.session_params(commitment),
                                     options={"idempotency_key": commitment.key})
        except stripe.InvalidRequestError as refused:
            # Stripe refused the session as we made it (a setting of the account, or ours): not
            # the reader's doing, nothing written. The reader gets the 503 "try again in a
            # moment" with the choices kept; the operator gets this log line.
            log.error("Stripe refused a Checkout Session: %s", refused)
            raise ProviderUnavailable(f"Stripe refused the Checkout Session: {refused}") from refused
        return Committed(session.id, pay_at=session.url)

    def cancel(self, pledge) -> None:
        if pledge.subscription_ref:
            self.cancel_subscription(pledge.subscription_ref)

    def abandon(self, pledge) -> None:
        try:
            calling_stripe(self.client.v1.checkout.sessions.expire, pledge.provider_ref)
        except stripe.InvalidRequestError as refused:
            # Only an open session can be expired: one expired already is what we want; one
            # completed was paid meanwhile (another tab), and must not be replaced.
            status = self._session_status(pledge.provider_ref)
            if status == "expired" or (_missing(refused) and status is None):
                return
            if status == "complete":
                raise ProviderRefused(f"{pledge.provider_ref} was paid meanwhile") from refused
            raise ProviderUnavailable(f"Stripe refused to expire {pledge.provider_ref}: {refused}") from refused

    def _session_status(self, session_id: str) -> str | None:
        try:
            return calling_stripe(self.client.v1.checkout.sessions.retrieve, session_id).status
        except stripe.InvalidRequestError as refused:
            if _missing(refused):
                return None
            raise ProviderUnavailable(f"Stripe refused to show {session_id}: {refused}") from refused

    def cancel_subscription(self, subscription_id: str) -> None:
        """Stop the subscription; done already is fine."""
        try:
            calling_stripe(self.client.v1.subscriptions.cancel, subscription_id)
        except stripe.InvalidRequestError as refused:
            # Done only if Stripe has no such subscription, or has it cancelled already; any
            # other refusal leaves it collecting, so the pledge must stay as it is (503, try again).
            if _missing(refused) or self._subscription_status(subscription_id) == "canceled":
                return
            raise ProviderUnavailable(f"Stripe refused to cancel {subscription_id}: {refused}") from refused

    def _subscription_status(self, subscription_id: str) -> str | None:
        try:
            return calling_stripe(self.client.v1.subscriptions.retrieve, subscription_id).status
        except stripe.InvalidRequestError as refused:
            raise ProviderUnavailable(f"Stripe refused to show {subscription_id}: {refused}") from refused

    # What the webhook needs when an event does not name its pledge.
    def pledge_of_payment(self, payment_intent: str) -> tuple[str | None, str | None]:
        """The key of the pledge a payment belongs to and, for a month of a subscription,
        its invoice: a one-time payment carries the key; a monthly invoice's payment leads
        to its invoice, whose subscription carries it. (None, None) when Stripe has no such
        object: no pledge of ours (asking again would not change that). Any other refusal
        is ProviderUnavailable: answered 503, so the event is not lost."""
        try:
            return self._pledge_of_payment(payment_intent)
        except stripe.InvalidRequestError as refused:
            if _missing(refused):
                log.warning("Stripe has no %s or its invoice: %s", payment_intent, refused)
                return None, None
            raise ProviderUnavailable(f"Stripe refused to look up {payment_intent}: {refused}") from refused

    def _pledge_of_payment(self, payment_intent: str) -> tuple[str | None, str | None]:
        intent = calling_stripe(self.client.v1.payment_intents.retrieve, payment_intent).to_dict()
        if key := (intent.get("metadata") or {}).get("pledge"):
            return key, None
        payments = calling_stripe(self.client.v1.invoice_payments.list,
                                  params={"payment": {"type": "payment_intent", "payment_intent": payment_intent}})
        for payment in payments.data:
            invoice = calling_stripe(self.client.v1.invoices.retrieve, payment.invoice).to_dict()
            details = (invoice.get("parent") or {}).get("subscription_details") or {}
            if key := (details.get("metadata") or {}).get("pledge"):
                return key, invoice["id"]
        return None, None


def checkout_origin(api_base: str) -> str:
    """Where Stripe's hosted checkout pages are: Stripe's own, or the stand-in's (its pages
    live at its API's address)."""
    if not api_base:
        return "https://checkout.stripe.com"
    parts = urlsplit(api_base)
    return f"{parts.scheme}://{parts.netloc}"


_BUILT = "support_providers"


def get(name: str) -> Provider:
    """The provider called `name`, set up from the app's settings (one per app)."""
    built = current_app.extensions.setdefault(_BUILT, {})
    if name not in built:
        if name == RECORD:
            built[name] = RecordOnly()
        elif name == STRIPE:
            config = current_app.config
            built[name] = StripeCheckout(config["STRIPE_SECRET_KEY"], config["SITE_URL"], config["STRIPE_API_BASE"],
                                         product_name=f"Support {config['SITE_NAME']}")
        else:
            raise KeyError(f"no payment provider called {name!r}")
    return built[name]


def current() -> Provider:
    """The provider new pledges go to (PAYMENT_PROVIDER)."""
    return get(current_app.config["PAYMENT_PROVIDER"])
