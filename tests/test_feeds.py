"""Feeds and crawlers: the Atom feeds of answers (site-wide and per category) and of
corrections, sitemap.xml (and its index past one page), robots.txt, and the feed links in
every page's head.

Feeds are checked against a RELAX NG grammar of Atom written here from RFC 4287 (section
4 and the informative grammar of its Appendix B; extension elements left out, since
ours carry none) plus the rules that grammar cannot say (RFC 4287's own Schematron
rules and section 4.1.1's "self" link). Sitemaps are checked against an XML Schema written
here from the sitemaps.org protocol (urlset and sitemapindex, 0.9) plus its rules in
words: at most 50,000 URLs a file, absolute URLs on the site's own host, W3C dates."""
from __future__ import annotations

import datetime as dt
import gzip
import re
import urllib.robotparser
from urllib.parse import urlsplit

import pytest
from lxml import etree, html as lxml_html
from sqlalchemy import delete, select, update

from tests.answer_files import answer, write
from tests.apps import statements_sent
from tests.pages import get, tags, text_of
from tests.readers import make_user, sign_in
from webapp.answers.models import ANSWERED, Category, Question
from webapp.content.importer import import_folder
from webapp.desk import editing
from webapp.extensions import db
from webapp.feeds import crawlers, routes as feed_routes
from webapp.revisions import service as revisions
from webapp.revisions.models import CORRECTION, Revision

SITE = "https://plumb.example"
ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
NS = {"a": ATOM, "s": SITEMAP}
FEEDS = ["/feeds/answers.atom", "/feeds/c/science.atom", "/feeds/corrections.atom"]
CRAWLER_FILES = ["/sitemap.xml", "/robots.txt"]

# --- the schemas ---------------------------------------------------------------------------------

