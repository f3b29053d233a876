""""Cite this answer" (issue 16): the permalink of the revision a reader read, the page
that shows that revision as it was saved, and the citation in APA, MLA, Chicago and
BibTeX."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from tests.pages import HTMX, links, part, text_of
from webapp.answers.models import Question
from webapp.extensions import db
from webapp.revisions import citing, service as revisions

SKY = "/q/why-is-the-sky-blue"
PERMALINK = "https://plumb.example/q/why-is-the-sky-blue/history/"


def cite_box(page: str) -> str:
    return part(page, '<details class="cite-answer" id="cite">', "</details>")


def citations(page: str) -> dict[str, str]:
    return {key: html.unescape(text) for key, text in re.findall(r'<pre id="cite-(\w+)"[^>]*>(.*?)</pre>', page, re.S)}


def new_revision(app, slug: str, summary: str) -> int:
    """An editor's correction: the summary changes and a revision records it."""
    with app.app_context():
        question = db.session.scalar(select(Question).where(Question.slug == slug))
        question.summary = summary
        revision = revisions.record(db.session, question, "correction", "Fixed the summary", None)
        db.session.commit()
        return revision.number


# --- the styles ------------------------------------------------------------------------------

def test_each_style_for_a_question():
    found = citing.cite(site_name="Plumb", title="Why is the sky blue?", slug="why-is-the-sky-blue",
                        permalink="https://plumb.example/q/why-is-the-sky-blue/history/3",
                        checked_on=dt.date(2025, 9, 3), number=3)
    assert found.apa == "Plumb. (2025, September 3). Why is the sky blue? https://plumb.example/q/why-is-the-sky-blue/history/3"
    assert found.mla == "“Why is the sky blue?” Plumb, 3 Sept. 2025, plumb.example/q/why-is-the-sky-blue/history/3."
    assert found.chicago == ("“Why is the sky blue?” Plumb. Last modified September 3, 2025. "
                             "https://plumb.example/q/why-is-the-sky-blue/history/3.")
    assert found.bibtex.startswith("@misc{plumb-why-is-the-sky-blue-r3,\n")
    assert "  author = {{Plumb}},\n" in found.bibtex and "  month = sep,\n" in found.bibtex
    assert [name for _key, name, _text in found.styles()] == ["APA", "MLA", "Chicago", "BibTeX"]


def test_a_title_without_its_own_mark_and_characters_bibtex_reserves():
    found = citing.cite(site_name="Plumb & Co", title="Salt_water & 100% of $5 {ideas}", slug="salt",
                        permalink="http://localhost:5000/q/salt/history/1", checked_on=dt.date(2024, 5, 1), number=1)
    assert found.apa == "Plumb & Co. (2024, May 1). Salt_water & 100% of $5 {ideas}. http://localhost:5000/q/salt/history/1"
    assert found.mla.startswith("“Salt_water & 100% of $5 {ideas},” Plumb & Co, 1 May 2024, localhost:5000/")
    assert found.chicago.startswith("“Salt_water & 100% of $5 {ideas}.” Plumb & Co. Last modified May 1, 2024.")
    assert r"title = {Salt\_water \& 100\% of \$5 \{ideas\}}," in found.bibtex
    assert r"author = {{Plumb \& Co}}," in found.bibtex and found.bibtex.startswith("@misc{plumb-co-salt-r1,")


# --- the answer page -------------------------------------------------------------------------

def test_every_answer_can_be_cited_by_its_latest_revision(demo, client):
    page = text_of(client.get(SKY))
    box = cite_box(page)
    assert "<summary>Cite this answer</summary>" in box
    assert (PERMALINK + "1", PERMALINK + "1") in links(box)
    styles = citations(box)
    assert set(styles) == {"apa", "mla", "chicago", "bibtex"}
    checked = db_checked_on(demo, "why-is-the-sky-blue")
    assert styles["apa"] == f"Plumb. ({checked.year}, {checked:%B} {checked.day}). Why is the sky blue? {PERMALINK}1"
    assert 'data-copy="cite-apa"' in box and " hidden>" in box  # the Copy buttons wait for JavaScript


