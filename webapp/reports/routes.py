"""Readers' reports of errors: the form on every answer, and the editors' queue."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, make_response, redirect, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from webapp.answers import service as answers
from webapp.editors import editor_required
from webapp.extensions import db, limiter
from webapp.lookups import or_404
from webapp.pagination import page_number
from webapp.redirects import safe_next
from webapp.rendering import render, wants_fragment
from webapp.reports import models, outcomes, service
from webapp.site import errors

bp = Blueprint("reports", __name__)
RECEIVED = "report_received"  # the session remembers, until the thank-you shows, which answer a report was about
NO_REPORT = "There is no report with that number."
QUEUE_PAGE_SIZE = 20  # reports per page of the queue (REPORTS_PAGE_SIZE in the config, if set, instead)


@bp.record_once
def _account_part(state) -> None:
    """/account lists the reader's reports through this global (accounts does not import reports)."""
    state.app.jinja_env.globals["my_reports"] = outcomes.my_reports


# --- the form on every answer ---------------------------------------------------------------

def _account_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else get_remote_address()


def _limit() -> str:
    return current_app.config["REPORT_LIMIT"]


def _kept(response) -> bool:
    """Only reports that were kept count toward the limit (a form sent back with its
    mistakes does not use up the reader's allowance)."""
    return response.status_code < 400


def _form(question, status: int = 200, draft: service.Draft | None = None, message: str | None = None,
          received: bool = False):
    """The report form (or the thank-you): in place for htmx, else as its own page."""
    body = render("reports/report.html", block="report_box", question=question,
                  draft=draft or service.Draft(), message=message, received=received)
    response = make_response(body, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/q/<slug:slug>/report", methods=["GET", "POST"])
@limiter.limit(_limit, key_func=get_remote_address, methods=["POST"], deduct_when=_kept)
@limiter.limit(_limit, key_func=_account_key, methods=["POST"], deduct_when=_kept,
               exempt_when=lambda: not current_user.is_authenticated)
def report(slug: str):
    question = or_404(answers.question_by_slug(db.session, slug), answers.NO_QUESTION)
    if request.method == "GET":
        # After a report without JavaScript (post, redirect, get): the thank-you, once.
        received = session.pop(RECEIVED, None) == slug
        return _form(question, received=received)
    draft = service.read(request.form.get("what", ""), request.form.get("source_url", ""),
                         request.form.get("email", ""), signed_in=current_user.is_authenticated)
    if draft.errors:
        return _form(question, 422, draft)
    service.receive(db.session, question.id, draft, current_user.id if current_user.is_authenticated else None)
    db.session.commit()
    if not wants_fragment():
        session[RECEIVED] = slug
        return redirect(url_for("reports.report", slug=slug), code=303)
    return _form(question, received=True)


def _draft_from_form() -> service.Draft:
    return service.Draft(what=request.form.get("what", "")[: service.WHAT_MAX * 2],
                         source_url=request.form.get("source_url", "")[: service.URL_MAX],
                         email=request.form.get("email", "")[: service.EMAIL_MAX])


def _refused_here(status: int, message: str):
    """The report form again with what the reader wrote and why nothing was kept."""
    question = or_404(answers.question_by_slug(db.session, request.view_args["slug"]), answers.NO_QUESTION)
    return _form(question, status, _draft_from_form(), message)


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError):
    if request.endpoint != "reports.report":
        return errors.csrf_page(error)
    return _refused_here(400, "Nothing was sent: the form's security token is missing or wrong. "
                              "Please send it again.")


@bp.errorhandler(429)
def too_many(error):
    if request.endpoint != "reports.report":
        return errors.error_page(error)
    response = _refused_here(429, "Nothing was sent: that is a lot of reports in a short time. "
                                  "Please wait a while and send it again; what you wrote is kept below.")
    if retry_after := dict(error.get_headers()).get("Retry-After"):
        response.headers["Retry-After"] = retry_after
    return response


# --- the editors' queue ---------------------------------------------------------------------

def _helpers() -> dict:
    """What the queue's rows use: a report's age in words, and whether a source may be a link."""
    return {"age": outcomes.age, "linkable": service.web_address}


def _state_filter() -> str:
    state = request.args.get("state", models.NEW)
    if state not in service.FILTERS:
        abort(400, description="Show reports that are new, accepted, declined, fixed, or all.")
    return state


def _queue_url(state: str, page: int = 1) -> str:
    return url_for("reports.queue", state=None if state == models.NEW else state, page=page if page > 1 else None)


@bp.get("/desk/reports")
@editor_required
def queue():
    state = _state_filter()
    size = current_app.config.get("REPORTS_PAGE_SIZE", QUEUE_PAGE_SIZE)
    page = or_404(service.queue(db.session, state, page_number(), size), "That page is past the end of the reports.")
    revisions = service.revision_choices(db.session, {row[0].question_id for row in page.items})
    return render("reports/queue.html", block="report_list", page=page, state=state, revisions=revisions,
                  filters=service.FILTERS, back=_queue_url(state, page.number), queue_url=_queue_url, **_helpers())


def _row(report_id: int, status: int = 200, **ctx):
    """One report with its decision form: in place for htmx, else as a page of its own."""
    found, name = or_404(service.one(db.session, report_id), NO_REPORT)
    body = render("reports/decide.html", block="row", report=found, name=name, **_helpers(),
                  revisions=service.revision_choices(db.session, {found.question_id}),
                  back=safe_next(request.values.get("back"), url_for("reports.queue")), **ctx)
    return make_response(body, status)


@bp.route("/desk/reports/<int(max=2147483647):report_id>", methods=["GET", "POST"])
@editor_required
def decide(report_id: int):
    if request.method == "GET":
        return _row(report_id)
    found = or_404(db.session.get(models.Report, report_id), NO_REPORT)
    try:
        service.decide(db.session, found, request.form.get("state", ""), request.form.get("note", ""),
                       request.form.get("revision"), current_user.id)
    except service.DecisionRefused as refused:
        db.session.rollback()
        return _row(report_id, 422, decision_errors=refused.errors,
                    sent={"state": request.form.get("state", ""), "note": request.form.get("note", ""),
                          "revision": request.form.get("revision", "")})
    db.session.commit()
    if not wants_fragment():
        return redirect(safe_next(request.form.get("back"), url_for("reports.queue")), code=303)
    return _row(report_id, just_decided=True)
