"""Text a reader or an editor wrote, made safe to keep. It is escaped wherever shown."""
from __future__ import annotations

import re
import unicodedata


def clean_text(text: str) -> str:
    """User-written text made safe to keep, as support keeps messages (no control or
    format characters, such as right-to-left overrides), but with its line breaks: each
    line's spaces collapsed, at most one blank line in a row, none at either end. It is
    escaped wherever it is shown."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = []
    for line in text.split("\n"):
        kept = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in line)
        lines.append(" ".join(kept.split()))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def clean_line(text: str) -> str:
    """One line of user text: control and format characters out, whitespace collapsed."""
    return " ".join(clean_text(text).split())
