"""Answer pages, their sections, categories and the home page: as pages and as htmx fragments."""
from __future__ import annotations

import collections
import datetime as dt
import html
import json
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tests.answer_files import answer, write
from tests.pages import HTMX, get, links, part, tags, text_of
from webapp.answers.models import Question, RelatedLink
from webapp.content.importer import import_folder
from webapp.extensions import db

SKY = "why-is-the-sky-blue"
OSTRICH = "how-fast-can-an-ostrich-run"  # made by the import from "How fast can an ostrich run?"
SITE = "https://plumb.example"  # make_app's SITE_URL (tests/apps.py)
HISTORY_RESTORE = {**HTMX, "HX-History-Restore-Request": "true"}


# --- helpers -------------------------------------------------------------------------------

def items(text: str) -> list[str]:
    """The question items of a list, in page order."""
    return re.findall(r'<li class="question-item"[^>]*>(.*?)</li>', text, re.S)


def hrefs(text: str) -> list[str]:
    return [href for item in items(text) for href, _ in links(item)[:1]]


def headings(text: str, level: int = 1) -> list[str]:
    """The words of every <hN>, unescaped and without inner tags."""
    found = re.findall(rf"<h{level}\b[^>]*>(.*?)</h{level}>", text, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", h)).split()) for h in found]


def meta(text: str, key: str) -> str:
    """The content of <meta name=key> or <meta property=key>."""
    found = [t["content"] for t in tags(text, "meta") if key in (t.get("name"), t.get("property"))]
    assert len(found) == 1, f"expected one meta {key}, found {found}"
    return found[0]


def jsonld(text: str) -> dict:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)
    assert found, "no JSON-LD on the page"
    return json.loads(found.group(1))


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def load(app, slug: str) -> Question:
    """A question with its sections, sources and category, readable outside the app context."""
    with app.app_context():
        found = db.session.scalar(select(Question).where(Question.slug == slug).options(
            selectinload(Question.sections), selectinload(Question.sources), selectinload(Question.category)))
        assert found is not None, slug
        db.session.expunge_all()
        return found


def answered_questions(app) -> list[Question]:
    with app.app_context():
        found = db.session.scalars(select(Question).where(Question.status == "answered")
                                   .options(selectinload(Question.category))).all()
        db.session.expunge_all()
        return list(found)


def import_files(app, folder) -> None:
    with app.app_context():
        report = import_folder(db.session, folder)
        assert not report.rejected, report.rejected


def dated(slug: str, question: str, checked_on: dt.date) -> str:
    """A minimal answer file checked on `checked_on`."""
    return answer(slug, question).replace("checked_on: 2025-01-02", f"checked_on: {checked_on}")


# --- every route: a page, a fragment, and Vary ---------------------------------------------

ROUTES = [
    ("/", '<h2 id="recent-heading">Recently checked</h2>'),
    (f"/q/{SKY}", "<h1>Why is the sky blue?</h1>"),
    (f"/q/{SKY}/sections/1", '<a href="#source-'),
    (f"/q/{OSTRICH}", "<strong>Not answered yet.</strong>"),
    ("/c/science", '<section id="question-list"'),
    ("/c/science?page=1", '<section id="question-list"'),
]


@pytest.mark.parametrize("url, marker", ROUTES)
def test_each_route_is_a_whole_page_without_htmx(demo, client, url, marker):
    response = get(client, url)
    assert response.status_code == 200
    assert "<html" in text_of(response) and marker in text_of(response)
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("url, marker", ROUTES)
def test_each_route_is_only_its_block_for_htmx(demo, client, url, marker):
    response = get(client, url, fragment=True)
    assert response.status_code == 200
    assert "<html" not in text_of(response) and '<header class="site-header">' not in text_of(response)
    assert marker in text_of(response)
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("url, marker", ROUTES)
def test_an_htmx_history_restore_gets_the_whole_page(demo, client, url, marker):
    response = client.get(url, headers=HISTORY_RESTORE)
    assert "<html" in text_of(response) and marker in text_of(response)


