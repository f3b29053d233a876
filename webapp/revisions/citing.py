""""Cite this answer": a permalink to the revision the reader read, which never changes
after it is saved, and the citation in the styles readers are asked for.

Answers change (a re-check, a correction), so a citation names the revision: its
permalink shows the answer as that revision had it (/q/<slug>/history/<n>), and the
date is the day it was checked. The site is the author. Styles follow the current
editions' rules for a web page with a group author: APA 7, MLA 9, Chicago 17
(notes-bibliography, bibliography entry), and BibTeX @misc with both `url` (biblatex)
and `howpublished` (the classic bibtex styles)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from webapp.urls import absolute_url

MLA_MONTHS = ("Jan.", "Feb.", "Mar.", "Apr.", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec.")
BIBTEX_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_BIBTEX_SPECIAL = re.compile(r"([&%$#_{}])")
STYLES = (("apa", "APA"), ("mla", "MLA"), ("chicago", "Chicago"), ("bibtex", "BibTeX"))


@dataclass(frozen=True)
class Citation:
    number: int  # the revision cited
    permalink: str
    apa: str
    mla: str
    chicago: str
    bibtex: str

    def styles(self) -> list[tuple[str, str, str]]:
        """(id, name, text) for each style, in the order the page shows them."""
        return [(key, name, getattr(self, key)) for key, name in STYLES]


def _ends(title: str) -> str:
    """The title followed by a period, unless it ends with its own mark."""
    return title if title[-1:] in ".?!" else f"{title}."


def _bibtex_text(text: str) -> str:
    text = text.replace("\\", r"\textbackslash{}").replace("~", r"\textasciitilde{}").replace("^", r"\^{}")
    return _BIBTEX_SPECIAL.sub(r"\\\1", text)


def cite(*, site_name: str, title: str, slug: str, permalink: str, checked_on: dt.date, number: int) -> Citation:
    day = checked_on
    apa_date = f"{day.year}, {day:%B} {day.day}"
    mla_date = f"{day.day} {MLA_MONTHS[day.month - 1]} {day.year}"
    chicago_date = f"{day:%B} {day.day}, {day.year}"
    bare = re.sub(r"^https?://", "", permalink)  # MLA leaves out the scheme
    key = re.sub(r"[^a-z0-9]+", "-", f"{site_name} {slug} r{number}".lower()).strip("-")
    bibtex = "\n".join([
        f"@misc{{{key},",
        f"  author = {{{{{_bibtex_text(site_name)}}}}},",
        f"  title = {{{_bibtex_text(title)}}},",
        f"  year = {{{day.year}}},",
        f"  month = {BIBTEX_MONTHS[day.month - 1]},",
        f"  url = {{{permalink}}},",
        f"  howpublished = {{\\url{{{permalink}}}}},",
        f"  note = {{Revision {number}, checked on {day.isoformat()}}}",
        "}",
    ])
    return Citation(
        number=number, permalink=permalink,
        apa=f"{site_name}. ({apa_date}). {_ends(title)} {permalink}",
        mla=f"“{_ends(title) if title[-1:] in '?!' else title + ','}” {site_name}, {mla_date}, {bare}.",
        chicago=f"“{_ends(title)}” {site_name}. Last modified {chicago_date}. {permalink}.",
        bibtex=bibtex,
    )


def permalink(slug: str, number: int) -> str:
    """The revision's own address, from SITE_URL (never from the request's Host)."""
    return absolute_url("revisions.revision", slug=slug, number=number)
