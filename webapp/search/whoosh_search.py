"""The Whoosh engine's searching: ranked, filtered, faceted, highlighted, corrected."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session
from whoosh import qparser
from whoosh.query import And, DateRange, Every, Query, Term

from webapp.answers.models import Category
from webapp.search import highlight
from webapp.search.index import IndexUnavailable, SearchIndex
from webapp.search.query import WORD, ReaderQuery
from webapp.search.results import MIN_CORRECTABLE, Hit, SearchPage, Tally, count_cap
from webapp.search.schema import TEXT_FIELDS
from webapp.search.spelling import transpositions

KEY_TERMS = 12  # of a question's own words, for finding answers like it


def _parser(schema, group=qparser.OrGroup) -> qparser.QueryParser:
    # OR matches; the ranking puts answers with all the words first (_best_first).
    parser = qparser.MultifieldParser(TEXT_FIELDS, schema, group=group)
    for plugin in (qparser.WildcardPlugin, qparser.FieldsPlugin, qparser.RangePlugin,
                   qparser.BoostPlugin, qparser.PlusMinusPlugin, qparser.OperatorsPlugin):
        parser.remove_plugin_class(plugin)
    return parser


def text_query(query: ReaderQuery, schema, words: list[str] | None = None, every: bool = False) -> Query:
    """The words and phrases as a Whoosh query, any of them (`every`: all of them);
    everything, if there are none."""
    words = query.words if words is None else words
    if not (words or query.phrases):
        return Every()
    # Our words are letters and digits only, so the string cannot hold syntax.
    string = " ".join([*words, *(f'"{p}"' for p in query.phrases)])
    return _parser(schema, qparser.AndGroup if every else qparser.OrGroup).parse(string)


def filters(query: ReaderQuery, category: str | None = None, status: str | None = None) -> Query | None:
    """The operators (and the page's filter choices) as one filter query."""
    terms: list[Query] = []
    if category or query.category:
        terms.append(Term("category", category or query.category))
    if status or query.status:
        terms.append(Term("status", status or query.status))
    if query.checked:
        start, end = query.checked
        terms.append(DateRange("checked_on", _at(start), _at(end, end=True)))
    if query.cites:
        terms.append(Term("cites", query.cites))
    if query.verdict:
        terms.append(Term("verdict", query.verdict))
    return And(terms) if terms else None


def _at(day: dt.date | None, end: bool = False) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time.max if end else dt.time.min)


def _terms(whoosh_query) -> set[str]:
    """The analysed words of the query (what the index matched), for highlighting."""
    return {text.decode() if isinstance(text, bytes) else text for _field, text in whoosh_query.iter_all_terms()}


def _hit(hit, terms: set[str], by_meaning: bool = False) -> Hit:
    checked = hit.get("checked_on")
    return Hit(
        id=int(hit["id"]),
        by_meaning=by_meaning,
        slug=hit["slug"],
        question=highlight.question(hit["question"], terms),
        snippet=highlight.snippet(hit.get("summary", ""), terms),
        category=hit.get("category", ""),
        category_name=hit.get("category_name", ""),
        answered=hit.get("status") == "answered",
        checked_on=checked.date() if checked else None,
        verdict=hit.get("verdict"),
    )


def _value_sets(searcher, field: str) -> dict[str, frozenset[int]]:
    """Document numbers per value of a facet field, kept for the searcher's lifetime."""
    cache = searcher.__dict__.setdefault("_plumb_facets", {})
    if field not in cache:
        cache[field] = {
            (v.decode() if isinstance(v, bytes) else v): frozenset(searcher.docs_for_query(Term(field, v)))
            for v in searcher.lexicon(field)
        }
    return cache[field]


def _docs(searcher, query) -> frozenset[int] | None:
    return None if query is None else frozenset(searcher.docs_for_query(query))