# --- the answer page -----------------------------------------------------------------------

def test_answer_page_shows_the_question_its_check_date_and_the_disclaimer(demo, client):
    sky = load(demo, SKY)
    page = text_of(get(client, f"/q/{SKY}"))
    assert headings(page) == [sky.text]
    day = sky.checked_on
    assert f'Checked on <time datetime="{day.isoformat()}">{long_date(day)}</time>' in page
    disclaimer = part(page, '<p class="disclaimer"', "</p>")
    assert "Plumb can make mistakes. Please verify important information." in disclaimer
    assert ("/about#method", "Learn more about how we check answers") in links(disclaimer)  # its accessible name


def test_answer_page_shows_the_summary_with_every_citation_linked(demo, client):
    page = text_of(get(client, f"/q/{SKY}"))
    summary = part(page, '<section class="summary"')
    assert "the tiny gas molecules in the air scatter short-wavelength blue light" in summary
    assert summary.count('class="cite"') == 5  # [1] [4] in the first paragraph, [3] [5] [6] in the second
    without_links = re.sub(r"<a\b.*?</a>", "", summary, flags=re.S)
    assert not re.search(r"\[\d+\]", without_links), "a citation was left as plain text"


@pytest.mark.parametrize("url", [f"/q/{SKY}", f"/q/{SKY}/sections/2"])
def test_citation_links_name_their_source_in_a_tooltip(demo, client, url):
    sources = load(demo, SKY).sources
    cites = [t for t in tags(text_of(get(client, url)), "a") if t.get("class") == "cite"]
    assert cites
    for cite in cites:
        n = int(cite["href"].removeprefix("#source-"))
        tip = f"{sources[n - 1].title} — {sources[n - 1].publisher}"
        assert cite["data-tooltip"] == tip
        assert cite["aria-label"] == f"Source {n}: {tip}"


def test_sections_are_numbered_details_that_load_lazily_and_work_without_javascript(demo, client):
    sections = load(demo, SKY).sections
    page = text_of(get(client, f"/q/{SKY}"))
    details = [t for t in tags(page, "details") if "answer-section" in t.get("class", "")]
    assert [d["id"] for d in details] == [f"section-{n}" for n in range(1, len(sections) + 1)]
    assert [d["hx-get"] for d in details] == [f"/q/{SKY}/sections/{n}" for n in range(1, len(sections) + 1)]
    for n, section in enumerate(sections, start=1):
        block = part(page, f'<details id="section-{n}"', "</details>")
        assert headings(block, 3) == [f"{n}. {section.heading}"]
        hidden = re.search(r"<noscript>(.*?)</noscript>", block, re.S)
        assert hidden, f"section {n} needs JavaScript to be read"
        assert hidden.group(1).strip() == text_of(get(client, f"/q/{SKY}/sections/{n}", fragment=True)).strip()


def test_sources_are_a_numbered_list_that_citations_point_into(demo, client):
    sources = load(demo, SKY).sources
    page = text_of(get(client, f"/q/{SKY}"))
    listed = part(page, '<section class="sources"')
    ids = re.findall(r'<li id="(source-\d+)">', listed)
    assert ids == [f"source-{n}" for n in range(1, len(sources) + 1)]
    assert [href for href, _ in links(listed)] == [s.url for s in sources]
    assert sources[0].title in listed and sources[0].publisher in listed
    cited = {t["href"].lstrip("#") for t in tags(page, "a") if t.get("class") == "cite"}
    assert cited and cited <= set(ids)