ATOM_RNG = """\
<grammar xmlns="http://relaxng.org/ns/structure/1.0" ns="http://www.w3.org/2005/Atom"
         datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">
  <start><choice><ref name="feed"/><ref name="entry"/></choice></start>

  <define name="common">
    <optional><attribute name="xml:base"><data type="anyURI"/></attribute></optional>
    <optional><attribute name="xml:lang"><ref name="languageTag"/></attribute></optional>
  </define>
  <define name="languageTag">
    <data type="string"><param name="pattern">[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*</param></data>
  </define>
  <define name="mediaType"><data type="string"><param name="pattern">.+/.+</param></data></define>
  <define name="uriValue"><ref name="common"/><data type="anyURI"/></define>
  <define name="dateValue"><ref name="common"/><data type="dateTime"/></define>
  <define name="textConstruct">
    <ref name="common"/>
    <choice>
      <group>
        <optional><attribute name="type"><choice><value>text</value><value>html</value></choice></attribute></optional>
        <text/>
      </group>
      <group>
        <attribute name="type"><value>xhtml</value></attribute>
        <element name="div" ns="http://www.w3.org/1999/xhtml"><ref name="anyXhtml"/></element>
      </group>
    </choice>
  </define>
  <define name="anyXhtml">
    <zeroOrMore><choice>
      <attribute><anyName/></attribute>
      <text/>
      <element><nsName ns="http://www.w3.org/1999/xhtml"/><ref name="anyXhtml"/></element>
    </choice></zeroOrMore>
  </define>
  <define name="person">
    <ref name="common"/>
    <interleave>
      <element name="name"><text/></element>
      <optional><element name="uri"><data type="anyURI"/></element></optional>
      <optional><element name="email"><data type="string"><param name="pattern">.+@.+</param></data></element></optional>
    </interleave>
  </define>
  <define name="author"><element name="author"><ref name="person"/></element></define>
  <define name="contributor"><element name="contributor"><ref name="person"/></element></define>
  <define name="category">
    <element name="category">
      <ref name="common"/>
      <attribute name="term"/>
      <optional><attribute name="scheme"><data type="anyURI"/></attribute></optional>
      <optional><attribute name="label"/></optional>
      <empty/>
    </element>
  </define>
  <define name="link">
    <element name="link">
      <ref name="common"/>
      <attribute name="href"><data type="anyURI"/></attribute>
      <optional><attribute name="rel"/></optional>
      <optional><attribute name="type"><ref name="mediaType"/></attribute></optional>
      <optional><attribute name="hreflang"><ref name="languageTag"/></attribute></optional>
      <optional><attribute name="title"/></optional>
      <optional><attribute name="length"/></optional>
      <empty/>
    </element>
  </define>
  <define name="content">
    <element name="content">
      <ref name="common"/>
      <choice>
        <group>
          <optional><attribute name="type"><choice><value>text</value><value>html</value></choice></attribute></optional>
          <text/>
        </group>
        <group>
          <attribute name="type"><value>xhtml</value></attribute>
          <element name="div" ns="http://www.w3.org/1999/xhtml"><ref name="anyXhtml"/></element>
        </group>
        <group>
          <optional><attribute name="type"><ref name="mediaType"/></attribute></optional>
          <attribute name="src"><data type="anyURI"/></attribute>
          <empty/>
        </group>
      </choice>
    </element>
  </define>

  <define name="feed">
    <element name="feed">
      <ref name="common"/>
      <interleave>
        <zeroOrMore><ref name="author"/></zeroOrMore>
        <zeroOrMore><ref name="category"/></zeroOrMore>
        <zeroOrMore><ref name="contributor"/></zeroOrMore>
        <optional>
          <element name="generator">
            <ref name="common"/>
            <optional><attribute name="uri"><data type="anyURI"/></attribute></optional>
            <optional><attribute name="version"/></optional>
            <text/>
          </element>
        </optional>
        <optional><element name="icon"><ref name="uriValue"/></element></optional>
        <element name="id"><ref name="uriValue"/></element>
        <zeroOrMore><ref name="link"/></zeroOrMore>
        <optional><element name="logo"><ref name="uriValue"/></element></optional>
        <optional><element name="rights"><ref name="textConstruct"/></element></optional>
        <optional><element name="subtitle"><ref name="textConstruct"/></element></optional>
        <element name="title"><ref name="textConstruct"/></element>
        <element name="updated"><ref name="dateValue"/></element>
      </interleave>
      <zeroOrMore><ref name="entry"/></zeroOrMore>
    </element>
  </define>

  <define name="entry">
    <element name="entry">
      <ref name="common"/>
      <interleave>
        <zeroOrMore><ref name="author"/></zeroOrMore>
        <zeroOrMore><ref name="category"/></zeroOrMore>
        <optional><ref name="content"/></optional>
        <zeroOrMore><ref name="contributor"/></zeroOrMore>
        <element name="id"><ref name="uriValue"/></element>
        <zeroOrMore><ref name="link"/></zeroOrMore>
        <optional><element name="published"><ref name="dateValue"/></element></optional>
        <optional><element name="rights"><ref name="textConstruct"/></element></optional>
        <optional><element name="summary"><ref name="textConstruct"/></element></optional>
        <element name="title"><ref name="textConstruct"/></element>
        <element name="updated"><ref name="dateValue"/></element>
      </interleave>
    </element>
  </define>
</grammar>
"""

SITEMAP_XSD = """\
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9"
           targetNamespace="http://www.sitemaps.org/schemas/sitemap/0.9" elementFormDefault="qualified">
  <xs:element name="urlset">
    <xs:complexType><xs:sequence>
      <xs:element name="url" type="sm:tUrl" maxOccurs="unbounded"/>
    </xs:sequence></xs:complexType>
  </xs:element>
  <xs:element name="sitemapindex">
    <xs:complexType><xs:sequence>
      <xs:element name="sitemap" type="sm:tSitemap" maxOccurs="unbounded"/>
    </xs:sequence></xs:complexType>
  </xs:element>
  <xs:complexType name="tUrl"><xs:sequence>
    <xs:element name="loc" type="sm:tLoc"/>
    <xs:element name="lastmod" type="sm:tLastmod" minOccurs="0"/>
    <xs:element name="changefreq" type="sm:tChangeFreq" minOccurs="0"/>
    <xs:element name="priority" type="sm:tPriority" minOccurs="0"/>
  </xs:sequence></xs:complexType>
  <xs:complexType name="tSitemap"><xs:sequence>
    <xs:element name="loc" type="sm:tLoc"/>
    <xs:element name="lastmod" type="sm:tLastmod" minOccurs="0"/>
  </xs:sequence></xs:complexType>
  <xs:simpleType name="tLoc">
    <xs:restriction base="xs:anyURI"><xs:minLength value="12"/><xs:maxLength value="2048"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="tLastmod"><xs:union memberTypes="xs:date xs:dateTime"/></xs:simpleType>
  <xs:simpleType name="tChangeFreq">
    <xs:restriction base="xs:string">
      <xs:enumeration value="always"/><xs:enumeration value="hourly"/><xs:enumeration value="daily"/>
      <xs:enumeration value="weekly"/><xs:enumeration value="monthly"/><xs:enumeration value="yearly"/>
      <xs:enumeration value="never"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="tPriority">
    <xs:restriction base="xs:decimal"><xs:minInclusive value="0.0"/><xs:maxInclusive value="1.0"/></xs:restriction>
  </xs:simpleType>
</xs:schema>
"""

