"""Which known words a misspelt word could have meant: both engines' "Did you mean"
take a word one edit away, where swapping two neighbouring letters ("ligthning") is one
edit, as a reader would count it (Damerau–Levenshtein, optimal string alignment)."""
from __future__ import annotations


def one_edit_apart(a: str, b: str) -> bool:
    """True if one insertion, deletion, substitution or swap of two neighbouring
    letters turns a into b."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b) and i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]:
        return True
    return a[i + (len(a) == len(b)):] == b[i + 1:]


def transpositions(word: str, keep: int = 1) -> list[str]:
    """The word with two neighbouring letters swapped, each way it can be done, leaving
    the first `keep` letters alone (corrections start with the reader's first letter)."""
    return [word[:i] + word[i + 1] + word[i] + word[i + 2:]
            for i in range(keep, len(word) - 1) if word[i] != word[i + 1]]
