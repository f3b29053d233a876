"""One template, two renderings: the whole page, or one block of it for htmx."""
from __future__ import annotations

from flask import render_template, request
from jinja2_fragments.flask import render_block


def wants_fragment() -> bool:
    # A history-restore request needs the whole page, even though htmx sent it.
    return bool(request.htmx) and not request.htmx.history_restore_request


def render(template: str, block: str | None = "content", **ctx) -> str:
    """Render `template` in full, or only `block` when htmx asks for it."""
    if block and wants_fragment():
        return render_block(template, block, **ctx)
    return render_template(template, **ctx)
