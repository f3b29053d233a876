"""Searching `search_document` as readers do: a reader's query as a tsquery, operators
as SQL filters, ranked with weights, counted by category and status in one grouped
pass, snippets from ts_headline (escaped, then marked), and "Did you mean" from the
corpus's words by trigram similarity."""
from __future__ import annotations

import math
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp.database import local_setting
from webapp.search.postgres.schema import CONFIG
from webapp.search.query import STOP_WORDS, WORD, ReaderQuery
from webapp.search.results import MIN_CORRECTABLE, Hit, SearchPage, Tally, count_cap
from webapp.search.snippets import BETWEEN, framed, opening
from webapp.search.spelling import one_edit_apart

START, STOP = "\x02", "\x03"
# Parts are joined by a character no document holds, so each can be found in the summary
# and framed as Whoosh's are (webapp/search/snippets.py).
DELIMITER = "\x04"
SNIPPET = f"StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\"{DELIMITER}\""
WHOLE = f"StartSel={START}, StopSel={STOP}, HighlightAll=true"
MARKED = re.compile(f"{START}(.*?){STOP}", re.S)
# A word in more documents than this does not make a match by itself (`_required`):
# ranking 20,000 documents through the RUM index takes about 10 ms.
COMMON_DOCUMENTS = 20_000  # the default of the SEARCH_COMMON_DOCUMENTS setting
# Past this many matches of words all common, hits come newest first (`_required`):
# ranking 100,000 took about 65 ms at 1,000,000 questions, 160,000 took 105 ms.
CROWDED = 100_000  # the default of the SEARCH_CROWDED_DOCUMENTS setting
CROWDED_SAMPLE = 500  # what a crowded search's counts are scaled from
# How many of the newest documents a crowded search with a phrase looks through
# (`_newest`): a few thousand, as other pages read at most. When none holds the phrase,
# 5,000 read in 5-14 ms at 1,000,000 and 20,000 in 100-216 ms.
CROWDED_WINDOW = 5_000


def common_documents() -> int:
    return current_app.config.get("SEARCH_COMMON_DOCUMENTS", COMMON_DOCUMENTS)


def crowded_documents() -> int:
    return current_app.config.get("SEARCH_CROWDED_DOCUMENTS", CROWDED)


@dataclass
class Sql:
    """A statement's text built from parts, with its bound values."""

    params: dict = field(default_factory=dict)

    def bind(self, value) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def fold(word: str) -> str:
    """Lower-case with accents removed, as the index reads words."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def terms(sql: Sql, query: ReaderQuery, words: list[str] | None = None) -> list[str]:
    """Each word and phrase of the query as a tsquery expression (stop words left out)."""
    words = [w for w in (query.words if words is None else words) if w not in STOP_WORDS]
    parts = [f"plainto_tsquery('{CONFIG}', {sql.bind(w)})" for w in words]
    return parts + [f"phraseto_tsquery('{CONFIG}', {sql.bind(p)})" for p in query.phrases]


def _any_of(parts: list[str]) -> str:
    """The parts OR-ed; an empty tsquery (matching nothing) when there are none."""
    return " || ".join(parts) or "CAST('' AS tsquery)"


def tsquery(sql: Sql, query: ReaderQuery, words: list[str] | None = None) -> str | None:
    """The words and phrases OR-ed: what a search matches. None when the query has no
    words or phrases; an empty tsquery (matching nothing) when all its words are stop
    words."""
    if not query.has_terms:
        return None
    return _any_of(terms(sql, query, words))


def operators(sql: Sql, query: ReaderQuery) -> list[str]:
    where = []
    if query.category:
        where.append(f"d.category = {sql.bind(query.category)}")
    if query.status:
        where.append(f"d.status = {sql.bind(query.status)}")
    if query.checked:
        start, end = query.checked
        if start:
            where.append(f"d.checked_on >= {sql.bind(start)}")
        if end:
            where.append(f"d.checked_on <= {sql.bind(end)}")
    if query.cites:
        where.append(f"d.cites @> ARRAY[CAST({sql.bind(query.cites)} AS text)]")
    if query.verdict:
        where.append(f"d.verdict = {sql.bind(query.verdict)}")
    return where


def _chosen(sql: Sql, category: str | None, status: str | None) -> list[str]:
    """The page's filter choices (beside the query's own operators)."""
    where = []
    if category:
        where.append(f"d.category = {sql.bind(category)}")
    if status:
        where.append(f"d.status = {sql.bind(status)}")
    return where


def _marked(value: str) -> Markup:
    """ts_headline's output escaped, then its marks turned into <mark>."""
    escaped = str(escape(value))
    return Markup(MARKED.sub(r"<mark>\1</mark>", escaped).replace(START, "").replace(STOP, ""))


