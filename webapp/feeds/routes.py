"""Feeds, the sitemap and robots.txt: read input, call the service, answer XML or text.

Each is the same for every reader: nothing here reads the session, so responses are
`Cache-Control: public`, carry no cookie and do not vary on one. Their validators come
from the content version and the newest revision (service.Freshness), so a feed reader or
crawler that asks again with its ETag gets 304 after two primary-key reads; a rendered
feed is kept in the answer cache under the same version (webapp/answers/cache.py)."""
from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator

from flask import Blueprint, Response, abort, current_app, request, stream_with_context
from werkzeug.http import dump_header, parse_set_header

from webapp.answers import cache as answer_cache
from webapp.answers import service as answer_service
from webapp.extensions import db
from webapp.feeds import atom, crawlers, service
from webapp.lookups import or_404
from webapp.urls import absolute_url

bp = Blueprint("feeds", __name__)

FEED_SIZE = 50  # entries per feed (app config FEED_SIZE)
SITEMAP_PAGE_SIZE = crawlers.MAX_URLS  # URLs per sitemap file (app config SITEMAP_PAGE_SIZE; tests lower it)
SITEMAP_BATCH = 1000  # answered questions read per query while a sitemap file is written
FEED_MAX_AGE = 300
SITEMAP_MAX_AGE = 3600
ROBOTS_MAX_AGE = 24 * 3600
ATOM = "application/atom+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
# Flask-Compress marks a strong ETag with the coding it compressed with ("…:br"): a
# client that holds one of those holds our body all the same.
CODINGS = ("br", "gzip", "deflate", "zstd")
SLUG_MARK = "sitemap-slug"  # a slug, to cut an answer's URL into what comes before and after it


@bp.record_once
def _settings(state) -> None:
    state.app.config.setdefault("FEED_SIZE", FEED_SIZE)
    state.app.config.setdefault("SITEMAP_PAGE_SIZE", SITEMAP_PAGE_SIZE)


class SameForEveryone(Response):
    """A response that depends on nothing the reader sends but the URL (and its
    encoding). Flask adds `Vary: Cookie` whenever anything touched the session proxy,
    which flask-login's after-request hook does on every request; these views read
    nothing from it, so that Vary would only split shared caches by reader."""

    def _get_vary(self):
        def on_update(header_set) -> None:
            kept = [value for value in header_set if value.lower() != "cookie"]
            if kept:
                self.headers["Vary"] = dump_header(kept)
            else:
                self.headers.pop("Vary", None)

        return parse_set_header(self.headers.get("Vary"), on_update)

    def _set_vary(self, value) -> None:
        values = parse_set_header(value) if isinstance(value, str) else list(value or ())
        kept = [v for v in values if v.lower() != "cookie"]
        if kept:
            self.headers["Vary"] = dump_header(kept)
        else:
            self.headers.pop("Vary", None)

    vary = property(_get_vary, _set_vary)


# --- validators and caching ------------------------------------------------------------------

def _etag(*parts) -> str:
    text = "|".join(str(part) for part in (*parts, current_app.extensions["answer_release"]))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _held(*tags: str) -> str | None:
    """The tag the client already holds (If-None-Match), if it is one of these."""
    for held in tags:
        if request.if_none_match.contains_weak(held):
            return held
    return None


def _public(response: Response, etag: str, max_age: int) -> Response:
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response


def _not_modified(etag: str, max_age: int, *vary: str) -> Response:
    response = SameForEveryone(status=304)
    response.vary.update(vary)  # as the full response would say
    return _public(response, etag, max_age)


# --- feeds ------------------------------------------------------------------------------------

def _size() -> int:
    return max(1, int(current_app.config["FEED_SIZE"]))


def _feed(name: str, *, title: str, subtitle: str, page_url: str, items: Callable[[], list[atom.Item]]) -> Response:
    config = current_app.config
    size = _size()
    fresh = service.freshness(db.session)
    self_url = absolute_url(request.endpoint, **(request.view_args or {}))
    etag = _etag("feed", name, fresh.key, size, self_url)
    held = _held(etag, *(f"{etag}:{coding}" for coding in CODINGS))
    if held:
        return _not_modified(held, FEED_MAX_AGE)
    site_name = config["SITE_NAME"]
    feed = atom.Feed(id=self_url, title=f"{site_name}: {title}", subtitle=subtitle, self_url=self_url,
                     page_url=page_url, site_name=site_name, home_url=absolute_url("answers.home"))

    def draw() -> dict[str, str]:
        shown = items()
        updated = atom.newest(shown, fresh.changed_at)
        return {"xml": atom.render(feed, shown, updated).decode(), "updated": updated.isoformat()}

    kept = answer_cache.kept(db.session, fresh.token, f"feed:{name}:{fresh.revision}:{size}:{self_url}", draw)
    response = _public(SameForEveryone(kept["xml"], content_type=ATOM), etag, FEED_MAX_AGE)
    response.last_modified = dt.datetime.fromisoformat(kept["updated"])  # for readers that send If-Modified-Since
    return response.make_conditional(request)


@bp.get("/feeds/answers.atom")
def answers():
    return _feed("answers", title="new and re-checked answers",
                 subtitle="Answers as they are published, checked again or corrected, newest first.",
                 page_url=absolute_url("answers.home"),
                 items=lambda: [atom.answer_item(e) for e in service.answer_entries(db.session, _size())])