def _suggestion(searcher, query: ReaderQuery, flt) -> str | None:
    """A corrected query, if some words are unknown and correcting them finds more."""
    corrector = searcher.corrector("spell")
    fixes: dict[str, str] = {}
    for word in query.words:
        if len(word) >= MIN_CORRECTABLE and searcher.doc_frequency("spell", word) == 0:
            # Whoosh's automaton counts a swap of two letters as two edits, so the words
            # with two neighbouring letters swapped are looked up as well; the most
            # frequent candidate wins, as the corrector itself ranks them.
            options = corrector.suggest(word, limit=5, maxdist=1, prefix=1)
            options += [t for t in transpositions(word) if searcher.doc_frequency("spell", t)]
            options = [o for o in options if o != word]
            if options:
                fixes[word] = max(options, key=lambda o: (searcher.frequency("spell", o), -options.index(o)))
    if not fixes:
        return None
    corrected = [fixes.get(word, word) for word in query.words]
    # An unknown word adds nothing to the results, so a correction that finds anything helps.
    if searcher.search(text_query(query, searcher.schema, corrected), filter=flt, limit=1).is_empty():
        return None
    return WORD.sub(lambda m: fixes.get(m.group(0).lower(), m.group(0)), query.text)


def _tally(searcher, whoosh_query, operator_filter, names: dict[str, str], cap: int) -> tuple[Tally, frozenset[int]]:
    """Matches of the words and operators by category and status: one unscored pass
    over at most cap + 1 of them. Documents come in index order, so where the pass
    stops tells what share of the index it read, and so roughly how many match in all."""
    operators = _docs(searcher, operator_filter)
    sample: list[int] = []
    for docnum in searcher.docs_for_query(whoosh_query):
        if operators is None or docnum in operators:
            sample.append(docnum)
            if len(sample) > cap:
                break
    matched = frozenset(sample)
    statuses = _value_sets(searcher, "status")
    groups = {}
    for slug, in_category in _value_sets(searcher, "category").items():
        for status, in_status in statuses.items():
            if n := len(matched & in_category & in_status):
                groups[(slug, names.get(slug, slug), status)] = n
    tally = Tally(groups, sampled=len(sample))
    if len(sample) > cap:
        tally.estimated = max(cap + 1.0, len(sample) * searcher.reader().doc_count_all() / (sample[-1] + 1))
    return tally, matched


def _best_first(searcher, any_of, all_of, allowed, offset: int, window: int) -> list:
    """Answers with all the words and phrases first, then those with some, each part
    ranked by BM25F over all of them: the same order as the PostgreSQL engine's."""
    with_all = searcher.search(all_of, limit=offset + window, filter=allowed)
    found = list(with_all[offset:])
    if len(found) == window or all_of == any_of:
        return found
    # All the answers with all the words are in hand (fewer than the window's end).
    seen = {hit.docnum for hit in with_all}
    rest = searcher.search(any_of, limit=offset + window, filter=allowed, mask=seen)
    start = max(0, offset - len(seen))
    return found + list(rest[start : start + window - len(found)])


def _chosen(searcher, docnum: int, category: str | None, status: str | None) -> bool:
    """Whether a document is in the category and status the page is filtered to."""
    return ((not category or docnum in _value_sets(searcher, "category").get(category, ()))
            and (not status or docnum in _value_sets(searcher, "status").get(status, ())))