ATOM_SCHEMA = etree.RelaxNG(etree.fromstring(ATOM_RNG.encode()))
SITEMAP_SCHEMA = etree.XMLSchema(etree.fromstring(SITEMAP_XSD.encode()))
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
W3C_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- helpers -----------------------------------------------------------------------------------------

def parse_atom(response) -> etree._Element:
    """The feed, parsed and validated: the grammar, then what RFC 4287 says in words."""
    assert response.status_code == 200, text_of(response)[:300]
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = etree.fromstring(response.data)
    assert ATOM_SCHEMA.validate(root), ATOM_SCHEMA.error_log
    assert root.tag == f"{{{ATOM}}}feed"
    links = root.findall("a:link", NS)
    assert [link.get("href") for link in links if link.get("rel") == "self"] == [SITE + request_path(response)]
    alternates = [(link.get("type"), link.get("hreflang")) for link in links if link.get("rel", "alternate") == "alternate"]
    assert len(alternates) == len(set(alternates))  # at most one alternate per type and language (4.1.1)
    assert root.find("a:author/a:name", NS).text  # so no entry needs an author of its own
    for date in root.iter(f"{{{ATOM}}}updated", f"{{{ATOM}}}published"):
        assert RFC3339.match(date.text), date.text
    ids = [root.findtext("a:id", namespaces=NS)] + [e.findtext("a:id", namespaces=NS) for e in entries(root)]
    assert len(ids) == len(set(ids))
    for value in ids:
        assert urlsplit(value).scheme in ("https", "tag"), value  # absolute IRIs (4.2.6)
    for entry in entries(root):
        alternate = [link for link in entry.findall("a:link", NS) if link.get("rel", "alternate") == "alternate"]
        assert alternate or entry.find("a:content", NS) is not None  # RFC 4287's Schematron rule
        for link in entry.findall("a:link", NS):
            assert link.get("href").startswith(SITE + "/")
    return root


def request_path(response) -> str:
    return urlsplit(response.request.url).path


def entries(root) -> list:
    return root.findall("a:entry", NS)


def titles(root) -> list[str]:
    return [entry.findtext("a:title", namespaces=NS) for entry in entries(root)]


def updated(element) -> dt.datetime:
    return dt.datetime.fromisoformat(element.findtext("a:updated", namespaces=NS))


def alternate(entry) -> str:
    """An entry's link to its page (a link without rel is rel="alternate", RFC 4287 4.2.7.2)."""
    [link] = [link for link in entry.findall("a:link", NS) if link.get("rel", "alternate") == "alternate"]
    return link.get("href")


def entry_links(root) -> list[str]:
    return [alternate(entry) for entry in entries(root)]


def content_html(entry):
    return lxml_html.fragment_fromstring(entry.findtext("a:content", namespaces=NS), create_parent="div")


def parse_sitemap(response, root_name: str = "urlset", max_urls: int = crawlers.MAX_URLS, site: str = SITE):
    """A sitemap file, parsed and validated: the schema, then the protocol's rules in words."""
    assert response.status_code == 200, text_of(response)[:300]
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    data = gzip.decompress(response.data) if response.headers.get("Content-Encoding") == "gzip" else response.data
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = etree.fromstring(data)
    assert SITEMAP_SCHEMA.validate(root), SITEMAP_SCHEMA.error_log
    assert root.tag == f"{{{SITEMAP}}}{root_name}"
    assert len(root) <= max_urls
    site = urlsplit(site)
    for loc in root.iterfind("*/s:loc", NS):
        parts = urlsplit(loc.text)
        assert (parts.scheme, parts.netloc) == (site.scheme, site.netloc), loc.text
        assert parts.path.startswith(site.path)
    for lastmod in root.iterfind("*/s:lastmod", NS):
        assert W3C_DATE.match(lastmod.text), lastmod.text
    return root


def urls(root) -> dict[str, str | None]:
    return {item.findtext("s:loc", namespaces=NS): item.findtext("s:lastmod", namespaces=NS) for item in root}