def test_want_to_dive_deeper_lists_related_questions_in_file_order(demo, client):
    page = text_of(get(client, f"/q/{SKY}"))
    related = items(part(page, '<section class="related"'))
    # The order of `related:` in content/demo/why-is-the-sky-blue.md, then suggestions up to five.
    assert [links(item)[0][1] for item in related][:3] == [
        "Are the seasons caused by Earth's distance from the Sun?",
        "How many times a year is the Empire State Building struck by lightning?",
        "Do carrots help you see in the dark?",
    ]
    assert len(related) == 5
    assert ["not answered yet" in item for item in related] == [False, True, False, False, False]
    for item in related:
        href, question = links(item)[0]
        target = text_of(get(client, href))
        assert headings(target) == [question]
        assert ("Not answered yet." in target) == ("not answered yet" in item)


def test_breadcrumb_leads_home_and_to_the_category(demo, client):
    crumbs = part(text_of(get(client, f"/q/{SKY}")), '<nav aria-label="Breadcrumb"', "</nav>")
    assert links(crumbs) == [("/", "Home"), ("/c/science", "Science")]


def test_head_has_title_description_canonical_and_opengraph(demo, client):
    sky = load(demo, SKY)
    page = text_of(get(client, f"/q/{SKY}"))
    head = part(page, "<head>", "</head>")
    assert "<title>Why is the sky blue? — Plumb</title>" in head
    description = meta(head, "description")
    assert description.startswith("The sky looks blue because of the way sunlight interacts with the air.")
    assert len(description) <= 160 and "[" not in description
    assert [t["href"] for t in tags(head, "link") if t.get("rel") == "canonical"] == [f"{SITE}/q/{SKY}"]
    assert meta(head, "og:title") == sky.text
    assert meta(head, "og:url") == f"{SITE}/q/{SKY}"
    assert meta(head, "og:type") == "article"
    assert meta(head, "og:description") == description
    assert "noindex" not in head


def test_head_has_json_ld_for_an_article_with_its_citations(demo, client):
    sky = load(demo, SKY)
    data = jsonld(text_of(get(client, f"/q/{SKY}")))
    assert data["@type"] == "Article"
    assert data["headline"] == sky.text
    assert data["url"] == f"{SITE}/q/{SKY}"
    assert data["dateModified"] == sky.checked_on.isoformat()
    assert len(data["citation"]) == len(sky.sources)
    assert [c["url"] for c in data["citation"]] == [s.url for s in sky.sources]


def test_description_leaves_no_gap_where_a_citation_was(demo, client):
    # camels-store-water.md: "A camel's hump is a store of fat, not water [1] [2]."
    description = meta(text_of(get(client, "/q/camels-store-water")), "description")
    assert "not water." in description, description


def test_json_ld_is_not_modified_before_it_was_published(demo, client):
    data = jsonld(text_of(get(client, "/q/cracking-knuckles-arthritis")))
    assert data.get("datePublished", "") <= data["dateModified"]


# --- outdated answers ----------------------------------------------------------------------

OUTDATED = "This answer may be outdated."


def test_an_answer_checked_in_2024_says_it_may_be_outdated(demo, client):
    assert load(demo, "cracking-knuckles-arthritis").checked_on.year == 2024
    page = text_of(get(client, "/q/cracking-knuckles-arthritis"))
    assert OUTDATED in page and "last checked more than 12 months ago" in page


@pytest.mark.parametrize("days_ago, outdated", [(0, False), (330, False), (400, True), (1000, True)])
def test_outdated_notice_appears_only_after_twelve_months(app, client, content_dir, days_ago, outdated):
    write(content_dir, "a.md", dated("dated", "Is this still true?", dt.date.today() - dt.timedelta(days=days_ago)))
    import_files(app, content_dir)
    assert (OUTDATED in text_of(get(client, "/q/dated"))) == outdated


# --- one section ---------------------------------------------------------------------------

def test_section_fragment_is_only_the_section_body(demo, client):
    fragment = text_of(get(client, f"/q/{SKY}/sections/1", fragment=True)).strip()
    assert fragment.startswith("<p>Sunlight looks white, but it is a blend of many colours")
    assert "<h1" not in fragment and "<nav" not in fragment and "Sunlight is a mix of colours" not in fragment
    assert '<a href="#source-3" class="cite"' in fragment


