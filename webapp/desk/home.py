"""The desk's home (/desk): what is waiting for an editor, as plain data.

Six lists, each a count and its first few items: reports waiting, readers' questions
waiting for review, the most-requested
unanswered questions, stale answers (most read first), searches that found nothing and
orphans. Every query has a LIMIT and none reads the whole graph (nothing serving does:
graph/ranking.py stores PageRank offline): the page must stay cheap at 100,000 questions (bench/desk.py,
docs/performance.md). A count that would have to read every question stops at
COUNT_CAP, and the page says "more than 1,000".

One sum costs more than the rest at that size: answers' views over the reading window
(~40 ms on SQLite at 3,000 answers read a day). It is taken once for the RANKED first
(`reading_ranking`), with no question's row, and kept apart from the content, so an
edit does not take it again; the stale answers are then looked up among those by id,
which is where an edit shows (`_first_kept`; everything is summed only when the first
RANKED cannot settle the list). The most-requested need no sum: each question's requests
are counted as they come (webapp/graph/demand.py). The lists themselves are kept under
the content version, so an edit shows on the next /desk; what follows readers (views,
requests, searches) is kept at most ANSWER_SHARED_SECONDS, as late as the answer pages'
reading figures may be. Reports and readers' questions are never kept: an editor who
has just decided one must not meet it again. Timings: docs/performance.md, "The editors' desk (issue 14)".

The desk stands above answers, graph, search, reports and asking; none of them imports this."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from webapp.answers import cache as content_cache
from webapp.answers.models import ANSWERED, UNANSWERED, Question, RelatedLink
from webapp.answers.service import months_before
from webapp.asking.models import PENDING, Ask
from webapp.graph.models import DailySignal
from webapp.pagination import capped_count
from webapp.reports.models import NEW, Report
from webapp.search.models import SearchGap

SECTIONS = ("reports", "asks", "requests", "stale", "gaps", "orphans")
COUNT_CAP = 1000  # counts that would read every question stop here ("more than 1,000")
EXCERPT = 160  # characters of a report shown on the desk
RANKED = 200  # the most-read questions looked among before summing them all


@dataclass(frozen=True)
class Listing:
    """One section: how many there are (`capped`: more than `count`) and the first ones."""

    count: int
    items: list = field(default_factory=list)
    capped: bool = False


@dataclass(frozen=True)
class WaitingReport:
    id: int
    slug: str
    question: str
    answered: bool
    what: str  # shortened to EXCERPT characters
    source_url: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class Requested:
    slug: str
    question: str
    requests: int


@dataclass(frozen=True)
class Stale:
    slug: str
    question: str
    checked_on: dt.date
    views: int  # in the reading window


@dataclass(frozen=True)
class Gap:
    query: str
    readers: int
    last_seen: dt.datetime


@dataclass(frozen=True)
class Orphan:
    slug: str
    question: str
    checked_on: dt.date | None


def _excerpt(text: str, length: int = EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _capped_count(session: Session, query) -> tuple[int, bool]:
    """How many rows `query` has, reading at most COUNT_CAP + 1 of them: (count, more than that)."""
    return capped_count(session, query, COUNT_CAP)


# --- the lists ------------------------------------------------------------------------------

def reports_waiting(session: Session, limit: int) -> Listing:
    """Reports nobody has decided yet (state new), newest first."""
    count = session.scalar(select(func.count()).select_from(Report).where(Report.state == NEW)) or 0
    rows = session.execute(
        select(Report.id, Question.slug, Question.text, Question.status, Report.what, Report.source_url,
               Report.created_at)
        .join(Question, Question.id == Report.question_id)
        .where(Report.state == NEW).order_by(Report.created_at.desc(), Report.id.desc()).limit(limit)
    ).all()
    return Listing(count, [WaitingReport(id=r.id, slug=r.slug, question=r.text, answered=r.status == ANSWERED,
                                         what=_excerpt(r.what), source_url=r.source_url, created_at=r.created_at)
                           for r in rows])


@dataclass(frozen=True)
class WaitingAsk:
    id: int
    text: str  # as the reader typed it (cleaned), escaped when shown
    flagged: str | None  # entries of the word list it holds
    created_at: dt.datetime


def asks_waiting(session: Session, limit: int) -> Listing:
    """Readers' questions waiting for review, oldest first: the longest wait first."""
    count = session.scalar(select(func.count()).select_from(Ask).where(Ask.state == PENDING)) or 0
    rows = session.execute(select(Ask.id, Ask.text, Ask.flagged, Ask.created_at).where(Ask.state == PENDING)
                           .order_by(Ask.created_at, Ask.id).limit(limit)).all()
    return Listing(count, [WaitingAsk(id=r.id, text=r.text, flagged=r.flagged, created_at=r.created_at) for r in rows])


