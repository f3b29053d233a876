"""Reading pages in route tests: fetch as page or fragment, cut out a part, read a tag,
a form's fields and its CSRF token."""
from __future__ import annotations

import html
import re

HTMX = {"HX-Request": "true"}
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def get(client, url, fragment=False, **kwargs):
    return client.get(url, headers=HTMX if fragment else {}, **kwargs)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def assert_no_server_error(response) -> None:
    assert response.status_code < 500, f"{response.status_code}: {text_of(response)[:300]}"
    assert "Something went wrong on our side" not in text_of(response)


def part(text: str, start: str, end: str = "</section>") -> str:
    """The text from the first `start` up to and including the next `end`."""
    assert start in text, f"{start!r} is not on the page"
    rest = text[text.index(start):]
    return rest[: rest.index(end) + len(end)]


def links(text: str) -> list[tuple[str, str]]:
    """(href, visible text) of every link."""
    found = re.findall(r'<a\b[^>]*?\bhref="([^"]*)"[^>]*>(.*?)</a>', text, re.S)
    return [(html.unescape(href), html.unescape(re.sub(r"<[^>]+>", "", inner)).strip()) for href, inner in found]


def result_links(text: str) -> list[str]:
    """The answers a search results page lists, in order."""
    hits = re.findall(r'<a href="(/q/[^"]+)" class="hit-question"', text)
    return [html.unescape(h) for h in hits]


def search(client, q, **params) -> str:
    """The /search page for `q` (and filters), which must answer 200."""
    response = client.get("/search", query_string={"q": q, **params})
    assert response.status_code == 200, response.status_code
    return text_of(response)


def hit_of(page: str, href: str) -> str:
    """The result item that links to `href`."""
    item = next((li for li in re.findall(r'<li class="hit">.*?</li>', page, re.S) if f'href="{href}"' in li), None)
    assert item, f"{href} is not among the results"
    return item


def attrs(tag: str) -> dict[str, str]:
    """The attributes of one start tag, unescaped."""
    pairs = re.findall(r"""([\w:-]+)=(?:"([^"]*)"|'([^']*)')""", tag)
    return {name: html.unescape(double or single) for name, double, single in pairs}


def tags(text: str, name: str) -> list[dict[str, str]]:
    """The attributes of every `<name ...>` start tag."""
    return [attrs(tag) for tag in re.findall(rf"<{name}\b[^>]*>", text)]


def field(text: str, name: str) -> str | None:
    """The value of the first <input> called `name`."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', text)
    return html.unescape(match.group(1)) if match else None


def checked(text: str, name: str) -> str | None:
    """The value of the checked radio button called `name`."""
    for tag in re.findall(rf'<input type="radio" name="{name}"[^>]*>', text):
        if re.search(r"\bchecked\b", tag):
            return attrs(tag)["value"]
    return None


def form_token(text: str) -> str:
    """The CSRF token the first form of a page carries."""
    match = CSRF_FIELD.search(text)
    assert match, "no form on the page carries a CSRF token"
    return match.group(1)


def csrf_token(client, url: str = "/about") -> str:
    """A CSRF token as a page would give it to this client's browser."""
    for page in (url, "/login", "/account"):  # the login page for readers, the account page once logged in
        match = CSRF_FIELD.search(text_of(client.get(page)))
        if match:
            return match.group(1)
    raise AssertionError("no page offered a CSRF token")


def bar(text: str) -> dict[str, str]:
    """The attributes of the <progress> element."""
    found = tags(text, "progress")
    assert len(found) == 1, found
    return found[0]


def count_line(text: str) -> str:
    """"3 of 1,000 supporters · 0%", as the support widget shows it."""
    return re.sub(r"\s+", " ", re.search(r'id="support-count"[^>]*>(.*?)</p>', text, re.S).group(1)).strip()