def answered(app) -> dict[str, dt.date]:
    with app.app_context():
        return dict(db.session.execute(select(Question.slug, Question.checked_on).where(Question.status == ANSWERED)).all())


def question_id(app, slug: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Question.id).where(Question.slug == slug))


def recheck(app, slug: str) -> None:
    """"Mark as re-checked" from the desk, by an editor."""
    editor = make_user(app, email=f"editor-{slug}-{dt.datetime.now().timestamp()}@example.org", editor=True)
    with app.app_context():
        question = db.session.scalar(select(Question).where(Question.slug == slug))
        outcome = editing.recheck(db.session, question, base=revisions.latest_number(db.session, question.id),
                                  note="Sources checked again", editor_id=editor)
        assert isinstance(outcome, editing.Saved), outcome


def correct(app, slug: str, note: str, when: dt.datetime | None = None) -> None:
    """A correction saved as the desk saves one."""
    with app.app_context():
        question = db.session.scalar(select(Question).where(Question.slug == slug))
        question.summary = question.summary + " Corrected [1]."
        revisions.record(db.session, question, CORRECTION, note, None, now=when)
        db.session.commit()


def set_question(app, which: str, **values) -> None:
    """Change question `which` (a slug) directly, as an edit would."""
    with app.app_context():
        question = db.session.scalar(select(Question).where(Question.slug == which))
        for name, value in values.items():
            setattr(question, name, value)
        db.session.commit()


# --- the feeds -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", FEEDS)
def test_each_feed_is_valid_atom(demo, client, url):
    correct(demo, "why-is-the-sky-blue", "The wavelength was wrong")
    root = parse_atom(client.get(url))
    assert entries(root)
    assert root.findtext("a:title", namespaces=NS).startswith("Plumb: ")


@pytest.mark.parametrize("url", FEEDS)
def test_an_empty_feed_is_valid_atom_too(app, client, url):
    with app.app_context():
        db.session.add(Category(slug="science", name="Science"))
        db.session.commit()
    root = parse_atom(client.get(url))
    assert entries(root) == []


def test_the_site_feed_lists_answered_questions_newest_first_and_no_more_than_its_size(demo, client):
    demo.config["FEED_SIZE"] = 7
    root = parse_atom(client.get("/feeds/answers.atom"))
    assert len(entries(root)) == 7
    times = [updated(entry) for entry in entries(root)]
    assert times == sorted(times, reverse=True)
    assert updated(root) == times[0]
    slugs = answered(demo)
    for link in entry_links(root):
        assert link.startswith(f"{SITE}/q/") and link.removeprefix(f"{SITE}/q/") in slugs  # never an unanswered one


@pytest.mark.parametrize("size", [1, 3])
def test_answers_without_revisions_come_by_checked_on_passing_over_questions_no_longer_answered(demo, client, size):
    with demo.app_context():
        db.session.execute(delete(Revision))  # as answers imported before revisions were kept
        newest = db.session.execute(select(Question.slug, Question.text).where(Question.status == ANSWERED)
                                    .order_by(Question.checked_on.desc(), Question.id.desc())).all()
        for slug, _text in newest[:5]:  # unanswered again, "Checked on" kept: more than a first read holds
            db.session.execute(update(Question).where(Question.slug == slug).values(status="unanswered"))
        db.session.commit()
    demo.config["FEED_SIZE"] = size
    root = parse_atom(client.get("/feeds/answers.atom"))
    assert titles(root) == [text for _slug, text in newest[5:5 + size]]


def test_entries_carry_the_question_its_summary_as_html_and_when_it_was_checked(demo, client):
    root = parse_atom(client.get("/feeds/answers.atom"))
    entry = next(e for e in entries(root) if e.findtext("a:title", namespaces=NS) == "Why is the sky blue?")
    assert alternate(entry) == f"{SITE}/q/why-is-the-sky-blue"
    assert entry.find("a:content", NS).get("type") == "html"
    body = content_html(entry)
    assert "scatter" in body.text_content() and "Checked on " in body.text_content()
    hrefs = [a.get("href") for a in body.iter("a")]
    # Citations lead to the answer's sources, not to a fragment of the feed.
    assert f"{SITE}/q/why-is-the-sky-blue#source-1" in hrefs and all(h.startswith(SITE) for h in hrefs)
    assert entry.find("a:category", NS).attrib == {"term": "science", "label": "Science"}


