"""The payment provider seam. Plumb records pledges; collecting money is a provider's job.

The only provider here, `RecordOnly`, records the commitment and collects nothing, so no
card data ever reaches Plumb. A real processor (Stripe, say) would implement `commit`
by creating a payment or subscription on the processor's hosted page with our
idempotency key as its own idempotency key (so a retried pledge cannot charge twice),
and return the processor's reference; the processor's webhook would then confirm or
fail the pledge. See docs/support.md."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Commitment:
    key: str
    amount_cents: int
    currency: str
    frequency: str


class Provider(Protocol):
    name: str

    def commit(self, commitment: Commitment) -> str:
        """Start collecting; return the provider's reference for the pledge."""

    def cancel(self, reference: str) -> None:
        """Stop collecting (a monthly pledge's next months)."""


class RecordOnly:
    name = "record"

    def commit(self, commitment: Commitment) -> str:
        # Deterministic: committing the same key twice gives the same reference.
        return f"record:{commitment.key}"

    def cancel(self, reference: str) -> None:
        return None


PROVIDERS: dict[str, Provider] = {"record": RecordOnly()}


def get(name: str) -> Provider:
    return PROVIDERS[name]