def _snippet(headline: str, summary: str) -> Markup:
    """The headline's parts, marked, with an ellipsis where they cut a sentence; the
    summary's beginning where nothing in it matched."""
    if START not in headline:
        return opening(summary)
    parts, start = [], 0
    for part in headline.split(DELIMITER):
        plain = part.replace(START, "").replace(STOP, "")
        where = summary.find(plain.strip(), start)
        if where < 0:  # not found as written: show the parts without framing them
            return Markup(BETWEEN).join(_marked(p) for p in headline.split(DELIMITER))
        parts.append((where, where + len(plain.strip()), _marked(part.strip())))
        start = where + len(plain.strip())
    return framed(summary, parts)


def _planner_without(session: Session, setting: str):
    """The planner with `setting` (one of its enable_* switches) off for these statements."""
    return local_setting(session, setting, "off")


def _through_the_index(session: Session):
    """Searches go through the RUM index, never a scan of the whole table.

    For a common word the planner expects most rows to match and prefers reading the
    table, not knowing that each row's tsvector then has to be fetched from TOAST and
    tested: 86 ms against 27 ms through the index for a word in half of 100,000
    answers."""
    return _planner_without(session, "enable_seqscan")


def search(session: Session, common: CommonWords, query: ReaderQuery, **choices) -> SearchPage:
    with _through_the_index(session):
        return _search(session, common, query, **choices)


def _search(session: Session, common: CommonWords, query: ReaderQuery, *, category: str | None = None,
            status: str | None = None, sort: str = "relevance", page: int = 1, counts: bool = True,
            hits: bool = True) -> SearchPage:
    """The page's hits, counts and facets; without `counts` only the hits, without
    `hits` only the counts."""
    result = SearchPage(query=query, page=page, counted=False)
    if query.empty and not (category or status):
        return result
    sql = Sql()
    # The tsquery is written out where it is used, not joined in from a subquery: only
    # an expression without columns lets the planner order by `tsv <=> query` inside the
    # RUM index (joined in, it ranked every match: 580 ms against 25 ms at 100,000).
    parts = terms(sql, query) if query.has_terms else []
    any_of = _any_of(parts) if query.has_terms else None
    matching = _matching(session, common, sql, query, parts) if any_of else Matching(None)
    required, crowded = matching.required, matching.crowded
    match = [f"d.tsv @@ ({required})"] if required else []
    ops = operators(sql, query) + matching.narrowed
    result.crowded, result.looked_through = crowded, matching.looked_through
    known: list[int] | None = None  # every match's id, where the count found them all

    if counts:
        condition = " AND ".join(match + ops) or "true"
        if crowded:  # the newest matches as the sample, read as the hits are
            with _in_id_order(session):
                _tally(session, condition, sql.params, CROWDED_SAMPLE, "ORDER BY d.question_id DESC")[0].fill(
                    result, category, status)
        else:
            tally, matched = _tally(session, condition, sql.params, count_cap())
            tally.fill(result, category, status)
            if (query.phrases or query.cites) and tally.estimated is None:
                known = matched

    if hits and (not counts or (result.total and page <= result.page_count)):
        filters = ops + _chosen(sql, category, status)
        window = result.size + (0 if counts else 1)
        if crowded:
            with _in_id_order(session):
                rows = _rows(session, sql, match + filters, "d.question_id DESC", any_of, window, result.offset)
        elif sort == "newest" or not query.has_terms:
            if query.cites and not counts:  # with counts, the tally found them all or more than the cap
                known = _few(session, sql, match + filters)
            where = match + filters if known is None else [f"d.question_id = ANY({sql.bind(sorted(known))})", *filters]
            rows = _rows(session, sql, where, "d.checked_on DESC NULLS LAST, d.question_id", any_of,
                         window, result.offset)
        elif known is not None:
            rows = _among(session, sql, known, parts, any_of, filters, window, result.offset)
        else:
            rows = _best_first(session, sql, parts, any_of, filters, window, result.offset, required=required)
        result.take(rows, _hit)
    if hits and query.words:
        result.suggestion = _suggestion(session, query)
    return result