def search(index: SearchIndex, session: Session, query: ReaderQuery, *, category: str | None = None,
           status: str | None = None, sort: str = "relevance", page: int = 1, counts: bool = True,
           hits: bool = True) -> SearchPage:
    """The page's hits, counts and facets; without `counts` only the hits (results
    first: no pass over every matching document), without `hits` only the counts."""
    result = SearchPage(query=query, page=page, counted=False)
    if query.empty and not (category or status):
        return result
    newest = sort == "newest" or not query.has_terms
    order = dict(sortedby="checked_on" if newest else None, reverse=newest)
    try:
        with index.searcher() as searcher:
            whoosh_query = text_query(query, searcher.schema)
            operator_filter = filters(query)  # the operators alone: for the counts and did-you-mean
            terms = _terms(whoosh_query)
            exact = None
            if counts:
                names = dict(session.execute(select(Category.slug, Category.name)).all())
                tally, matched = _tally(searcher, whoosh_query, operator_filter, names, count_cap())
                tally.fill(result, category, status)
                if not result.approximate:
                    exact = {n for n in matched if _chosen(searcher, n, category, status)}
            if hits and (exact is None or (exact and page <= result.page_count)):
                window = result.size + (0 if result.counted else 1)
                allowed = exact if exact is not None else filters(query, category, status)
                if newest:
                    found = list(searcher.search(whoosh_query, limit=result.offset + window, filter=allowed,
                                                 **order)[result.offset :])
                else:
                    all_of = text_query(query, searcher.schema, every=True)
                    found = _best_first(searcher, whoosh_query, all_of, allowed, result.offset, window)
                result.take(found, lambda h: _hit(h, terms))
            if hits and query.words:
                result.suggestion = _suggestion(searcher, query, operator_filter)
    except IndexUnavailable:
        result.unavailable = True
    return result


def document_counts(index: SearchIndex, words: list[str]) -> dict[str, int]:
    """How many documents hold each word, in their question or the rest (the greater)."""
    with index.searcher() as searcher:
        analyzer = searcher.schema["content"].analyzer
        return {word: max((searcher.reader().doc_frequency(field, token.text) for token in analyzer(word)
                           for field in TEXT_FIELDS), default=0) for word in words}


def similar_answered(index: SearchIndex, question_id: int, text: str, excluded: set[int], wanted: int) -> list[int]:
    """Ids of the answered questions most like this one (more_like over `content`), best first."""
    with index.searcher() as searcher:
        docnum = searcher.document_number(id=str(question_id))
        if docnum is None:
            return []
        answered = _value_sets(searcher, "status").get("answered", frozenset())
        left_out = {searcher.document_number(id=str(i)) for i in excluded | {question_id}}
        allowed = set(answered - left_out)
        if not allowed:
            return []
        hits = searcher.more_like(docnum, "content", text=text, top=wanted, numterms=KEY_TERMS, filter=allowed)
        return [int(hit["id"]) for hit in hits]


def ranked(index: SearchIndex, query: ReaderQuery, *, category: str | None, status: str | None,
           limit: int) -> list[int]:
    """The ids of the best `limit` matches of the words, in the order `search` shows them."""
    with index.searcher() as searcher:
        any_of = text_query(query, searcher.schema)
        all_of = text_query(query, searcher.schema, every=True)
        found = _best_first(searcher, any_of, all_of, filters(query, category, status), 0, limit)
        return [int(hit["id"]) for hit in found]


def hits_for(index: SearchIndex, query: ReaderQuery, ids: list[int], marked: bool = True) -> dict[int, Hit]:
    """These questions as hits, those the operators allow, marked where the words match."""
    with index.searcher() as searcher:
        wanted = {n: i for i in ids if (n := searcher.document_number(id=str(i))) is not None}
        operator_filter = filters(query)
        if operator_filter is not None and wanted:  # tested on these documents only, not the index
            allowed = {hit.docnum for hit in searcher.search(operator_filter, filter=set(wanted), limit=len(wanted),
                                                               scored=False)}
            wanted = {n: i for n, i in wanted.items() if n in allowed}
        if not wanted:
            return {}
        whoosh_query = text_query(query, searcher.schema)
        matched = {hit.docnum for hit in searcher.search(whoosh_query, filter=set(wanted), limit=len(wanted))}
        terms = _terms(whoosh_query) if marked else set()
        return {i: _hit(searcher.stored_fields(n), terms, by_meaning=n not in matched) for n, i in wanted.items()}


def suggestion(index: SearchIndex, query: ReaderQuery) -> str | None:
    if not query.words:
        return None
    with index.searcher() as searcher:
        return _suggestion(searcher, query, filters(query))