def test_entry_ids_stay_the_same_across_requests_and_when_an_answer_is_renamed(demo, client):
    first = parse_atom(client.get("/feeds/answers.atom"))
    again = parse_atom(client.get("/feeds/answers.atom"))
    ids = {e.findtext("a:title", namespaces=NS): e.findtext("a:id", namespaces=NS) for e in entries(first)}
    assert ids == {e.findtext("a:title", namespaces=NS): e.findtext("a:id", namespaces=NS) for e in entries(again)}
    assert all(value.startswith("tag:plumb.example,") for value in ids.values())
    set_question(demo, "why-is-the-sky-blue", slug="sky-blue")
    renamed = parse_atom(client.get("/feeds/answers.atom"))
    entry = next(e for e in entries(renamed) if e.findtext("a:title", namespaces=NS) == "Why is the sky blue?")
    assert entry.findtext("a:id", namespaces=NS) == ids["Why is the sky blue?"]
    assert alternate(entry) == f"{SITE}/q/sky-blue"


def test_a_recheck_moves_an_answer_to_the_top_of_the_site_and_category_feeds(demo, client):
    demo.config["FEED_SIZE"] = 5
    before = parse_atom(client.get("/feeds/answers.atom"))
    before_category = parse_atom(client.get("/feeds/c/animals.atom"))
    with demo.app_context():
        candidates = db.session.execute(select(Question.slug, Question.text).join(Category)
                                        .where(Question.status == ANSWERED, Category.slug == "animals")).all()
    slug, text = next((s, t) for s, t in candidates if t not in titles(before) and t != titles(before_category)[0])
    recheck(demo, slug)
    after = parse_atom(client.get("/feeds/answers.atom"))
    assert titles(after)[0] == text and len(entries(after)) == 5
    assert updated(entries(after)[0]) > updated(entries(before)[0])
    assert titles(after)[1:] == titles(before)[:4]  # the others keep their order, one place down
    assert titles(parse_atom(client.get("/feeds/c/animals.atom")))[0] == text


def test_a_correction_appears_in_the_corrections_feed_newest_first_with_its_note_escaped(demo, client):
    assert entries(parse_atom(client.get("/feeds/corrections.atom"))) == []
    correct(demo, "bats-are-blind", "Bats can see <script>alert(1)</script> & hear", dt.datetime(2026, 1, 5, 12))
    correct(demo, "why-is-the-sky-blue", "The wavelength was wrong")
    root = parse_atom(client.get("/feeds/corrections.atom"))
    assert titles(root) == ["Corrected: Why is the sky blue?", "Corrected: Are bats blind?"]
    older = entries(root)[1]
    assert updated(older) == dt.datetime(2026, 1, 5, 12, tzinfo=dt.timezone.utc)
    body = content_html(older)
    assert "Bats can see <script>alert(1)</script> & hear" in body.text_content()  # shown as text
    assert not list(body.iter("script"))
    changes = [a.get("href") for a in body.iter("a")]
    assert changes[0].startswith(f"{SITE}/q/bats-are-blind/history/diff?from=") and changes[1] == f"{SITE}/q/bats-are-blind"
    # The corrected answer moves up the answers' feed as well.
    assert titles(parse_atom(client.get("/feeds/answers.atom")))[0] == "Why is the sky blue?"


def test_titles_and_content_are_escaped_and_characters_xml_cannot_carry_are_dropped(demo, client):
    set_question(demo, "why-is-the-sky-blue", text='Is <b>blue</b> & "bright"\x0b the sky?',
                 summary="Yes <script>alert(1)</script> <img src=x onerror=alert(1)> [1].\x1f")
    root = parse_atom(client.get("/feeds/answers.atom"))
    entry = next(e for e in entries(root) if alternate(e).endswith("/why-is-the-sky-blue"))
    assert entry.findtext("a:title", namespaces=NS) == 'Is <b>blue</b> & "bright" the sky?'
    body = content_html(entry)
    assert not list(body.iter("script")) and not list(body.iter("img"))


def test_a_category_feed_holds_only_that_category_and_links_to_its_page(demo, client):
    root = parse_atom(client.get("/feeds/c/health.atom"))
    assert root.findtext("a:title", namespaces=NS) == "Plumb: Health: new and re-checked answers"
    assert [link.get("href") for link in root.findall("a:link[@rel='alternate']", NS)] == [f"{SITE}/c/health"]
    with demo.app_context():
        health = set(db.session.scalars(select(Question.slug).join(Category).where(Category.slug == "health",
                                                                                   Question.status == ANSWERED)))
    assert {link.removeprefix(f"{SITE}/q/") for link in entry_links(root)} == health
    assert {e.find("a:category", NS).get("term") for e in entries(root)} == {"health"}