def test_section_page_has_the_heading_and_leads_back_to_the_answer(demo, client):
    page = text_of(get(client, f"/q/{SKY}/sections/1"))
    assert '<h1><span class="section-number">1.</span> Sunlight is a mix of colours</h1>' in page
    assert "<title>Sunlight is a mix of colours — Why is the sky blue? — Plumb</title>" in page
    assert (f"/q/{SKY}", "Why is the sky blue?") in links(page)
    assert "<p>Sunlight looks white" in page


def test_section_page_is_canonical_to_its_answer_at_the_site_url(demo, client):
    page = text_of(get(client, f"/q/{SKY}/sections/1"))
    assert [t["href"] for t in tags(page, "link") if t.get("rel") == "canonical"] == [f"{SITE}/q/{SKY}"]


def test_section_page_citations_lead_to_their_source(demo, client):
    page = text_of(get(client, f"/q/{SKY}/sections/1"))
    cited = [t["href"] for t in tags(page, "a") if t.get("class") == "cite"]
    assert cited
    for href in cited:
        path, anchor = href.split("#")
        target = text_of(get(client, path)) if path else page
        assert f'id="{anchor}"' in target, f"{href} points at nothing"


@pytest.mark.parametrize("url", [
    f"/q/{SKY}/sections/99",
    f"/q/{SKY}/sections/0",
    f"/q/{SKY}/sections/-1",
    f"/q/{SKY}/sections/one",
    "/q/no-such-question/sections/1",
    f"/q/{OSTRICH}/sections/1",  # unanswered: it has no sections
    f"/q/{SKY}/sections/{2**31}",  # beyond a 32-bit integer (PostgreSQL)
    f"/q/{SKY}/sections/{10**20}",  # beyond a 64-bit integer (SQLite)
])
@pytest.mark.parametrize("fragment", [False, True])
def test_a_section_that_does_not_exist_is_a_404(demo, client, url, fragment):
    response = get(client, url, fragment)
    assert response.status_code == 404
    assert ("<html" in text_of(response)) != fragment


# --- a question not answered yet -----------------------------------------------------------

def test_an_unanswered_question_says_so_and_lists_the_answers_that_link_to_it(demo, client):
    ostriches = text_of(get(client, "/q/ostriches-bury-heads"))
    assert (f"/q/{OSTRICH}", "How fast can an ostrich run?") in links(part(ostriches, '<section class="related"'))
    with demo.app_context():
        target = db.session.scalar(select(Question).where(Question.slug == OSTRICH))
        expected = sorted(db.session.scalars(
            select(Question.text).join(RelatedLink, RelatedLink.from_id == Question.id)
            .where(RelatedLink.to_id == target.id, Question.status == "answered")))
    page = text_of(get(client, f"/q/{OSTRICH}"))
    assert "<h1>How fast can an ostrich run?</h1>" in page
    assert "Not answered yet." in page
    assert "Checked on" not in page and 'class="answer-section"' not in page
    assert '<meta name="robots" content="noindex">' in page
    linked_from = part(page, '<section class="linked-from"')
    assert "Linked from" in linked_from
    assert [text for _, text in links(linked_from)] == expected
    assert "Do ostriches bury their heads in the sand?" in expected


# --- the home page -------------------------------------------------------------------------

OPEN_SCIENCE = "---\nquestion: Is this science question still open?\ncategory: science\nstatus: unanswered\n---\n"


def test_home_lists_recently_checked_answers_newest_first(demo, client):
    answered = answered_questions(demo)
    recent = part(text_of(get(client, "/")), 'id="recent-heading"')
    days = re.findall(r'<time datetime="([\d-]+)">', recent)
    assert len(days) == min(8, len(answered))
    assert days == sorted(days, reverse=True)
    assert days[0] == max(q.checked_on for q in answered).isoformat()
    newest = max(answered, key=lambda q: q.checked_on)
    assert hrefs(recent)[0] == f"/q/{newest.slug}"


