"""What an answer page tells search engines and link previews: description, JSON-LD."""
from __future__ import annotations

from webapp.answers.models import Question
from webapp.answers.markdown import to_plain_text

DESCRIPTION_LIMIT = 160


def description(question: Question, site_name: str) -> str:
    if question.answered:
        return to_plain_text(question.summary, DESCRIPTION_LIMIT)
    return f"This question has not been answered on {site_name} yet: {question.text}"[:DESCRIPTION_LIMIT]


def article_jsonld(question: Question, url: str, site_name: str, site_url: str) -> dict:
    """schema.org Article; no ClaimReview, because Plumb answers carry no rating.

    No datePublished: the database knows when an answer was imported, not when it was
    first published, and a made-up date would be worse than none."""
    data = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": question.text[:110],
        "name": question.text,
        "description": description(question, site_name),
        "url": url,
        "mainEntityOfPage": url,
        "publisher": {"@type": "Organization", "name": site_name, "url": site_url},
        "citation": [
            {"@type": "CreativeWork", "name": s.title, "url": s.url,
             **({"publisher": {"@type": "Organization", "name": s.publisher}} if s.publisher else {})}
            for s in question.sources
        ],
    }
    if question.checked_on:
        data["dateModified"] = question.checked_on.isoformat()
    if question.category:
        data["articleSection"] = question.category.name
    return data
