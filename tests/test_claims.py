"""Claims and their verdicts: the content format's claim block (read, checked, written
back), the verdict beside "Checked on", schema.org ClaimReview, and the desk's fields."""
from __future__ import annotations

import html
import json
import re

import pytest

from tests.answer_files import VALID, write
from tests.pages import text_of
from tests.test_desk_editing import edit_form, form_of, signed_in_editor
from webapp.content.importer import import_folder
from webapp.content.parser import ContentError, parse
from webapp.extensions import db

CLAIM = "checked_on: 2025-11-08\nclaim: Lightning never strikes twice\nverdict: false\n" \
        "claimant: An old saying\nclaim_date: 1857-05-01\n"
WITH_CLAIM = VALID.replace("checked_on: 2025-11-08\n", CLAIM)


def test_a_claim_block_reads_as_the_format_describes():
    claim = parse("lightning.md", WITH_CLAIM).claim
    assert (claim.claim, claim.verdict, claim.claimant, claim.claim_date.isoformat()) == (
        "Lightning never strikes twice", "false", "An old saying", "1857-05-01")  # the file's line 6 on
    assert parse("lightning.md", VALID).claim is None


@pytest.mark.parametrize("block,line,message", [
    ("claim: Lightning never strikes twice\n", 6, "a 'claim' needs a 'verdict'"),
    ("claim: Lightning never strikes twice\nverdict: wrong\n", 7, "verdict must be one of true, mostly-true"),
    ("verdict: false\n", 6, "'verdict' needs a 'claim'"),
    ("claimant: Someone\n", 6, "'claimant' needs a 'claim'"),
    ("claim: x\nverdict: true\nclaimant: " + "n" * 121 + "\n", 8, "claimant is longer than 120 characters"),
    ("claim: x\nverdict: true\nclaim_date: last spring\n", 8, "claim_date must be an ISO date"),
    ("claim: ''\nverdict: true\n", 6, "claim must be non-empty text"),
])
def test_each_broken_claim_rule_is_reported_with_its_line(block, line, message):
    with pytest.raises(ContentError) as error:
        parse("lightning.md", VALID.replace("checked_on: 2025-11-08\n", "checked_on: 2025-11-08\n" + block))
    assert error.value.line == line and message in error.value.rule


def test_an_unanswered_question_has_no_verdict_yet():
    with pytest.raises(ContentError) as error:
        parse("q.md", "---\nquestion: Is it true?\ncategory: science\nclaim: It is\nverdict: true\n---\n")
    assert "an unanswered question has no 'claim'" in error.value.rule


def test_yes_and_no_are_words_not_booleans():
    assert parse("q.md", "---\nquestion: 'No'\ncategory: science\n---\n").question == "No"
    assert parse("q.md", "---\nquestion: No\ncategory: science\n---\n").question == "No"


def test_a_file_with_a_claim_comes_back_byte_for_byte(app, runner, content_dir, tmp_path):
    canonical = WITH_CLAIM.replace("## 1. Why", "## Why")  # (the page numbers sections itself)
    write(content_dir, "lightning.md", canonical)
    assert runner.invoke(args=["content", "import", str(content_dir)]).exit_code == 0
    assert runner.invoke(args=["content", "export", str(tmp_path / "out")]).exit_code == 0
    assert (tmp_path / "out" / "lightning.md").read_text() == canonical


@pytest.fixture
def claimed(app, content_dir):
    write(content_dir, "lightning.md", WITH_CLAIM)
    with app.app_context():
        assert not import_folder(db.session, content_dir).rejected
    return "lightning-twice"


def jsonld_of(page: str) -> list[dict]:
    return [json.loads(html.unescape(block)) if block.startswith("{&") else json.loads(block)
            for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)]


def test_the_verdict_shows_in_words_beside_checked_on(client, claimed):
    page = text_of(client.get("/q/lightning-twice"))
    verdict = page.index("Verdict: <strong>False</strong>")
    assert verdict < page.index("Checked on") and "Claim: “Lightning never strikes twice” — An old saying" in page


def test_an_answer_about_a_claim_publishes_a_claim_review_beside_its_article(client, claimed):
    blocks = {block["@type"]: block for block in jsonld_of(text_of(client.get("/q/lightning-twice")))}
    assert set(blocks) == {"Article", "ClaimReview"}
    review = blocks["ClaimReview"]
    # schema.org / Google's required ClaimReview properties.
    for needed in ("claimReviewed", "reviewRating", "url", "author", "itemReviewed"):
        assert review[needed], needed
    assert review["claimReviewed"] == "Lightning never strikes twice"
    assert review["reviewRating"] == {"@type": "Rating", "ratingValue": 1, "bestRating": 5, "worstRating": 1,
                                      "alternateName": "False"}
    assert review["itemReviewed"]["author"]["name"] == "An old saying"
    assert review["itemReviewed"]["datePublished"] == "1857-05-01"
    assert review["url"].endswith("/q/lightning-twice") and review["datePublished"] == "2025-11-08"


def test_an_answer_without_a_claim_has_no_verdict_and_no_claim_review(client, app, content_dir):
    write(content_dir, "lightning.md")
    with app.app_context():
        import_folder(db.session, content_dir)
    page = text_of(client.get("/q/lightning-twice"))
    assert "Verdict:" not in page and [b["@type"] for b in jsonld_of(page)] == ["Article"]


def test_the_desk_edits_the_claim_and_its_rules_show_at_their_fields(app, client, claimed):
    signed_in_editor(app, client)
    form = edit_form(client, "lightning-twice")
    assert (form["claim"], form["verdict"], form["claimant"], form["claim_date"]) == (
        "Lightning never strikes twice", "false", "An old saying", "1857-05-01")
    refused = client.post("/desk/q/lightning-twice/edit", data={**form, "verdict": "", "note": "x", "action": "save"})
    assert refused.status_code == 422 and "a 'claim' needs a 'verdict'" in html.unescape(text_of(refused))
    form.update(verdict="mostly-false", note="Rated again", action="save")
    assert client.post("/desk/q/lightning-twice/edit", data=form).status_code == 303
    assert "Verdict: <strong>Mostly false</strong>" in text_of(client.get("/q/lightning-twice"))
    cleared = form_of(client.get("/desk/q/lightning-twice/edit").get_data(as_text=True))
    cleared.update(claim="", verdict="", claimant="", claim_date="", note="Not about a claim", action="save")
    assert client.post("/desk/q/lightning-twice/edit", data=cleared).status_code == 303
    assert "Verdict:" not in text_of(client.get("/q/lightning-twice"))