def test_home_lists_categories_with_their_number_of_answers(demo, client, content_dir):
    # One more answer in science, and a science question nobody has answered: it must not count.
    write(content_dir, "extra.md", answer("extra-science", "Is this one more science answer?"))
    write(content_dir, "open.md", OPEN_SCIENCE)
    import_files(demo, content_dir)
    expected = collections.Counter(q.category.slug for q in answered_questions(demo))
    categories = part(text_of(get(client, "/")), 'id="categories-heading"')
    shown = re.findall(r'<a href="/c/([\w-]+)">[^<]+</a>\s*<small>(\d+) answers?</small>', categories)
    assert {slug: int(n) for slug, n in shown} == expected
    assert expected["science"] == 6


# --- category pages ------------------------------------------------------------------------

def test_category_lists_only_its_own_answered_questions(demo, client, content_dir):
    write(content_dir, "open.md", OPEN_SCIENCE)
    import_files(demo, content_dir)
    expected = {f"/q/{q.slug}" for q in answered_questions(demo) if q.category.slug == "science"}
    page = text_of(get(client, "/c/science"))
    assert "<h1>Science</h1>" in page
    listed = hrefs(part(page, '<section id="question-list"'))
    assert len(listed) == len(expected) and set(listed) == expected
    assert "still open" not in page


def test_category_pages_split_the_list_and_link_to_each_other(demo, client):
    demo.config["PAGE_SIZE"] = 2
    science = sorted((q for q in answered_questions(demo) if q.category.slug == "science"),
                     key=lambda q: q.checked_on, reverse=True)
    assert len(science) == 5  # three pages of two
    pages = [text_of(get(client, f"/c/science?page={n}")) for n in (1, 2, 3)]
    listed = [hrefs(part(page, '<section id="question-list"')) for page in pages]
    assert listed[0] != listed[1]
    assert sum(listed, []) == [f"/q/{q.slug}" for q in science]
    for n, page in enumerate(pages, start=1):
        rels = {t["rel"]: t for t in tags(page, "a") if t.get("rel") in ("next", "prev")}
        assert rels.get("prev", {}).get("href") == (f"/c/science?page={n - 1}" if n > 1 else None)
        assert rels.get("next", {}).get("href") == (f"/c/science?page={n + 1}" if n < 3 else None)
        assert all(t["hx-get"] == t["href"] for t in rels.values())
        assert f"page {n} of 3" in page


def test_a_category_page_as_a_fragment_is_just_the_list(demo, client):
    demo.config["PAGE_SIZE"] = 2
    fragment = text_of(get(client, "/c/science?page=2", fragment=True)).strip()
    assert fragment.startswith('<section id="question-list"') and fragment.endswith("</section>")
    assert "<h1>" not in fragment and "page 2 of 3" in fragment
    assert len(items(fragment)) == 2


@pytest.mark.parametrize("page", ["0", "abc", "-1", "", "1.5", "２"])
@pytest.mark.parametrize("fragment", [False, True])
def test_a_page_number_that_is_not_a_positive_whole_number_is_a_400(demo, client, page, fragment):
    response = get(client, "/c/science", fragment, query_string={"page": page})
    assert response.status_code == 400
    assert "The page number must be a whole number from 1 upwards." in text_of(response)
    assert ("<html" in text_of(response)) != fragment


@pytest.mark.parametrize("url, message", [
    ("/c/science?page=4", "That page is past the end of this category."),
    ("/c/no-such-category", "There is no category with that name."),
])
def test_a_page_past_the_end_or_an_unknown_category_is_a_404(demo, client, url, message):
    demo.config["PAGE_SIZE"] = 2
    response = get(client, url)
    assert response.status_code == 404
    assert message in text_of(response) and "<html" in text_of(response)


