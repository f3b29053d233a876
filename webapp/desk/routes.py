"""Editing answers in the browser: the form, its live preview, saving revisions.

One form serves every step. Its buttons say what to do (`action`): save, preview, or
change a row (add, remove, move a source or related question; pick a question found by
the related-question finder). Without JavaScript each is a POST that renders the whole
page again; with htmx the same POST renders only the editor, and typing in the body asks
for the preview alone. Nothing is written until "Save" passes every rule."""
from __future__ import annotations

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.answers import service as answers
from webapp.answers.markdown import SourceRef, to_html
from webapp.answers.metadata import VERDICT_LABELS
from webapp.answers.models import ANSWERED, Category, Question
from webapp.clock import utcnow
from webapp.desk import drafts, editing, finder
from webapp.desk.blueprint import bp
from webapp.desk.drafts import Draft, Problem
from webapp.extensions import db
from webapp.lookups import or_404
from webapp.rendering import go, render, wants_fragment
from webapp.revisions import service as revisions
from webapp.revisions.models import KIND_LABELS, KINDS, UPDATE
from webapp.search import service as search_service

PICK = "pick-related:"


def _base() -> int:
    value = request.form.get("base", "")
    if not value.isdigit():
        abort(400, description="The form lost its revision number; reload the editing page.")
    return int(value)


def _categories() -> list[str]:
    return list(db.session.scalars(select(Category.slug).order_by(Category.slug)))


def _preview(draft: Draft) -> dict:
    """The summary and sections as the answer page renders them, citations resolved
    against the form's sources, and the first rule the draft breaks (if any)."""
    refs = [SourceRef(row.get("title") or "(untitled)", row.get("publisher") or None) for row in draft.sources]
    summary, _, sections_text = draft.body.partition("\n## ")
    sections = []
    if sections_text:
        for chunk in ("## " + sections_text).split("\n## "):
            heading, _, body = chunk.removeprefix("## ").partition("\n")
            sections.append((heading.strip(), to_html(body.strip(), refs)))
    return {"summary_html": to_html(summary.strip(), refs), "sections_html": sections}


