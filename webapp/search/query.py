"""A reader's query, in the reader's words: its words, phrases and operators.

Words and "quoted phrases" are searched; five operators filter: `category:health`,
`checked:2025-01..2025-06`, `is:unanswered`, `cites:example.org` and `verdict:false`
(an operator's value may be quoted: `verdict:"mostly false"`). Anything else
that looks like syntax (`*`, `field:`, brackets, a lone quote) is read as words, so no
input can make the parser fail. Each engine translates a ReaderQuery into its own
query language."""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field

from webapp.content.parser import VERDICTS


MAX_QUERY = 200
MAX_WORDS = 12
_OPERATOR = re.compile(r'(?<![\w:])(category|checked|is|cites|verdict):("[^"]*"|\S*)', re.IGNORECASE)
_PHRASE = re.compile(r'"([^"]*)"')
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_DATE = r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?"
_CHECKED = re.compile(rf"^{_DATE}(?:\.\.(?:{_DATE})?)?$")
_SLUG = re.compile(r"^[a-z0-9-]{1,80}$")
_DOMAIN = re.compile(r"^[a-z0-9.-]{1,253}$")
STATUSES = {"answered", "unanswered"}
# Words too common to search by on their own (inside a quoted phrase they still count).
# Both engines use this list, so a query means the same whichever engine answers it.
STOP_WORDS = frozenset("""a an and are as at be by can for from have if in is it may not of on or tbd that
the this to us we when will with yet you your""".split())


@dataclass
class ReaderQuery:
    text: str = ""  # the normalised query as the reader typed it
    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    category: str | None = None
    status: str | None = None
    checked: tuple[dt.date | None, dt.date | None] | None = None
    cites: str | None = None
    verdict: str | None = None  # one of VERDICTS
    cut: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def has_terms(self) -> bool:
        return bool(self.words or self.phrases)

    @property
    def empty(self) -> bool:
        return not (self.has_terms or self.category or self.status or self.checked or self.cites
                    or self.verdict)


def normalise(raw: str) -> tuple[str, bool]:
    """Printable characters only, spaces folded; cut to MAX_QUERY (and say so)."""
    printable = "".join(c if c.isprintable() else " " for c in raw)
    text = " ".join(printable.split())
    return text[:MAX_QUERY].rstrip(), len(text) > MAX_QUERY


def _day(year: str, month: str | None, day: str | None, end: bool) -> dt.date:
    y = int(year)
    m = int(month) if month else (12 if end else 1)
    last = calendar.monthrange(y, m)[1]
    d = int(day) if day else (last if end else 1)
    return dt.date(y, m, d)


def parse_checked(value: str) -> tuple[dt.date | None, dt.date | None] | None:
    """`2025`, `2025-01`, `2025-01-05`, `2025-01..2025-06`, `2025-01..` as a date range."""
    match = _CHECKED.match(value)
    if not match:
        return None
    y1, m1, d1, y2, m2, d2 = match.groups()
    try:
        start = _day(y1, m1, d1, end=False)
        if ".." not in value:
            return start, _day(y1, m1, d1, end=True)
        return start, _day(y2, m2, d2, end=True) if y2 else None
    except ValueError:
        return None


def _operator(query: ReaderQuery, name: str, value: str) -> bool:
    """Apply one operator; False if its value is not one we understand."""
    value = value.strip('"').lower()
    if name == "category" and _SLUG.match(value):
        query.category = value
    elif name == "is" and value in STATUSES:
        query.status = value
    elif name == "checked" and (dates := parse_checked(value)):
        query.checked = dates
    elif name == "cites" and _DOMAIN.match(value):
        query.cites = value.removeprefix("www.")
    elif name == "verdict" and (verdict := "-".join(value.split())) in VERDICTS:
        query.verdict = verdict  # "mostly false", as the answer page writes it, is mostly-false
    else:
        return False
    return True


HELP = {
    "category": "category: takes a category name, like category:health",
    "is": "is: takes answered or unanswered",
    "checked": "checked: takes dates, like checked:2025-01..2025-06",
    "cites": "cites: takes a web address, like cites:example.org",
    "verdict": f"verdict: takes {', '.join(VERDICTS[:-1])} or {VERDICTS[-1]}",
}


def parse(raw: str) -> ReaderQuery:
    text, cut = normalise(raw)
    query = ReaderQuery(text=text, cut=cut)
    rest = []
    position = 0
    for match in _OPERATOR.finditer(text):
        rest.append(text[position : match.start()])
        name = match.group(1).lower()
        if not _operator(query, name, match.group(2)):
            query.notes.append(HELP[name])
        position = match.end()
    rest.append(text[position:])
    remainder = " ".join(rest)
    for phrase in _PHRASE.findall(remainder):
        words = WORD.findall(phrase.lower())
        if len(words) > 1:
            query.phrases.append(" ".join(words))
        else:
            query.words.extend(words)
    remainder = _PHRASE.sub(" ", remainder)
    query.words.extend(WORD.findall(remainder.lower()))
    query.words = list(dict.fromkeys(query.words))[:MAX_WORDS]
    return query
