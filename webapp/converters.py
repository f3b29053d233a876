"""URL converters: a slug is a-z, 0-9 and '-', so nothing else reaches a query."""
from __future__ import annotations

from werkzeug.routing import BaseConverter

from webapp.content.naming import SLUG_PATTERN


class SlugConverter(BaseConverter):
    # Anything else (NUL bytes, dots, 5,000 characters) is a 404 from the router.
    regex = SLUG_PATTERN