def _form(draft: Draft, *, question: Question | None, base: int, status: int = 200, problem: Problem | None = None,
          conflict: editing.Conflict | None = None, preview: bool = False, found: list | None = None,
          kind: str = UPDATE, note: str = "", target: str = ""):
    context = dict(draft=draft, question=question, base=base, problem=problem, conflict=conflict,
                   preview=_preview(draft) if preview or wants_fragment() else None, found=found, kinds=KINDS,
                   kind_labels=KIND_LABELS, kind=kind, note=note, categories=_categories(), target=target,
                   verdict_labels=VERDICT_LABELS,
                   live_problem=drafts.check(db.session, draft, question) if preview else None,
                   alike=search_service.likely_duplicates(db.session, draft.question)
                   if question is None and draft.question.strip() else [])
    response = make_response(render("desk/edit.html", block="editor", **context), status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _handle(draft: Draft, question: Question | None, target: str):
    """One POST of the form: a row button, a preview, a search of related questions, or a save."""
    base = _base()
    action = request.form.get("action", "save")
    kind, note = request.form.get("kind", UPDATE), request.form.get("note", "")
    again = dict(question=question, base=base, kind=kind, note=note, target=target)
    if action.startswith(PICK):
        picked = db.session.scalar(select(Question).where(Question.slug == action.removeprefix(PICK)))
        if picked is not None:
            drafts.apply(draft, "add-related", {"slug": picked.slug, "text": picked.text})
        return _form(draft, **again)
    if drafts.apply(draft, action):
        return _form(draft, **again)
    if action == "find-related":
        return _form(draft, found=finder.find(db.session, request.form.get("related_query", "")), **again)
    if action == "preview":
        return _form(draft, preview=True, **again)
    if action != "save":
        abort(400, description="The form asked for something it does not offer.")
    outcome = editing.save(db.session, draft, question=question, base=base, kind=kind, note=note,
                           editor_id=current_user.id)
    if isinstance(outcome, Problem):
        return _form(draft, status=422, problem=outcome, **again)
    if isinstance(outcome, editing.Conflict):
        again["base"] = outcome.theirs.number
        return _form(outcome.draft, status=409, conflict=outcome, **{k: v for k, v in again.items() if k != "base"},
                     base=outcome.theirs.number)
    flash(f"Saved as revision {outcome.revision.number}.")
    where = url_for("answers.question", slug=outcome.question.slug)
    return go(where)


@bp.route("/q/<slug:slug>/edit", methods=["GET", "POST"])
def edit(slug: str):
    question = or_404(answers.question_by_slug(db.session, slug), answers.NO_QUESTION)
    if request.method == "POST":
        return _handle(drafts.from_form(request.form), question, target=question.slug)
    return _form(drafts.from_question(question), question=question,
                 base=revisions.latest_number(db.session, question.id))


@bp.route("/new", methods=["GET", "POST"])
def new():
    """A new answer; `question=<slug>` answers that unanswered question (pre-filled), and
    `text=` starts a new question with that text."""
    # The form has a field called `question` (its text): the target comes from the address
    # or the form's `target`, never from request.values.
    target_slug = request.args.get("question") or request.form.get("target", "")
    question = answers.question_by_slug(db.session, target_slug) if target_slug else None
    if target_slug and question is None:
        abort(404, description=answers.NO_QUESTION)
    if question is not None and question.answered:
        return redirect(url_for("desk.edit", slug=question.slug), code=303)
    if request.method == "POST":
        return _handle(drafts.from_form(request.form), question, target=target_slug)
    # `text`: a search that found nothing, from the desk's home, as the new question's start.
    draft = drafts.from_question(question) if question is not None else Draft(question=request.args.get("text", "")[:300])
    draft.status = ANSWERED
    draft.checked_on = draft.checked_on or utcnow().date().isoformat()
    if not draft.sources:
        draft.sources = [dict.fromkeys(drafts.SOURCE_FIELDS, "")]
    return _form(draft, question=question, base=revisions.latest_number(db.session, question.id if question else None),
                 target=target_slug)


@bp.post("/preview")
def preview():
    """The preview alone, as the body is typed (htmx): the same renderer as the answer page."""
    draft = drafts.from_form(request.form)
    target = request.form.get("target", "")
    question = answers.question_by_slug(db.session, target) if target else None
    if not wants_fragment():  # posted without htmx: the whole form, with its preview
        return _form(draft, question=question, base=_base(), preview=True, target=target)
    problem = drafts.check(db.session, draft, question)
    response = make_response(render("desk/edit.html", block="preview", preview=_preview(draft),
                                    live_problem=problem if isinstance(problem, Problem) else None, draft=draft))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/questions")
def questions():
    """Questions to pick as related, as the editor types (htmx), or as a page."""
    found = finder.find(db.session, request.args.get("related_query", ""))
    response = make_response(render("desk/edit.html", block="related_found", found=found,
                                    query=request.args.get("related_query", "")))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/q/<slug:slug>/recheck")
def recheck(slug: str):
    """"Mark as re-checked": Checked on becomes today, with a note; the text stays."""
    question = or_404(answers.question_by_slug(db.session, slug), answers.NO_QUESTION)
    if not question.answered:
        abort(409, description="Only an answer can be re-checked.")
    outcome = editing.recheck(db.session, question, base=_base(), note=request.form.get("note", ""),
                              editor_id=current_user.id)
    if isinstance(outcome, Problem):
        return _form(drafts.from_question(question), question=question, base=_base(), status=422, problem=outcome,
                     target=slug, kind="re-check", note=request.form.get("note", ""))
    if isinstance(outcome, editing.Conflict):
        return _form(outcome.draft, question=question, base=outcome.theirs.number, status=409, conflict=outcome,
                     target=slug)
    flash("Marked as re-checked today.")
    where = url_for("answers.question", slug=question.slug)
    return go(where)