@bp.get("/feeds/c/<slug:slug>.atom")
def category(slug: str):
    found = or_404(answer_service.category_by_slug(db.session, slug), "There is no category with that name.")
    return _feed(f"category:{found.id}", title=f"{found.name}: new and re-checked answers",
                 subtitle=f"Answers about {found.name.lower()} as they are published, checked again or corrected.",
                 page_url=absolute_url("answers.category", slug=found.slug),
                 items=lambda: [atom.answer_item(e) for e in service.answer_entries(db.session, _size(), found.id)])


@bp.get("/feeds/corrections.atom")
def corrections():
    def items() -> list[atom.Item]:
        return [atom.correction_item(e, service.aware(e.revision.created_at))
                for e in service.correction_entries(db.session, _size())]

    return _feed("corrections", title="corrections",
                 subtitle="Every correction to an answer, newest first: what was wrong and what changed.",
                 page_url=absolute_url("revisions.corrections"), items=items)


# --- the sitemap and robots.txt ----------------------------------------------------------------

def _page_size() -> int:
    return min(crawlers.MAX_URLS, max(1, int(current_app.config["SITEMAP_PAGE_SIZE"])))


def _statics() -> list[tuple[str, dt.date | None]]:
    """The site's own pages: home (dated by its newest answer), about, corrections (dated
    by the newest), and every category that has an answer."""
    newest = service.newest_correction(db.session)
    return [(absolute_url("answers.home"), service.newest_checked_on(db.session)),
            (absolute_url("site.about"), None),
            (absolute_url("revisions.corrections"), newest.date() if newest else None),
            *((absolute_url("answers.category", slug=slug), None) for slug in service.listed_categories(db.session))]


def _gzip() -> bool:
    return request.accept_encodings.quality("gzip") > 0


def _encoded(parts: Iterable[str], gzip: bool) -> Iterator[bytes]:
    if not gzip:
        for part in parts:
            yield part.encode()
        return
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for part in parts:
        packed = packer.compress(part.encode())
        if packed:
            yield packed
    yield packer.flush()


def _sitemap_response(parts: Iterable[str], etag: str, gzip: bool) -> Response:
    """Written as it is made (and gzipped here, where the client takes it: a streamed body
    is not one Flask-Compress compresses)."""
    response = SameForEveryone(stream_with_context(_encoded(parts, gzip)), content_type=XML)
    if gzip:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return _public(response, etag, SITEMAP_MAX_AGE)


def _sitemap_etag(name: str) -> tuple[str, bool]:
    gzip = _gzip()
    fresh = service.freshness(db.session)
    etag = _etag("sitemap", name, fresh.key, _page_size(), absolute_url("answers.home"))
    return (f"{etag}:gzip" if gzip else etag), gzip


def _urlset(number: int, statics: list, answered: int) -> Iterator[str]:
    """Sitemap file `number`: its site pages, then its answers, a batch at a time (the
    first batch is read now, so a database that fails answers 503, not a cut-off file)."""
    part = crawlers.page(number, _page_size(), statics, answered)
    head, _, tail = absolute_url("answers.question", slug=SLUG_MARK).rpartition(SLUG_MARK)
    batches = service.answered_batches(db.session, part.offset, part.count, SITEMAP_BATCH)
    first = next(batches, None)

    def parts() -> Iterator[str]:
        if part.statics:
            yield "".join(crawlers.url(loc, lastmod) for loc, lastmod in part.statics)
        if first is not None:
            yield crawlers.answer_urls(first, head, tail)
            for batch in batches:
                yield crawlers.answer_urls(batch, head, tail)

    return crawlers.urlset(parts())


@bp.get("/sitemap.xml")
def sitemap():
    """Every answered question and the site's pages; past one file's worth, the index of
    the files that hold them."""
    etag, gzip = _sitemap_etag("root")
    if held := _held(etag):
        return _not_modified(held, SITEMAP_MAX_AGE, "Accept-Encoding")
    statics, answered = _statics(), service.answered_count(db.session)
    pages = crawlers.page_count(len(statics) + answered, _page_size())
    if pages == 1:
        return _sitemap_response(_urlset(1, statics, answered), etag, gzip)
    index = crawlers.index(absolute_url("feeds.sitemap_page", number=n) for n in range(1, pages + 1))
    return _sitemap_response([index], etag, gzip)


@bp.get("/sitemaps/<int(min=1, max=100000):number>.xml")
def sitemap_page(number: int):
    etag, gzip = _sitemap_etag(f"page:{number}")
    if held := _held(etag):
        return _not_modified(held, SITEMAP_MAX_AGE, "Accept-Encoding")
    statics, answered = _statics(), service.answered_count(db.session)
    if number > crawlers.page_count(len(statics) + answered, _page_size()):
        abort(404, description="The sitemap has no page with that number.")
    return _sitemap_response(_urlset(number, statics, answered), etag, gzip)


@bp.get("/robots.txt")
def robots():
    body = crawlers.robots(absolute_url("feeds.sitemap"), current_app.config["SITE_NAME"])
    response = _public(SameForEveryone(body, content_type=TEXT), _etag("robots", body), ROBOTS_MAX_AGE)
    return response.make_conditional(request)