def _first_kept(ranked: list[tuple[int, int]], depth: int, limit: int, keep: Callable[[list[int]], list],
                order: Callable) -> list | None:
    """From `ranked` ((question id, n), the largest n first: `depth` + 1 of them were
    asked for, so that one more says the list goes on), the first `limit` that
    `keep(ids)` keeps (rows with an `id`), as (n, row) in `order`. None when the first
    `depth` cannot settle it: the list goes on and fewer than `limit` rows were kept
    with an n above the depth-th's (a question not looked at may have as many)."""
    counts = dict(ranked[:depth])
    found = sorted(((counts[row.id], row) for row in (keep(list(counts)) if counts else [])), key=order)
    if len(ranked) > depth:
        floor = ranked[depth - 1][1]
        found = [pair for pair in found if pair[0] > floor]
        if len(found) < limit:
            return None
    return found[:limit]


def most_requested(session: Session, limit: int) -> Listing:
    """Unanswered questions readers asked for, most requests first, then by question (as
    /requests orders them): the front of ix_question_most_requested, the requests'
    counters (webapp/graph/demand.py), and its entries counted up to COUNT_CAP."""
    rows = session.execute(
        select(Question.slug, Question.text, Question.request_count)
        .where(Question.status == UNANSWERED, Question.request_count > 0)
        .order_by(Question.request_count.desc(), Question.text).limit(limit)).all()
    count, capped = _capped_count(session, select(Question.id).where(Question.status == UNANSWERED,
                                                                      Question.request_count > 0))
    return Listing(count, [Requested(r.slug, r.text, r.request_count) for r in rows], capped)


def reading_ranking(session: Session, today: dt.date, days: int, limit: int) -> list[tuple[int, int]]:
    """(question id, views) over the `days` days up to `today`, most viewed first."""
    # `+ 0`: grouped by the plain column, SQLite walks all of daily_signal in question
    # order (280 ms at 180,000 rows) instead of only the window's days by their index (40 ms).
    question_id = (DailySignal.question_id + 0).label("question_id")
    views = func.sum(DailySignal.count).label("views")
    rows = session.execute(
        select(question_id, views).where(DailySignal.kind == "view", DailySignal.day > today - dt.timedelta(days=days))
        .group_by(question_id).order_by(views.desc(), question_id).limit(limit)
    ).all()
    return [(r.question_id, int(r.views)) for r in rows]


def stale_cutoff(today: dt.date, after_months: int) -> dt.date:
    """Answers checked before this day are stale: what the answer page calls outdated."""
    return months_before(today, after_months)


def stale_answers(session: Session, limit: int, today: dt.date, after_months: int, reading_days: int,
                  ranked: list[tuple[int, int]] | None = None, depth: int = RANKED) -> Listing:
    """Answers checked before the outdated threshold: those read in the last
    `reading_days` days first, most views first, then the others, oldest checked first.

    The stale ones are looked for among the `depth` most-read answers (`ranked`, as
    `reading_ranking` gives `depth` + 1 of them); only when that cannot settle it are
    the window's views summed for every stale answer."""
    cutoff = stale_cutoff(today, after_months)
    is_stale = (Question.status == ANSWERED, Question.checked_on < cutoff)
    columns = (Question.id, Question.slug, Question.text, Question.checked_on)
    if ranked is None:
        ranked = reading_ranking(session, today, reading_days, depth + 1)
    found = _first_kept(ranked, depth, limit, order=lambda pair: (-pair[0], pair[1].checked_on, pair[1].id),
                        keep=lambda ids: session.execute(select(*columns).where(*is_stale, Question.id.in_(ids))).all())
    if found is None:
        found = _stale_read_everything(session, limit, today, reading_days, columns, is_stale)
    items = [Stale(r.slug, r.text, r.checked_on, n) for n, r in found]
    if len(items) < limit:
        # Every stale answer read in the window is listed already: the rest were not read.
        unread = session.execute(
            select(*columns).where(*is_stale, Question.id.not_in([r.id for _, r in found]))
            .order_by(Question.checked_on, Question.id).limit(limit - len(items))
        ).all()
        items += [Stale(r.slug, r.text, r.checked_on, 0) for r in unread]
    count, capped = _capped_count(session, select(Question.id).where(*is_stale))
    return Listing(count, items, capped)