# --- Markdown from a content file is shown safely ------------------------------------------

UNSAFE = """\
---
question: Is this answer safe to show?
slug: unsafe-markup
category: science
checked_on: 2025-11-08
sources:
  - title: 'Tricky" onmouseover="alert(1)'
    url: https://example.org/tricky
    publisher: <b>Bold</b> Press
---
A summary <script>alert(1)</script> with a citation [1].

<img src=x onerror=alert(1)>

## A section <script>alert(2)</script>
A link <a href="javascript:alert(1)">x</a>, code `[1]` and a citation [1].

<div hx-get="/evil" hx-trigger="load">gone</div>
"""


@pytest.mark.parametrize("url", ["/q/unsafe-markup", "/q/unsafe-markup/sections/1"])
@pytest.mark.parametrize("fragment", [False, True])
def test_raw_html_in_an_answer_file_is_never_rendered(app, client, content_dir, url, fragment):
    write(content_dir, "unsafe.md", UNSAFE)
    import_files(app, content_dir)
    response = get(client, url, fragment)
    page = text_of(response)
    assert response.status_code == 200
    for bad in ("<script>alert", "onerror", "javascript:", "/evil", 'onmouseover="', "<b>Bold</b>"):
        assert bad not in page, f"{bad!r} reached the page"
    cites = [t for t in tags(page, "a") if t.get("class") == "cite"]
    assert cites and cites[0]["href"] == "#source-1"
    assert cites[0]["data-tooltip"] == 'Tricky" onmouseover="alert(1) — <b>Bold</b> Press'  # as text
    assert "<code>[1]</code>" in page  # `[1]` in code is not a citation


def test_an_answer_from_a_file_with_raw_html_keeps_its_words(app, client, content_dir):
    write(content_dir, "unsafe.md", UNSAFE)
    import_files(app, content_dir)
    page = text_of(get(client, "/q/unsafe-markup"))
    assert re.search(r"<p>A summary\s+with a citation <a href=\"#source-1\"", page)
    assert "gone" in page  # the words of a dropped tag stay, the tag does not
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page  # a heading is text
    assert "<script>" not in meta(page, "description")


# --- methods -------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/", f"/q/{SKY}", f"/q/{SKY}/sections/1", "/c/science", "/q/no-such-question"])
@pytest.mark.parametrize("fragment", [False, True])
def test_post_is_not_allowed_and_says_so(demo, client, url, fragment):
    response = client.post(url, headers=HTMX if fragment else {}, data={"x": "1"})
    assert response.status_code == 405
    assert "That action is not allowed here" in text_of(response)
    assert ("<html" in text_of(response)) != fragment


def test_a_405_names_the_allowed_methods(demo, client):
    response = client.post(f"/q/{SKY}")
    assert {"GET", "HEAD"} <= {m.strip() for m in response.headers.get("Allow", "").split(",")}
    assert "POST" not in response.headers["Allow"]


# --- "12 months" is calendar months --------------------------------------------------------

@pytest.mark.parametrize("today, checked, outdated", [
    (dt.date(2026, 11, 25), dt.date(2025, 11, 25), False),  # exactly 12 months: not yet
    (dt.date(2026, 11, 25), dt.date(2025, 11, 24), True),
    (dt.date(2024, 2, 29), dt.date(2023, 2, 28), False),    # leap day: a year back is 28 Feb
    (dt.date(2024, 2, 29), dt.date(2023, 2, 27), True),
    (dt.date(2025, 3, 1), dt.date(2024, 3, 1), False),      # across a leap year, still a calendar year
])
def test_outdated_means_checked_more_than_12_calendar_months_ago(today, checked, outdated):
    from webapp.answers.service import is_outdated

    class Checked:
        checked_on = checked

    assert is_outdated(Checked, today, 12) is outdated
