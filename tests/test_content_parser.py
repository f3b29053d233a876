"""The content format's rules, each with the line and message a rejected file reports."""
import datetime as dt

import pytest

from tests.answer_files import VALID
from webapp.content.parser import ContentError, parse


def test_a_valid_file_reads_as_the_format_describes():
    answer = parse("lightning.md", VALID)
    assert answer.question == "Does lightning ever strike the same place twice?"
    assert answer.slug == "lightning-twice"
    assert answer.category == "science"
    assert answer.status == "answered"
    assert answer.checked_on == dt.date(2025, 11, 8)
    assert [s.title for s in answer.sources] == ["Lightning myths and facts", "How often tall towers are struck"]
    assert answer.sources[0].published == dt.date(2023, 6, 1)
    assert answer.sources[1].publisher is None
    assert answer.summary == "Yes: tall structures are struck again and again [1] [2]."
    # A leading "1." in a heading is dropped; the page numbers sections itself.
    assert [h for h, _ in answer.sections] == ["Why tall structures are struck", "What this means for safety"]
    assert answer.related[0].text == "How often is a skyscraper struck by lightning?"


def test_slug_defaults_to_one_made_from_the_question():
    answer = parse("x.md", VALID.replace("slug: lightning-twice\n", ""))
    assert answer.slug == "does-lightning-ever-strike-the-same-place-twice"


def test_a_file_without_a_body_is_unanswered():
    text = VALID.split("---\nYes")[0] + "---\n"
    text = text.replace("checked_on: 2025-11-08\n", "")
    text = text[: text.index("sources:")] + text[text.index("related:"):]
    answer = parse("x.md", text)
    assert answer.status == "unanswered"
    assert answer.sections == [] and answer.sources == []


def test_a_heading_inside_a_code_fence_is_not_a_section():
    text = VALID.replace("Towers offer the shortest path [2].", "Towers [2].\n\n```\n## not a heading\n[9]\n```")
    answer = parse("x.md", text)
    assert len(answer.sections) == 2
    assert "## not a heading" in answer.sections[0][1]


def test_a_citation_inside_code_is_not_checked():
    answer = parse("x.md", VALID.replace("Seek shelter indoors [1].", "Arrays use `a[7]` [1]."))
    assert answer.sections[1][1] == "Arrays use `a[7]` [1]."


BROKEN = [
    # (what to change, the line reported, words in the message)
    ({"---\nquestion": "question"}, 1, "must start with a '---'"),
    ({"\n---\nYes": "\nYes"}, 1, "not closed"),
    ({"category: science": "category: [science"}, 5, "not valid YAML"),
    ({"question: Does lightning ever strike the same place twice?\n": ""}, 2, "'question' is required"),
    ({"question: Does lightning ever strike the same place twice?": "question: " + "x" * 301}, 2, "longer than 300"),
    ({"category: science\n": ""}, 2, "'category' is required"),
    ({"category: science": "category: Science Stuff"}, 4, "category must be"),
    ({"slug: lightning-twice": "slug: Lightning_Twice"}, 3, "slug must be"),
    ({"slug: lightning-twice": "slug: " + "a" * 81}, 3, "slug must be"),
    ({"checked_on: 2025-11-08\n": ""}, 2, "'checked_on' is required"),
    ({"checked_on: 2025-11-08": "checked_on: last week"}, 5, "ISO date"),
    ({"checked_on: 2025-11-08": "checked_on: 2025-02-30"}, 5, "ISO date"),
    ({"url: https://example.org/towers": "url: ftp://example.org/towers"}, 12, "http or https"),
    ({"url: https://example.org/towers": "url: javascript:alert(1)"}, 12, "http or https"),
    ({"  - title: How often tall towers are struck\n": "  - \n"}, 12, "source 2"),
    ({"    publisher: Example Weather Service": "    publisher: Example\n    isbn: 123"}, 7, "unknown key 'isbn'"),
    ({"published: 2023-06-01": "published: June 2023"}, 10, "ISO date"),
    ({"status": "x", "related:": "status: maybe\nrelated:"}, 13, "status must be"),
    ({"related:": "colour: blue\nrelated:"}, 13, "unknown front-matter key 'colour'"),
    ({"  - How often is a skyscraper struck by lightning?": "  - slug: Not A Slug"}, 14, "related slug"),
    ({"  - How often is a skyscraper struck by lightning?": "  - {title: x}"}, 14, "related entry"),
    ({"Yes: tall structures are struck again and again [1] [2].\n": ""}, 16, "summary"),
    ({"again and again [1] [2].": "again and again [1] [7]."}, 16, "citation [7] but only 2 sources"),
    ({"Towers offer the shortest path [2].": "Towers offer the shortest path [3]."}, 19, "citation [3] but only 2 sources"),
    ({"Seek shelter indoors [1].": "Seek shelter\nindoors, really [0]."}, 23, "citation [0]"),
    ({"## What this means for safety": "## 2."}, 21, "heading is empty"),
    ({"Seek shelter indoors [1].\n": ""}, 21, "has no body"),
]


@pytest.mark.parametrize("changes, line, message", BROKEN, ids=[m for _, _, m in BROKEN])
def test_each_broken_rule_is_reported_with_its_line(changes, line, message):
    text = VALID
    for old, new in changes.items():
        text = text.replace(old, new)
    with pytest.raises(ContentError) as raised:
        parse("lightning.md", text)
    assert message in raised.value.rule
    assert raised.value.line == line


def test_an_answered_file_needs_sources():
    start, end = VALID.index("sources:"), VALID.index("related:")
    with pytest.raises(ContentError, match="at least one source"):
        parse("x.md", VALID[:start] + VALID[end:])


def test_an_unanswered_file_must_not_carry_an_answer():
    with pytest.raises(ContentError, match="must not have an answer body"):
        parse("x.md", VALID.replace("related:", "status: unanswered\nrelated:"))