@pytest.mark.parametrize("url", ["/feeds/c/no-such-category.atom", "/feeds/c/Science.atom", "/feeds/c/.atom",
                                 "/feeds/c/science.rss", "/feeds/nothing.atom", "/sitemaps/0.xml", "/sitemaps/2.xml",
                                 "/sitemaps/99999999999999999999.xml", "/sitemaps/one.xml"])
def test_unknown_feeds_and_sitemap_pages_are_404(demo, client, url):
    assert client.get(url).status_code == 404


def test_feeds_answer_304_to_the_etag_they_gave_until_content_changes(demo, client):
    first = client.get("/feeds/answers.atom")
    etag = first.headers["ETag"]
    again = client.get("/feeds/answers.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    # The same body as Flask-Compress marked it for a brotli copy is still ours.
    compressed = client.get("/feeds/answers.atom", headers={"If-None-Match": f'"{first.get_etag()[0]}:br"'})
    assert compressed.status_code == 304
    since = client.get("/feeds/answers.atom", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    recheck(demo, "bats-are-blind")
    changed = client.get("/feeds/answers.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_recheck_on_the_day_it_was_checked_still_gives_the_feed_a_new_etag(demo, client):
    set_question(demo, "bats-are-blind", checked_on=dt.date.today())
    etag = client.get("/feeds/answers.atom").headers["ETag"]
    recheck(demo, "bats-are-blind")  # no question row changes: only a revision is added
    assert client.get("/feeds/answers.atom", headers={"If-None-Match": etag}).status_code == 200


@pytest.mark.parametrize("url", FEEDS + CRAWLER_FILES)
def test_feeds_and_crawler_files_are_public_set_no_cookie_and_do_not_vary_on_one(demo, client, url):
    anonymous = client.get(url)
    assert anonymous.status_code == 200
    assert "Set-Cookie" not in anonymous.headers
    vary = {value.strip().lower() for value in anonymous.headers.get("Vary", "").split(",")}
    assert "cookie" not in vary
    control = anonymous.headers["Cache-Control"]
    assert "public" in control and "max-age=" in control and "private" not in control
    assert anonymous.headers["ETag"]
    reader = demo.test_client()
    sign_in(demo, reader)
    signed_in = reader.get(url)
    assert "Set-Cookie" not in signed_in.headers
    assert signed_in.data == anonymous.data and signed_in.headers["ETag"] == anonymous.headers["ETag"]


def test_feed_queries_are_bounded_whatever_the_feed_size(demo, client):
    client.get("/robots.txt")  # the first request's start-up checks, out of the way
    counts = {}
    for size in (3, 30):
        demo.config["FEED_SIZE"] = size  # a new size is a new cache key: every feed is drawn again
        with statements_sent(demo) as seen:
            for url in ("/feeds/answers.atom", "/feeds/c/science.atom", "/feeds/corrections.atom"):
                assert client.get(url).status_code == 200
        reads = [s for s in seen if s.lstrip().upper().startswith("SELECT")
                 and re.search(r"\b(question|revision)\b", s, re.I)]
        for statement in reads:
            one_row = re.search(r"max\(revision\.id\)", statement, re.I)
            assert re.search(r"\bLIMIT\b", statement) or " IN (" in statement or one_row, statement
        counts[size] = len(seen)
    assert counts[3] == counts[30]  # no query per entry


# --- the sitemap ---------------------------------------------------------------------------------

def test_the_sitemap_lists_every_answered_question_with_checked_on_and_the_site_pages(demo, client):
    root = parse_sitemap(client.get("/sitemap.xml"))
    listed = urls(root)
    slugs = answered(demo)
    assert {f"{SITE}/q/{slug}": day.isoformat() for slug, day in slugs.items()}.items() <= listed.items()
    assert listed[f"{SITE}/"] == max(slugs.values()).isoformat()
    for page in ("/about", "/corrections", "/c/science", "/c/animals"):
        assert f"{SITE}{page}" in listed
    assert len(listed) == len(slugs) + 3 + 6  # home, about, corrections and the six categories; nothing else
    with demo.app_context():
        unanswered = db.session.scalars(select(Question.slug).where(Question.status != ANSWERED)).all()
    assert unanswered and not any(f"{SITE}/q/{slug}" in listed for slug in unanswered)


def test_the_sitemap_splits_into_an_index_past_its_page_size(demo, client, monkeypatch):
    demo.config["SITEMAP_PAGE_SIZE"] = 7
    monkeypatch.setattr(feed_routes, "SITEMAP_BATCH", 3)  # pages read in several batches
    index = parse_sitemap(client.get("/sitemap.xml"), "sitemapindex")
    pages = [loc.text for loc in index.iterfind("s:sitemap/s:loc", NS)]
    total = len(answered(demo)) + 3 + 6
    assert pages == [f"{SITE}/sitemaps/{n}.xml" for n in range(1, -(-total // 7) + 1)]
    found: dict[str, str | None] = {}
    for page in pages:
        root = parse_sitemap(client.get(page.removeprefix(SITE)), max_urls=7)
        assert len(root) == 7 or page == pages[-1]
        assert not found.keys() & urls(root).keys()  # no URL on two pages
        found.update(urls(root))
    demo.config["SITEMAP_PAGE_SIZE"] = 10_000
    assert found == urls(parse_sitemap(client.get("/sitemap.xml")))  # the same list, cut in pages
    assert client.get(f"/sitemaps/{len(pages) + 1}.xml").status_code == 404


def test_a_sitemap_page_size_past_the_protocol_limit_is_held_to_50000(demo, client):
    demo.config["SITEMAP_PAGE_SIZE"] = 10**9
    root = parse_sitemap(client.get("/sitemap.xml"))
    assert len(root) == len(answered(demo)) + 9
    assert crawlers.page(2, 50_000, [("x", None)], 60_000) == crawlers.Page([], 49_999, 10_001)
    assert crawlers.page_count(100_001, 50_000) == 3


def test_sitemap_urls_are_escaped_and_come_from_site_url_not_the_host_asked(demo, client):
    demo.config["SITE_URL"] = "https://plumb.example/a&b"
    response = client.get("/sitemap.xml", headers={"Host": "evil.example"})
    assert b"&amp;b/q/" in response.data
    listed = urls(parse_sitemap(response, site="https://plumb.example/a&b"))
    assert "https://plumb.example/a&b/q/bats-are-blind" in listed
    assert all("evil.example" not in url for url in listed)
    robots = client.get("/robots.txt", headers={"Host": "evil.example"})
    assert "Sitemap: https://plumb.example/a&b/sitemap.xml" in text_of(robots)
    feed = client.get("/feeds/answers.atom", headers={"Host": "evil.example"})
    assert b"evil.example" not in feed.data


def test_the_sitemap_is_gzipped_for_clients_that_take_it_and_answers_304_to_its_etag(demo, client):
    plain = client.get("/sitemap.xml")
    packed = client.get("/sitemap.xml", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip" and "accept-encoding" in packed.headers["Vary"].lower()
    assert gzip.decompress(packed.data) == plain.data
    assert packed.headers["ETag"] != plain.headers["ETag"]
    for response, headers in ((plain, {}), (packed, {"Accept-Encoding": "gzip"})):
        again = client.get("/sitemap.xml", headers={"If-None-Match": response.headers["ETag"], **headers})
        assert again.status_code == 304 and again.data == b""
    set_question(demo, "bats-are-blind", checked_on=dt.date(2026, 2, 3))
    changed = client.get("/sitemap.xml", headers={"If-None-Match": plain.headers["ETag"]})
    assert changed.status_code == 200 and urls(parse_sitemap(changed))[f"{SITE}/q/bats-are-blind"] == "2026-02-03"


def test_an_empty_site_has_a_valid_sitemap_of_its_own_pages(app, client):
    listed = urls(parse_sitemap(client.get("/sitemap.xml")))
    assert listed == {f"{SITE}/": None, f"{SITE}/about": None, f"{SITE}/corrections": None}


# --- robots.txt ----------------------------------------------------------------------------------------

def test_robots_txt_allows_the_answers_keeps_out_private_pages_and_names_the_sitemap(demo, client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/plain; charset=utf-8"
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(text_of(response).splitlines())
    assert parser.site_maps() == [f"{SITE}/sitemap.xml"]
    for path in ("/", "/q/bats-are-blind", "/c/science", "/about", "/corrections", "/explore", "/requests",
                 "/support", "/feeds/answers.atom", "/q/bats-are-blind/history", "/sitemaps/1.xml"):
        assert parser.can_fetch("Googlebot", f"{SITE}{path}"), path
    for path in ("/desk/", "/desk/q/bats-are-blind/edit", "/account", "/login", "/register", "/ask", "/ask/3",
                 "/support/thanks", "/support/mine", "/search?q=x", "/metrics"):
        assert not parser.can_fetch("Googlebot", f"{SITE}{path}"), path
    text = text_of(response)
    assert "Disallow: /q/*/history/diff" in text and "Disallow: /q/*/report" in text


def test_every_path_robots_txt_keeps_out_is_one_the_site_has(demo):
    rules = [rule.rule for rule in demo.url_map.iter_rules()]
    for path in crawlers.DISALLOW:
        pattern = re.escape(path).replace(r"\*", "[^/]+")
        assert any(re.match(pattern, re.sub(r"<[^>]+>", "x", rule)) for rule in rules), path


# --- links in page heads -------------------------------------------------------------------------------

def feed_links(page: str) -> list[dict[str, str]]:
    head = page.split("</head>")[0]
    return [t for t in tags(head, "link") if t.get("rel") == "alternate" and t.get("type") == "application/atom+xml"]


@pytest.mark.parametrize("url", ["/", "/about", "/q/bats-are-blind", "/corrections", "/search?q=bats", "/login",
                                 "/q/no-such-question"])
def test_every_page_links_the_site_feed_in_its_head(demo, client, url):
    links = feed_links(text_of(client.get(url)))
    assert {"href": "/feeds/answers.atom", "title": "Plumb: new and re-checked answers"}.items() <= links[-1].items()
    assert client.get(links[-1]["href"]).status_code == 200


def test_a_category_page_also_links_its_own_feed(demo, client):
    links = feed_links(text_of(client.get("/c/science")))
    assert [(link["href"], link["title"]) for link in links] == [
        ("/feeds/c/science.atom", "Plumb: Science"), ("/feeds/answers.atom", "Plumb: new and re-checked answers")]
    parse_atom(client.get(links[0]["href"]))
    fragment = text_of(get(client, "/c/science?page=2", fragment=True))
    assert "<link" not in fragment  # the htmx fragment is still only the list


def test_answers_imported_from_files_show_up_in_the_feeds_and_the_sitemap(app, client, content_dir):
    write(content_dir, "tides.md", answer("tides", "What makes the tides?", category="science"))
    with app.app_context():
        report = import_folder(db.session, content_dir)
        assert not report.rejected
    assert titles(parse_atom(client.get("/feeds/answers.atom"))) == ["What makes the tides?"]
    assert titles(parse_atom(client.get("/feeds/c/science.atom"))) == ["What makes the tides?"]
    assert urls(parse_sitemap(client.get("/sitemap.xml")))[f"{SITE}/q/tides"] == "2025-01-02"


# --- the schemas themselves ------------------------------------------------------------------------------

def test_the_schemas_here_refuse_what_atom_and_the_sitemap_protocol_forbid():
    feed = (f'<feed xmlns="{ATOM}"><id>tag:x.example,2025:f</id><title>T</title>'
            "<updated>2025-01-02T03:04:05+00:00</updated>{extra}</feed>")
    entry = "<entry><id>tag:x.example,2025:e</id><title>E</title>{extra}</entry>"
    assert ATOM_SCHEMA.validate(etree.fromstring(feed.format(extra="")))
    for broken in (feed.replace("<id>tag:x.example,2025:f</id>", ""),  # no id
                   feed.format(extra="<title>Again</title>"),  # two titles
                   feed.replace("2025-01-02T03:04:05+00:00", "2 January 2025"),  # not a date
                   feed.format(extra=entry.format(extra=""))):  # an entry without updated
        assert not ATOM_SCHEMA.validate(etree.fromstring(broken.format(extra=""))), broken
    urlset = f'<urlset xmlns="{SITEMAP}"><url><loc>https://x.example/q/a</loc>{{extra}}</url></urlset>'
    assert SITEMAP_SCHEMA.validate(etree.fromstring(urlset.format(extra="<lastmod>2025-01-02</lastmod>")))
    for broken in (urlset.format(extra="<lastmod>2 January 2025</lastmod>"),
                   urlset.format(extra="<priority>2</priority>"),
                   f'<urlset xmlns="{SITEMAP}"></urlset>',  # a file with no URL
                   urlset.replace(SITEMAP, "http://www.google.com/schemas/sitemap/0.84").format(extra="")):
        assert not SITEMAP_SCHEMA.validate(etree.fromstring(broken)), broken
