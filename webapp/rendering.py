"""One template, two renderings: the whole page, or one block of it for htmx."""
from __future__ import annotations

from flask import make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block


def wants_fragment() -> bool:
    # A history-restore request needs the whole page, even though htmx sent it.
    return bool(request.htmx) and not request.htmx.history_restore_request


def render(template: str, block: str | None = "content", **ctx) -> str:
    """Render `template` in full, or only `block` when htmx asks for it."""
    if block and wants_fragment():
        return render_block(template, block, **ctx)
    return render_template(template, **ctx)


def go(url: str):
    """After a POST, on to `url`: a 303, or for htmx a 200 with HX-Redirect (htmx then
    loads `url` as a whole page, where a 303 would be followed into the swap)."""
    if wants_fragment():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)