def db_checked_on(app, slug) -> dt.date:
    with app.app_context():
        return db.session.scalar(select(Question.checked_on).where(Question.slug == slug))


def test_the_permalink_comes_from_the_settings_not_the_host(demo, client):
    page = text_of(client.get(SKY, headers={"Host": "evil.example"}))
    assert "evil.example" not in cite_box(page)


def test_a_new_revision_is_cited_from_then_on(demo, client):
    assert new_revision(demo, "why-is-the-sky-blue", "Air scatters blue light most [1].") == 2
    box = cite_box(text_of(client.get(SKY)))
    assert (PERMALINK + "2", PERMALINK + "2") in links(box)
    assert all(text.count("/history/2") >= 1 for text in citations(box).values())


def test_questions_not_answered_yet_have_nothing_to_cite(demo, client):
    assert '<details class="cite-answer"' not in text_of(client.get("/q/how-fast-can-an-ostrich-run"))


# --- a revision's own page ---------------------------------------------------------------------

def test_a_revision_page_shows_the_answer_as_that_revision_had_it(demo, client):
    before = text_of(client.get(SKY + "/history/1"))
    new_revision(demo, "why-is-the-sky-blue", "Air scatters blue light most, <b>said</b> Rayleigh [1].")
    old = client.get(SKY + "/history/1")
    assert old.status_code == 200
    page = text_of(old)
    assert "You are reading revision 1 of 2" in page and "It has changed since" in page
    assert ("/q/why-is-the-sky-blue/history/diff?from=1&amp;to=2", "see what changed") in [
        (href, text) for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', page)]
    # The old text, not the new one: the permalink keeps what was cited.
    assert part(page, '<section class="summary"') == part(before, '<section class="summary"')
    assert "said" not in part(page, '<section class="summary"')
    new = text_of(client.get(SKY + "/history/2"))
    assert "It is the current answer" in new and "said" in part(new, '<section class="summary"')
    assert "<b>said</b>" not in new  # Markdown through the same sanitiser as the answer page
    assert '<meta name="robots" content="noindex">' in new
    assert f'<link rel="canonical" href="{PERMALINK}2">' in new
    # Every section is open on it, with its text.
    assert page.count('<section class="answer-section"') >= 1 and "<details" not in part(page, '<section class="sections"')
    assert cite_box(new).count("/history/2") >= 4


@pytest.mark.parametrize("url, status", [(SKY + "/history/0", 404), (SKY + "/history/9", 404),
                                         (SKY + "/history/99999999999", 404), ("/q/no-such/history/1", 404)])
def test_revisions_that_do_not_exist(demo, client, url, status):
    assert client.get(url).status_code == status


def test_a_revision_page_is_whole_even_when_htmx_asks(demo, client):
    assert "<html" in text_of(client.get(SKY + "/history/1", headers=HTMX))


# --- share ------------------------------------------------------------------------------------

def test_an_answer_is_shared_with_plain_links_and_no_third_party_script(demo, client):
    page = text_of(client.get(SKY, headers={"Host": "evil.example"}))
    menu = part(page, '<nav class="share"', "</nav>")
    found = dict((text, href) for href, text in re.findall(r'<a href="([^"]+)"[^>]*>([A-Za-z]+)', menu))
    encoded = "https%3A//plumb.example/q/why-is-the-sky-blue"
    assert set(found) == {"Email", "Bluesky", "X", "Facebook", "LinkedIn", "Reddit"}
    assert all(encoded in html.unescape(href) for href in found.values())
    assert "evil.example" not in menu
    assert 'data-share-url="https://plumb.example/q/why-is-the-sky-blue"' in menu and " hidden>" in menu
    # Only our own scripts on the page: sharing loads nothing from elsewhere.
    assert all(src.startswith("/static/") for src in re.findall(r'<script[^>]+src="([^"]+)"', page))