def _stale_read_everything(session, limit, today, reading_days, columns, is_stale) -> list:
    """The most-read stale answers from every view in the window (75 ms on SQLite at
    60,000 daily counts: each read answer's row is read to see whether it is stale)."""
    question_id = (DailySignal.question_id + 0).label("question_id")  # as in reading_ranking: 290 ms without
    views = (select(question_id, func.sum(DailySignal.count).label("views"))
             .where(DailySignal.kind == "view", DailySignal.day > today - dt.timedelta(days=reading_days))
             .group_by(question_id).subquery())
    rows = session.execute(
        select(*columns, views.c.views).join(views, views.c.question_id == Question.id).where(*is_stale)
        .order_by(views.c.views.desc(), Question.checked_on, Question.id).limit(limit)
    ).all()
    return [(int(r.views), r) for r in rows]


def search_gaps(session: Session, limit: int, min_readers: int) -> Listing:
    """Searches that found nothing, met by the most readers first (as /search/gaps lists
    them, once GAP_MIN_READERS readers met them)."""
    met = SearchGap.count >= min_readers
    rows = session.execute(
        select(SearchGap.query, SearchGap.count, SearchGap.last_seen).where(met)
        .order_by(SearchGap.count.desc(), SearchGap.last_seen.desc()).limit(limit)
    ).all()
    count, capped = _capped_count(session, select(SearchGap.id).where(met))
    return Listing(count, [Gap(r.query, r.count, r.last_seen) for r in rows], capped)


def orphans(session: Session, limit: int) -> Listing:
    """Answered questions no related link points to (curated or suggested, as
    /explore/orphans counts them), newest first: those nobody has linked yet."""
    unlinked = (Question.status == ANSWERED, ~exists().where(RelatedLink.to_id == Question.id))
    rows = session.execute(
        select(Question.slug, Question.text, Question.checked_on).where(*unlinked)
        .order_by(Question.id.desc()).limit(limit)
    ).all()
    # Newest first here too: new answers are the likeliest orphans, so the count stops soonest.
    count, capped = _capped_count(session, select(Question.id).where(*unlinked).order_by(Question.id.desc()))
    return Listing(count, [Orphan(r.slug, r.text, r.checked_on) for r in rows], capped)


# --- the page ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """The plain values the lists need (the route reads them from the app's config)."""

    limit: int  # items per list
    today: dt.date
    after_months: int  # OUTDATED_AFTER_MONTHS
    reading_days: int  # the window of "most read"
    gap_min_readers: int  # GAP_MIN_READERS
    seconds: int = 0  # how long lists may be kept (ANSWER_SHARED_SECONDS); 0: not kept

    @property
    def key(self) -> str:
        return f"{self.limit}:{self.today}:{self.after_months}:{self.reading_days}:{self.gap_min_readers}"


def _compute(session: Session, name: str, s: Settings) -> Listing:
    if name == "reports":
        return reports_waiting(session, s.limit)
    if name == "asks":
        return asks_waiting(session, s.limit)
    if name == "requests":
        return most_requested(session, s.limit)
    if name == "stale":
        ranked = content_cache.remembered(f"desk:read:{s.today}:{s.reading_days}:{RANKED}", s.seconds,
                             lambda: reading_ranking(session, s.today, s.reading_days, RANKED + 1))
        return stale_answers(session, s.limit, s.today, s.after_months, s.reading_days, ranked=ranked)
    if name == "gaps":
        return search_gaps(session, s.limit, s.gap_min_readers)
    if name == "orphans":
        return orphans(session, s.limit)
    raise KeyError(name)


def listings(session: Session, names: tuple[str, ...], settings: Settings) -> dict[str, Listing]:
    """The lists called `names`. Reports and asks are read every time; orphans (content only) are
    kept under the content version; the others for `settings.seconds` under it too."""
    version = content_cache.current_version(session)
    found = {}
    for name in names:
        def compute(name: str = name) -> Listing:
            return _compute(session, name, settings)

        if name in ("reports", "asks"):
            found[name] = compute()
        elif name == "orphans" or settings.seconds > 0:
            found[name] = content_cache.kept(session, version, f"desk:{name}:{settings.key}", compute,
                                             seconds=None if name == "orphans" else settings.seconds)
        else:
            found[name] = compute()
    return found