def _rows(session: Session, sql: Sql, where: list[str], order: str, tsq: str | None, limit: int,
          offset: int, marked: bool = True) -> list:
    """One window of hits in `order`, their question and summary marked by ts_headline
    after the LIMIT, so only the window's rows pay for it. Not `marked`: neither marks nor
    texts (their question and summary stay unread in TOAST; what decides, not what shows)."""
    marks = tsq and marked
    texts = "d.question, d.summary" if marked else "'' AS question, '' AS summary"
    return session.execute(text(
        f"SELECT p.slug, p.category, p.category_name, p.status, p.checked_on, p.verdict, "
        f"  {_headline('p.question', WHOLE) if marks else 'p.question'}, "
        f"  {_headline('p.summary', SNIPPET) if marks else 'p.summary'}, p.summary, p.question_id, p.matched "
        f"FROM (SELECT d.slug, d.category, d.category_name, d.status, d.checked_on, d.verdict, {texts}, "
        f"        d.question_id, {f'd.tsv @@ ({tsq})' if tsq else 'true'} AS matched, "
        f"        {tsq or 'NULL::tsquery'} AS q, row_number() OVER () AS n "
        f"      FROM (SELECT * FROM search_document d WHERE {' AND '.join(where) or 'true'} "
        f"            ORDER BY {order} LIMIT {limit} OFFSET {offset}) d) p ORDER BY p.n"), sql.params).all()


def _ids(session: Session, sql: Sql, where: list[str], order: str, _tsq: str | None, limit: int,
         offset: int) -> list:
    """One window of hits in `order`: their ids alone (no headlines)."""
    return session.execute(text(
        f"SELECT d.question_id FROM search_document d WHERE {' AND '.join(where) or 'true'} "
        f"ORDER BY {order} LIMIT {limit} OFFSET {offset}"), sql.params).all()


def _in_order_of_rank(session: Session):
    """Matches read through the RUM index in its order, never a bitmap of them sorted:
    see `_best_first`. (Ranking is the index's work either way: a sort of the bitmap's
    matches computes the same distance for each.)"""
    return _planner_without(session, "enable_bitmapscan")


def _best_first(session: Session, sql: Sql, parts: list[str], any_of: str, filters: list[str], window: int,
                offset: int, fetch=_rows, required: str | None = None) -> list:
    """Answers with all the words and phrases first, then those with some of the
    `required` (by default, any), each ranked by RUM's distance to all of them
    (`tsv <=> query`, 1 / rank with the weights D 0.1, C 0.2, B 0.4, A 1.0) straight
    from the index.

    There is no tie-breaker: one would stop the index from giving the order. Answers
    at the same distance come in the order the index gives them, the same on every
    page only if every page reads the index: the planner preferred a bitmap and a sort
    for a late page of few matches (the demo content's third page of "people water"),
    whose order of equal distances differed, and an answer showed on two pages while
    another showed on none. So a bitmap is never used here (`_in_order_of_rank`).

    Asking for all the words first is also the fast way: for three words each in a
    third of 100,000 answers, ranking the few thousand that hold all three took 21 ms
    where ranking the 70,000 that hold any took 72 ms."""
    with _in_order_of_rank(session):
        order = f"d.tsv <=> ({any_of})"
        required = required or any_of
        if len(parts) < 2:
            return fetch(session, sql, [f"d.tsv @@ ({required})", *filters], order, any_of, window, offset)
        all_of = " && ".join(parts)
        rows = fetch(session, sql, [f"d.tsv @@ ({all_of})", *filters], order, any_of, window, offset)
        if len(rows) == window or required == all_of:
            return rows
        # The answers with all the words end inside this window (or before it).
        with_all = offset + len(rows) if rows else session.scalar(text(
            f"SELECT count(*) FROM (SELECT 1 FROM search_document d WHERE "
            f"{' AND '.join([f'd.tsv @@ ({all_of})', *filters])} LIMIT {offset}) s"), sql.params)
        rest = [f"d.tsv @@ ({required})", f"NOT d.tsv @@ ({all_of})", *filters]
        return rows + fetch(session, sql, rest, order, any_of, window - len(rows), max(0, offset - with_all))


