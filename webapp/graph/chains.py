"""How two questions are connected: the shortest chain of related links between them
(followed either way), by a breadth-first search from both ends over the link table.

Each step reads the links of the smaller frontier (_neighbours), so a
chain of k steps touches about 2 × d^(k/2) questions for d links a question, not the
whole graph. Past MAX_STEPS, or once VISIT_CAP questions have been reached, the two
are called unconnected: "no chain found" on a site of a million questions means
"none within reach"."""
from __future__ import annotations

from sqlalchemy import CompoundSelect, select, union_all
from sqlalchemy.orm import Session

from webapp.answers.models import RelatedLink
from webapp.database import among

MAX_STEPS = 8
VISIT_CAP = 50_000


def links_touching(session: Session, ids: list[int]) -> CompoundSelect:
    """(from, to) of the links from, then to, these questions, each read from an index
    that holds both ends ((from_id, to_id) and (to_id, from_id)), so no table row is
    visited; either end in one OR read every matching link's row (a bitmap scan). The
    ids go as `among` writes them (webapp/database.py has the figures)."""
    ends = (RelatedLink.from_id, RelatedLink.to_id)
    return union_all(select(*ends).where(among(session, RelatedLink.from_id, ids)),
                     select(*ends).where(among(session, RelatedLink.to_id, ids)))


def _neighbours(session: Session, frontier: set[int]) -> list[tuple[int, int]]:
    """(question in the frontier, a question linked to or from it), in a stable order."""
    ids = sorted(frontier)
    found = set()
    for start in range(0, len(ids), 5000):
        for source, target in session.execute(links_touching(session, ids[start : start + 5000])):
            if source in frontier:
                found.add((source, target))
            if target in frontier:
                found.add((target, source))
    return sorted(found)


def _path(meet: int, from_start: dict[int, int | None], from_end: dict[int, int | None]) -> list[int]:
    path, node = [], meet
    while node is not None:
        path.append(node)
        node = from_start[node]
    path.reverse()
    node = from_end[meet]
    while node is not None:
        path.append(node)
        node = from_end[node]
    return path


def chain(session: Session, start: int, end: int) -> list[int] | None:
    """The question ids from `start` to `end`, both included; None if not within reach."""
    if start == end:
        return [start]
    # Each side: question -> the one it was reached from (None at that side's end), and
    # how many steps from that end.
    reached: tuple[dict[int, int | None], dict[int, int | None]] = ({start: None}, {end: None})
    steps: tuple[dict[int, int], dict[int, int]] = ({start: 0}, {end: 0})
    frontiers = [{start}, {end}]
    for _step in range(MAX_STEPS):
        side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
        mine, theirs = reached[side], reached[1 - side]
        grown: set[int] = set()
        meets = []
        for here, there in _neighbours(session, frontiers[side]):
            if there in mine:
                continue
            mine[there] = here
            steps[side][there] = steps[side][here] + 1
            grown.add(there)
            if there in theirs:
                meets.append((steps[side][there] + steps[1 - side][there], there))
        if meets:
            # The whole step is read before choosing: the shortest of the chains it closes.
            return _path(min(meets)[1], reached[0], reached[1])
        if not grown or len(mine) + len(theirs) > VISIT_CAP:
            return None
        frontiers[side] = grown
    return None
