"""Views look something up and answer 404 when it is not there, all in one way (flaskr's
`get_post`): the description tells the reader what was missing."""
from __future__ import annotations

from typing import TypeVar

from flask import abort

Found = TypeVar("Found")


def or_404(found: Found | None, description: str) -> Found:
    if found is None:
        abort(404, description=description)
    return found
