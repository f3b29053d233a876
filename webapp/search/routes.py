"""The search page: a plain GET form, its results as htmx fragments, and the gap list."""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, redirect, request, url_for
from limits import parse

from webapp import counting
from webapp.answers import service as answers
from webapp.answers.metadata import VERDICT_LABELS
from webapp.content.naming import SLUG_RE
from webapp.editors import editor_required
from webapp.extensions import db
from webapp.pagination import page_number
from webapp.rendering import render, wants_fragment
from webapp.search import gaps, query as reader_query, service
from webapp.search.results import SORTS

bp = Blueprint("search", __name__)
FILTERS = ("category", "status", "sort")


def _choices() -> dict[str, str]:
    """The page's filters from the address; anything unknown is a 400 that says why."""
    chosen = {name: request.args.get(name, "").strip() for name in FILTERS}
    if chosen["category"] and not SLUG_RE.match(chosen["category"]):
        abort(400, description="The category filter must be a category name like 'health'.")
    if chosen["status"] and chosen["status"] not in reader_query.STATUSES:
        abort(400, description="The status filter must be 'answered' or 'unanswered'.")
    if chosen["sort"] and chosen["sort"] not in SORTS:
        abort(400, description="Results can be sorted by 'relevance' or 'newest'.")
    return chosen


def search_url(q: str, endpoint: str = "search.search", **changes) -> str:
    """The address of these results with some choices changed (None removes one)."""
    params = {"q": q, **{k: v for k, v in request.args.items() if k in FILTERS}, **changes}
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return url_for(endpoint) + ("?" + urlencode(params) if params else "")


def _asked():
    choices = _choices()
    query = reader_query.parse(request.args.get("q", ""))
    filters = dict(category=choices["category"] or None, status=choices["status"] or None)
    return choices, query, filters


@bp.get("/search")
def search():
    choices, query, filters = _asked()
    number = page_number()
    # Results first: htmx shows the ranked hits at once and asks for the counts and
    # facets in a second request (/search/counts); the plain page has everything.
    page = service.search(db.session, query, sort=choices["sort"] or "relevance", page=number,
                          counts=not wants_fragment(), **filters)
    rebuilding = service.rebuilding() or page.unavailable
    # Typing ("live") asks as the reader goes; only a submitted search counts as a gap,
    # and only one that ran on a whole index.
    if page.total == 0 and query.has_terms and not request.args.get("live") and not rebuilding:
        _record_gap(query)
    context = dict(
        page=page, query=query, choices=choices, search_url=search_url, search_text=query.text,
        counts_url=search_url(query.text, endpoint="search.counts"),
        page_title=(f"{query.text} — " if query.text else "") + f"Search — {current_app.config['SITE_NAME']}",
        rebuilding=rebuilding, verdict_labels=VERDICT_LABELS,
        recent=answers.recent_answers(db.session, 5) if page.total == 0 else [],
        categories=answers.categories_with_counts(db.session) if page.total == 0 else [],
    )
    block = "results" if request.htmx.target == "results" else "content"
    body = render("search/results.html", block=block, **context)
    headers = {}
    if wants_fragment():
        # The address bar shows the search, not the "live" flag of the request. Typing on
        # the results replaces the address, so Back leaves the search in one step instead
        # of a letter at a time; the first search from another page, a submitted search
        # and a followed link add an entry. static/js/search.js adds one when the reader
        # pauses for long, and none for a search that is already the address.
        typing_on_results = bool(request.args.get("live")) and _on_results(request.htmx.current_url)
        address = search_url(query.text, page=number if number > 1 else None)
        headers["HX-Replace-Url" if typing_on_results else "HX-Push-Url"] = address
    return body, 200, headers


def _on_results(current_url: str | None) -> bool:
    """Whether the browser shows search results: the address htmx says it is at."""
    return urlsplit(current_url or "").path == url_for("search.search")


def _record_gap(query) -> None:
    """A reader's first search for this today, within their address's hourly allowance."""
    key = gaps.normalised(query)
    if (gaps.worth_recording(key) and counting.first_time_today(f"gap:{key}", start_memory=False)
            and counting.address_allows(parse(current_app.config["GAP_LIMIT"]), "gap")):
        gaps.record(db.session, query)


@bp.get("/search/counts")
def counts():
    """The total and the facets of a search, for the results that htmx showed first."""
    choices, query, filters = _asked()
    if not wants_fragment():
        return redirect(search_url(query.text), 303)
    page = service.search(db.session, query, hits=False, **filters)
    return render("search/results.html", block="counts", page=page, query=query, choices=choices,
                  search_url=search_url, counts_only=True)


@bp.get("/search/gaps")
@editor_required
def search_gaps():
    min_readers = current_app.config["GAP_MIN_READERS"]
    return render("search/gaps.html", gaps=gaps.top(db.session, min_readers=min_readers), min_readers=min_readers)
