"""Webhooks as Stripe sends them: the event's JSON POSTed to one endpoint, signed, retried.

The signature is Stripe's: `Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" keyed with the whsec_ secret>`, made afresh for every attempt, so the
receiver checks it with `stripe.Webhook.construct_event` exactly as in production.
Delivery runs on one background thread. A failed attempt (no answer, or anything but
2xx) is tried again after each of `retry_delays` seconds; Stripe keeps trying for days,
a development tool gives up sooner. Delivery can be paused, so that a test can hold the
events and then deliver them in any order, as often as it likes (`deliver`)."""
from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import threading
import time
import urllib.error
import urllib.request

log = logging.getLogger(__name__)

# The receiver is a development server next to the stand-in: a proxy from the
# environment would only get in the way.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def signature_header(body: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_body(event: dict) -> bytes:
    # Stripe sends its events indented; the receiver must verify the exact bytes either way.
    return json.dumps(event, indent=2).encode()


class Dispatcher:
    def __init__(self, url: str | None, secret: str, retry_delays=(1, 5, 25), timeout: float = 10):
        self.url = url
        self.secret = secret
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.paused = False
        self.held: list[dict] = []
        # event id -> one entry per attempt: when, and the answer's status or the error
        self.attempts: dict[str, list[dict]] = {}
        self._due: list[tuple[float, int, int, dict]] = []  # (when, order, attempt number, event)
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def enqueue(self, event: dict) -> None:
        with self._wake:
            if self.url is None:
                return
            if self.paused:
                self.held.append(event)
                return
            self._schedule(event, 0, time.monotonic())

    def _schedule(self, event: dict, attempt: int, when: float) -> None:
        heapq.heappush(self._due, (when, next(self._order), attempt, event))
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="standin-webhooks", daemon=True)
            self._thread.start()
        self._wake.notify()

    def pause(self) -> None:
        with self._wake:
            self.paused = True

    def resume(self) -> None:
        """Automatic delivery again, starting with the events held meanwhile, in order."""
        with self._wake:
            self.paused = False
            held, self.held = self.held, []
            for event in held:
                self._schedule(event, 0, time.monotonic())

    def clear(self) -> None:
        with self._wake:
            self._due.clear()
            self.held.clear()
            self.attempts.clear()
            self.paused = False

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()

    def attempts_for(self, event_id: str) -> list[dict]:
        with self._wake:
            return list(self.attempts.get(event_id, []))

    def pending(self) -> int:
        with self._wake:
            return len(self._due) + len(self.held)

    def deliver(self, event: dict) -> dict:
        """One attempt, now, on the caller's thread; returns what happened."""
        body = event_body(event)
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) Plumb stand-in",
            "Stripe-Signature": signature_header(body, self.secret, int(time.time())),
        })
        outcome: dict = {"at": int(time.time())}
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                outcome["status"] = response.status
        except urllib.error.HTTPError as refused:
            outcome["status"] = refused.code
        except OSError as failure:
            outcome["error"] = str(failure)
        outcome["ok"] = 200 <= outcome.get("status", 0) < 300
        with self._wake:
            self.attempts.setdefault(event["id"], []).append(outcome)
        log.info("webhook %s %s -> %s", event["type"], event["id"], outcome.get("status") or outcome["error"])
        return outcome

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._closed and (not self._due or self._due[0][0] > time.monotonic()):
                    self._wake.wait(self._due[0][0] - time.monotonic() if self._due else None)
                if self._closed:
                    return
                _, _, attempt, event = heapq.heappop(self._due)
            if not self.deliver(event)["ok"] and attempt < len(self.retry_delays):
                with self._wake:
                    self._schedule(event, attempt + 1, time.monotonic() + self.retry_delays[attempt])
