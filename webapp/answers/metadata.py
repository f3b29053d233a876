"""What an answer page tells search engines and link previews: description, JSON-LD."""
from __future__ import annotations

from webapp.answers.models import Question
from webapp.answers.markdown import to_plain_text

DESCRIPTION_LIMIT = 160


def description(question: Question, site_name: str) -> str:
    if question.answered:
        return to_plain_text(question.summary, DESCRIPTION_LIMIT)
    return f"This question has not been answered on {site_name} yet: {question.text}"[:DESCRIPTION_LIMIT]


# What each verdict is called on the page, and its rating for schema.org ClaimReview: 1
# (false) to 5 (true), as fact-checkers publish them; "unproven" and "mixed" sit in the
# middle, and their name says which.
VERDICT_LABELS = {"true": "True", "mostly-true": "Mostly true", "mixed": "Mixed", "mostly-false": "Mostly false",
                  "false": "False", "unproven": "Unproven"}
VERDICT_RATINGS = {"true": 5, "mostly-true": 4, "mixed": 3, "unproven": 3, "mostly-false": 2, "false": 1}


def claim_review_jsonld(question: Question, url: str, site_name: str, site_url: str) -> dict | None:
    """schema.org ClaimReview for an answer that checks a claim: the claim reviewed, who
    made it and when (where known), and the rating as a number and in words."""
    if not (question.claim and question.verdict in VERDICT_RATINGS):
        return None
    claim: dict = {"@type": "Claim", "text": question.claim}
    if question.claimant:
        claim["author"] = {"@type": "Person" if " " in question.claimant else "Organization",
                           "name": question.claimant}
    if question.claim_date:
        claim["datePublished"] = question.claim_date.isoformat()
    review = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": question.claim,
        "itemReviewed": claim,
        "author": {"@type": "Organization", "name": site_name, "url": site_url},
        "reviewRating": {"@type": "Rating", "ratingValue": VERDICT_RATINGS[question.verdict], "bestRating": 5,
                         "worstRating": 1, "alternateName": VERDICT_LABELS[question.verdict]},
    }
    if question.checked_on:
        review["datePublished"] = question.checked_on.isoformat()
    return review


def article_jsonld(question: Question, url: str, site_name: str, site_url: str) -> dict:
    """schema.org Article (an answer that checks a claim adds a ClaimReview beside it).

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