def _few(session: Session, sql: Sql, where: list[str]) -> list[int] | None:
    """Every match's id if there are no more than the count's cap, else None.

    For `cites:`, before walking the newest first: the planner guesses a domain it has
    not sampled at up to 0.5% of documents, and walking `search_document_newest` for ten
    matches of a domain no answer cites read all 1,000,000 documents (13 s). Without an
    order the planner asks the `cites` index for a rare domain (0.02 ms for none) and
    reads the table for a common one. A search otherwise runs without sequential scans
    (`_through_the_index`); this look may use one: the first 1,001 rows of a domain in
    90% of answers in 7 ms, where the index's bitmap of all 900,000 took 53."""
    cap = count_cap()
    session.execute(text("SET LOCAL enable_seqscan = on"))
    try:
        ids = list(session.scalars(text(
            f"SELECT d.question_id FROM search_document d WHERE {' AND '.join(where)} LIMIT {cap + 1}"), sql.params))
    finally:
        session.execute(text("SET LOCAL enable_seqscan = off"))
    return ids if len(ids) <= cap else None


def _among(session: Session, sql: Sql, ids: list[int], parts: list[str], any_of: str, filters: list[str],
           window: int, offset: int) -> list:
    """A window of these matches (all of the search's, as the count found them) in
    `_best_first`'s order, ranked from the table rather than the index.

    For a phrase, RUM checks the words' positions in every document that holds both
    words, on each walk: a phrase of two common words (123,385 documents with both, 272
    with the phrase) took 233 ms to rank at 1,000,000 questions, after the count had
    walked the same postings. The count's few matches are read by their ids instead."""
    all_first = f"(d.tsv @@ ({' && '.join(parts)})) DESC, " if len(parts) > 1 else ""
    return _rows(session, sql, [f"d.question_id = ANY({sql.bind(sorted(ids))})", *filters],
                 f"{all_first}d.tsv <=> ({any_of}), d.question_id", any_of, window, offset)


@dataclass
class Matching:
    """What every match of a search holds: `required` (a tsquery) and the `narrowed`
    conditions beside it; whether so many hold it that ranking them all would take
    seconds (`crowded`), and how many of the newest documents a crowded phrase is looked
    for in."""

    required: str | None
    crowded: bool = False
    narrowed: list[str] = field(default_factory=list)
    looked_through: int | None = None


def _matching(session: Session, common: CommonWords, sql: Sql, query: ReaderQuery, parts: list[str]) -> Matching:
    required, crowded, every_part = _required(session, common, query, parts)
    matching = Matching(required, crowded, _each_word_of_phrases(sql, query) if every_part else [])
    if crowded and query.phrases:
        newest = _newest(session, sql)
        matching.narrowed += newest
        matching.looked_through = CROWDED_WINDOW if newest else None
    return matching


def _required(session: Session, common: CommonWords, query: ReaderQuery,
              parts: list[str]) -> tuple[str, bool, bool]:
    """What a document must hold to match, whether so many hold it that ranking them
    all would take seconds (`crowded`), and whether it must hold every part.

    Any of the words and phrases, except that a word in more than COMMON documents (by
    ANALYZE's sample), or a phrase of such words, does not make a match by itself. With some words common, a match
    holds one of the others; with every word common, all of them (Lucene's common terms
    query, and the reason for it: at 1,000,000 questions one made-up word of the
    synthetic corpus was in 63% of them, and ranking every document with any of three
    such words took 300 ms). Common words still count in the ranking. A corpus of COMMON
    documents or fewer has none.

    Crowded: every word and phrase common, and the least common in more than CROWDED
    documents (an upper bound of the matches). RUM ranks every match: a word in 97% of
    1,000,000 took 6 s, two such words 20 s, a phrase of two words each in over 90% 104 s
    (it checks the words' positions in each document holding both)."""
    any_of = _any_of(parts)
    words = [w for w in query.words if w not in STOP_WORDS]
    phrases = [WORD.findall(phrase) for phrase in query.phrases]
    asked = sorted(set(words) | {w for phrase in phrases for w in phrase})
    if not asked:
        return any_of, False, len(parts) == 1
    listed = known_common(session, common, asked, common_documents())
    # What each part may match at most, where it is common: a word's documents; a
    # phrase's, those of its rarest word (all its words common, or it is not).
    bounds = [listed.get(w) for w in words] + [min(listed.get(w) or 0 for w in phrase) or None for phrase in phrases]
    frequent = {i for i, bound in enumerate(bounds) if bound}
    if not frequent:
        return any_of, False, len(parts) == 1
    if len(frequent) == len(parts):
        return " && ".join(parts), min(bounds) > crowded_documents(), True
    return " || ".join(part for i, part in enumerate(parts) if i not in frequent), False, False


