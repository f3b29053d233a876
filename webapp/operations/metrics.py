"""Prometheus metrics at /metrics (prometheus-client).

Counted as requests are answered: requests and their latency per endpoint (the route's
name, never the raw path: label values must stay few), and searches. Read when scraped,
so every worker and every server reports the same figures: pledges, supporters of the
campaigns taking pledges, the Whoosh outbox's length and the index's age. A database that
does not answer only drops its figures (`plumb_database_up 0`); the scrape still answers.

Under gunicorn each worker writes its counts to files in PROMETHEUS_MULTIPROC_DIR (set by
gunicorn.conf.py) and a scrape adds up every worker's, whichever worker answers it.

Not public: answered to METRICS_ALLOW's addresses when they ask directly (not through a
proxy), or to `Authorization: Bearer METRICS_TOKEN`; anyone else gets 404."""
from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import time
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.search.engine import engine_name
from webapp.search.models import SearchOutbox
from webapp.support import campaigns
from webapp.support.models import Campaign, Pledge

log = logging.getLogger(__name__)
bp = Blueprint("operations", __name__)

# Werkzeug passes any method token through; one label value stands for the odd ones.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # no route: 404s, and 405s

REQUESTS = Counter("plumb_http_requests", "Requests answered, per endpoint, method and status class",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("plumb_http_request_duration_seconds", "Time to answer a request, per endpoint",
                    ["endpoint", "method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
SEARCHES = Counter("plumb_searches", "Searches run: typed (results as you type) or submitted", ["kind"])


def observe(response: Response, seconds: float) -> None:
    endpoint = request.url_rule.endpoint if request.url_rule is not None else UNMATCHED
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(endpoint, method, f"{response.status_code // 100}xx").inc()
    LATENCY.labels(endpoint, method).observe(seconds)
    if endpoint == "search.search" and response.status_code == 200 and request.args.get("q", "").strip():
        SEARCHES.labels("typed" if request.args.get("live") else "submitted").inc()


# --- figures read when scraped ----------------------------------------------------------

def _gauge(name: str, documentation: str, value: float, labels: dict[str, str] | None = None):
    family = GaugeMetricFamily(name, documentation, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


class ScrapeTimeFigures:
    """Gauges computed at each scrape from the database and the index folder."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        try:
            figures, up = self._from_database(), 1
        except Exception as error:  # the database is down or locked: say so, answer the rest
            log.warning("metrics: the database did not answer (%s); its figures are left out",
                        error.__class__.__name__)
            figures, up = [], 0
        yield _gauge("plumb_database_up", "1 if the database answered this scrape", up)
        yield from figures
        age = self._index_age()
        if age is not None:
            yield _gauge("plumb_search_index_age_seconds", "Seconds since the Whoosh index last changed", age)

    def _from_database(self) -> list:
        now = utcnow()
        whoosh = engine_name(self.app) == "whoosh"
        with Session(db.engine) as session:
            by_status = dict(session.execute(select(Pledge.status, func.count()).group_by(Pledge.status)).all())
            live = [c for c in session.scalars(select(Campaign)) if campaigns.accepting(c, now)]
            outbox = session.scalar(select(func.count()).select_from(SearchOutbox)) if whoosh else None
        pledges = GaugeMetricFamily("plumb_pledges", "Pledges recorded, by status", labels=["status"])
        for status in ("active", "cancelled", *sorted(set(by_status) - {"active", "cancelled"})):
            pledges.add_metric([status], by_status.get(status, 0))
        supporters = GaugeMetricFamily("plumb_campaign_supporters", "Supporters of each campaign taking pledges",
                                       labels=["campaign"])
        for campaign in live:
            supporters.add_metric([campaign.slug], campaign.supporters)
        figures = [pledges, supporters]
        if outbox is not None:
            figures.append(_gauge("plumb_search_outbox_rows", "Changes waiting to reach the Whoosh index", outbox))
        return figures

    def _index_age(self) -> float | None:
        """Whoosh writes a new table of contents at every commit; none on PostgreSQL."""
        if engine_name(self.app) != "whoosh":
            return None
        try:
            newest = max(p.stat().st_mtime for p in Path(self.app.config["SEARCH_INDEX_DIR"]).glob("*.toc"))
        except (OSError, ValueError):  # no folder, or no index in it (yet)
            return None
        return max(0.0, time.time() - newest)


class ThisProcess:
    """The counts of this process alone: when no gunicorn.conf.py set up multiprocess mode
    (`flask run`, the tests), there is only one process to count."""

    def collect(self):
        return REGISTRY.collect()


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(ThisProcess())
    registry.register(ScrapeTimeFigures(current_app._get_current_object()))
    return registry


# --- who may scrape -----------------------------------------------------------------------

def allowed_networks(setting: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip()]


def _has_token() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(),
                                                                                 token.encode())


def _from_allowed_address() -> bool:
    # Through a proxy on this machine every reader would seem to come from 127.0.0.1:
    # a forwarded request is never let in by its address, only by the token.
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in allowed_networks(current_app.config["METRICS_ALLOW"]))


@bp.get("/metrics")
def metrics():
    if not (_has_token() or _from_allowed_address()):
        abort(404)
    body = generate_latest(_registry())
    return body, 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}


def register(app: Flask) -> None:
    try:  # a mistyped address stops the start, not a scrape
        allowed_networks(app.config["METRICS_ALLOW"])
    except ValueError as error:
        raise RuntimeError(f"METRICS_ALLOW must list IP addresses or networks: {error}") from None
    app.register_blueprint(bp)
