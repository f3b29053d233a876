"""Slugs and the matching key that related-question strings are compared by."""
from __future__ import annotations

import re
import unicodedata

SLUG_MAX = 80
SLUG_PATTERN = rf"[a-z0-9-]{{1,{SLUG_MAX}}}"  # the URL converter and referrer checks use it too
SLUG_RE = re.compile(rf"^{SLUG_PATTERN}\Z")  # \Z: "$" would let a final newline through
_END_PUNCTUATION = ".?!…;:,"


def fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def slugify(text: str, limit: int = SLUG_MAX) -> str:
    """ "Does lightning strike twice?" -> "does-lightning-strike-twice"."""
    ascii_text = fold_accents(text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(slug) > limit:
        # Cut at a word boundary so slugs do not end mid-word.
        slug = slug[: limit + 1].rsplit("-", 1)[0] or slug[:limit]
    return slug or "question"


def text_key(text: str) -> str:
    """Ignore case, runs of spaces and end punctuation, as the content format says."""
    folded = " ".join(text.split()).casefold()
    return folded.rstrip(_END_PUNCTUATION + " ")[:300]