def _each_word_of_phrases(sql: Sql, query: ReaderQuery) -> list[str]:
    """For a search whose every match holds every phrase: each of their words as a
    condition of its own, beside the phrase.

    RUM reads the whole list of documents of each word in a phrase to check their
    positions, however rare the others: a phrase of a word in 96% of 1,000,000 answers
    and one in 1,617 took 620 ms. Given each word as a key of its own, it goes by the
    rarest: 6.9 ms. (Within one tsquery, `&` did not help.)"""
    words = sorted({w for phrase in query.phrases for w in WORD.findall(phrase)})
    return [f"d.tsv @@ plainto_tsquery('{CONFIG}', {sql.bind(w)})" for w in words]


def _newest(session: Session, sql: Sql) -> list[str]:
    """A crowded search with a phrase looks through the newest CROWDED_WINDOW documents
    only: the condition that says so (none when there are no more).

    Its words are in most documents, but the phrase may be in few of them, and reading
    backwards for ten matches could read every document (each one's tsvector from
    TOAST). Ranking them through the index was worse: a phrase of two words each in
    over 90% of 1,000,000 answers took 104 s, its count alone 0.75 s."""
    oldest = session.scalar(text(
        f"SELECT question_id FROM search_document ORDER BY question_id DESC OFFSET {CROWDED_WINDOW - 1} LIMIT 1"))
    return [] if oldest is None else [f"d.question_id >= {sql.bind(oldest)}"]


def _in_id_order(session: Session):
    """A crowded search's hits: the newest questions first, read backwards along the
    primary key and each tested against the words, never the bitmap and sort of every
    match. Dense matches (more than CROWDED in the corpus) make this quick: 0.2 ms for
    a word in 97% of 1,000,000 questions, where ranking took 6 s; 34 ms for page 11 of
    a word in 16%. (Not `enable_sort = off`: its penalty on the outer sort of ten rows
    priced the statement past `jit_above_cost`, and compiling it took 150 ms.)"""
    return _planner_without(session, "enable_bitmapscan")


def _hit(row) -> Hit:
    slug, category, name, status, checked, verdict, question, headline, summary, question_id, matched = row
    return Hit(slug=slug, question=_marked(question), snippet=_snippet(headline, summary),
               category=category, category_name=name, answered=status == "answered", checked_on=checked,
               verdict=verdict, id=question_id, by_meaning=not matched)


def ranked(session: Session, common: CommonWords, query: ReaderQuery, *, category: str | None,
           status: str | None, limit: int) -> list[int]:
    """The ids of the best `limit` matches of the words, in the order `search` shows them."""
    with _through_the_index(session):
        sql = Sql()
        parts = terms(sql, query)
        any_of = _any_of(parts)
        matching = _matching(session, common, sql, query, parts)
        filters = operators(sql, query) + matching.narrowed + _chosen(sql, category, status)
        if matching.crowded:
            with _in_id_order(session):
                return [row[0] for row in _ids(session, sql, [f"d.tsv @@ ({matching.required})", *filters],
                                               "d.question_id DESC", None, limit, 0)]
        return [row[0] for row in _best_first(session, sql, parts, any_of, filters, limit, 0, fetch=_ids,
                                              required=matching.required)]


def hits_for(session: Session, query: ReaderQuery, ids: list[int], marked: bool = True) -> dict[int, Hit]:
    """These questions as hits, those the operators allow, marked where the words match."""
    if not ids:
        return {}
    sql = Sql()
    tsq = tsquery(sql, query)
    where = [f"d.question_id = ANY({sql.bind(sorted(set(ids)))})", *operators(sql, query)]
    rows = _rows(session, sql, where, "d.question_id", tsq, len(set(ids)), 0, marked)
    return {hit.id: hit for hit in map(_hit, rows)}


def suggestion(session: Session, query: ReaderQuery) -> str | None:
    return _suggestion(session, query) if query.words else None


def _headline(column: str, options: str) -> str:
    return f"ts_headline('{CONFIG}', {column}, p.q, '{options}')"


def _tally(session: Session, condition: str, params: dict, cap: int, order: str = "") -> tuple[Tally, list[int]]:
    """Matches by category and status, counting at most cap + 1 of them (the first in
    `order`, if given); past that, the total is the planner's estimate (from the word
    statistics ANALYZE keeps). With the ids of the matches counted."""
    groups = session.execute(text(
        f"SELECT category, category_name, status, count(*), array_agg(question_id) FROM "
        f"(SELECT d.category, d.category_name, d.status, d.question_id FROM search_document d "
        f"WHERE {condition} {order} LIMIT {cap + 1}) s "
        "GROUP BY category, category_name, status"), params).all()
    tally = Tally({(c, n, s): k for c, n, s, k, _ids in groups}, sampled=sum(g[3] for g in groups))
    if tally.sampled > cap:
        plan = session.scalar(text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM search_document d WHERE {condition}"), params)
        tally.estimated = max(float(cap + 1), float(plan[0]["Plan"]["Plan Rows"]))
    return tally, [i for *_group, ids in groups for i in ids]


# --- did you mean ------------------------------------------------------------------------

def _suggestion(session: Session, query: ReaderQuery) -> str | None:
    """A corrected query, if some words are unknown and correcting them finds something.

    Unknown: in no question or heading. A correction is a known word one edit away (a
    swap of two neighbouring letters counts as one) that starts with the same letter,
    the most alike by trigrams."""
    candidates = [w for w in query.words if len(w) >= MIN_CORRECTABLE]
    if not candidates:
        return None
    folded = {w: fold(w) for w in candidates}
    known = set(session.scalars(text("SELECT word FROM search_word WHERE word = ANY(:w)"),
                                {"w": list(folded.values())}))
    fixes: dict[str, str] = {}
    for word, f in folded.items():
        if f in known:
            continue
        options = session.scalars(text(
            "SELECT word FROM search_word WHERE word % :w AND left(word, 1) = left(:w, 1) "
            "ORDER BY similarity(word, :w) DESC, word LIMIT 20"), {"w": f}).all()
        best = next((o for o in options if one_edit_apart(f, o)), None)
        if best:
            fixes[word] = best
    if not fixes:
        return None
    sql = Sql()
    tsq = tsquery(sql, query, [fixes.get(w, w) for w in query.words])
    where = [f"d.tsv @@ ({tsq})", *operators(sql, query)]
    if session.scalar(text(f"SELECT EXISTS (SELECT 1 FROM search_document d WHERE {' AND '.join(where)})"),
                      sql.params) is not True:
        return None
    return WORD.sub(lambda m: fixes.get(m.group(0).lower(), m.group(0)), query.text)


# --- how common a word is ----------------------------------------------------------------

class CommonWords:
    """The corpus's most common lexemes with the share of documents holding each, as
    ANALYZE last sampled them (pg_stats keeps ten times the statistics target: 1,000 by
    default), and the table's row estimate; kept a minute. Reading them is one small
    row, where counting (ts_stat) reads every document: 11 GB at 1,000,000 questions."""

    ttl = 60.0

    def __init__(self):
        self._lock = threading.Lock()
        self._shares: dict[str, float] = {}
        self._floor = 0.0  # the least common listed share: an unlisted word is at most this
        self._total = 0
        self._at = -math.inf

    def read(self, session: Session) -> tuple[dict[str, float], float, int]:
        with self._lock:
            if time.monotonic() - self._at > self.ttl:
                row = session.execute(text(
                    "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                    "WHERE schemaname = current_schema() AND tablename = 'search_document' AND attname = 'tsv'")).first()
                elems, freqs = row if row and row[0] else ([], [])
                self._shares = dict(zip(elems, freqs[: len(elems)], strict=True))
                # After one share per lexeme, pg_stats lists the least and the greatest.
                self._floor = freqs[len(elems)] if len(freqs) > len(elems) else 0.0
                self._total = max(0, int(session.scalar(text(
                    "SELECT reltuples FROM pg_class WHERE oid = CAST('search_document' AS regclass)")) or 0))
                self._at = time.monotonic()
            return self._shares, self._floor, self._total


def _stems(session: Session, words: list[str]) -> dict[str, list[str]]:
    """Each word's stems, as the index reads it."""
    return {w: (stems or "").split() for w, stems in session.execute(text(
        f"SELECT w, array_to_string(tsvector_to_array(to_tsvector('{CONFIG}', w)), ' ') "
        "FROM unnest(CAST(:words AS text[])) AS w"), {"words": words}).all()}


def document_counts(session: Session, common: CommonWords, words: list[str]) -> dict[str, int]:
    """About how many documents hold each word (its most common stem, for a word that
    stems to more than one): from ANALYZE's sample, not a count; 0 for a stop word, and
    for every word before the table was first analysed. A word the sample does not list
    counts as the least common listed: at most that many."""
    if not words:
        return {}
    stems = _stems(session, words)
    shares, floor, total = common.read(session)
    return {w: 0 if w in STOP_WORDS else round(total * max((shares.get(s, floor) for s in stems.get(w, [])), default=0.0))
            for w in words}


def known_common(session: Session, common: CommonWords, words: list[str], over: int) -> dict[str, int]:
    """The words ANALYZE's sample lists in more than `over` documents, with about how
    many (the least of a word's stems, for a word that stems to more than one: a
    document holds all of them)."""
    shares, _floor, total = common.read(session)
    if total <= over or not words:
        return {}
    stems = _stems(session, words)
    counts = {w: round(min(shares.get(s, 0.0) for s in stems[w]) * total) for w in words if stems.get(w)}
    return {w: n for w, n in counts.items() if n > over}


# --- similar answers ---------------------------------------------------------------------

KEY_TERMS = 12
_LEXEME = re.compile(r"^[a-z0-9]+$")
_WEIGHT = {"A": 1.0, "B": 0.4, "C": 0.2, "D": 0.05}


def similar_answered(session: Session, common: CommonWords, question_id: int, excluded: set[int],
                     wanted: int) -> list[int]:
    """Answered questions that share this one's key terms: its lexemes weighed by where
    they stand (question, summary, headings, body) and by how rare they are in the
    corpus, which comes from ANALYZE's sample (CommonWords): counting every lexeme
    (ts_stat) read every document, minutes at 1,000,000 questions, on an editor's save.
    Lexemes rarer than the sample can tell apart weigh alike; ties go to the longer.
    Lexemes in more than COMMON documents are left out while others remain (as in
    search, `_required`), and the matches come in RUM's order with no tie-breaker: with
    both, one question took 5 s at 1,000,000 (every match of twelve terms ranked)."""
    lexemes = session.execute(text(
        "SELECT u.lexeme, u.weights FROM search_document d, unnest(d.tsv) u WHERE d.question_id = :id"),
        {"id": question_id}).all()
    if not lexemes:
        return []
    shares, floor, total = common.read(session)
    scored, common_ones = [], []
    for lexeme, weights in lexemes:
        if _LEXEME.match(lexeme):
            idf = math.log((1 + total) / (1 + total * shares.get(lexeme, floor)))
            entry = (-sum(_WEIGHT[w] for w in weights) * idf, -len(lexeme), lexeme)
            (common_ones if shares.get(lexeme, 0.0) * total > common_documents() else scored).append(entry)
    terms = [lexeme for *_order, lexeme in sorted(scored or common_ones)[:KEY_TERMS]]
    if not terms:
        return []
    tsq = " | ".join(f"'{t}'" for t in terms)
    with _through_the_index(session):
        return list(session.scalars(text(
            "SELECT d.question_id FROM search_document d WHERE d.tsv @@ CAST(:q AS tsquery) "
            "AND d.status = 'answered' AND d.question_id <> ALL(:left_out) "
            "ORDER BY d.tsv <=> CAST(:q AS tsquery) LIMIT :n"),
            {"q": tsq, "left_out": sorted(excluded | {question_id}), "n": wanted}))
