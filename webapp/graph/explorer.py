"""The neighbourhood of a question: who links to whom within one or two hops, laid out
as a radial tree around it (cached), for the explorer's drawing and list.

The drawing numbers every question as the list beside it does: whole names do not fit
around a circle at a size a phone can read, numbers do. The centre carries its own name
in a box that is the node itself, so no line crosses it."""
from __future__ import annotations

import functools
import itertools
import math
import textwrap
from collections import defaultdict, deque
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from webapp.answers.models import Question, RelatedLink

MAX_NODES = 40  # beyond this a drawing is a hairball; the list says how many were left out
HOPS = (1, 2)

# Sizes in the drawing's own units. The page shows it at most 1.25 units to the pixel and
# shrinks it to fit a phone; with MAX_NODES the widest drawing stays near 440 units, so
# on a 390 px phone the numbers still come out at 12 px or more.
NODE_RADIUS = 14
NODE_SPACING = 2 * NODE_RADIUS + 4  # centre to centre, between neighbours on a ring
RING_GAP = 64  # between the rings of one and two steps
PADDING = 6
CENTER_FONT = 15  # px, bold; graph.css uses the same
CENTER_LINE = 19
CENTER_CHARS = 16  # per line of the centre's name; three lines at most
CENTER_PAD = (10, 8)
# A generous average width of a bold character, in ems (DejaVu Sans Bold, the widest
# of the usual system fonts), so the box around the centre's name is never too small.
BOLD_EM = 0.68
DISPLAY_SCALE = 1.25  # CSS px per unit at most, so numbers read like the text beside


@dataclass(frozen=True)
class Node:
    id: int
    slug: str
    text: str
    answered: bool
    hop: int
    x: float
    y: float
    number: int  # as in the list; 0 for the centre


@dataclass(frozen=True)
class Edge:
    source: Node
    target: Node
    suggested: bool
    reaching: bool  # on the way out from the centre (the tree); drawn over the links across


@dataclass(frozen=True)
class CenterLabel:
    lines: tuple[str, ...]
    width: float
    height: float
    line_height: float = CENTER_LINE

    def line_offsets(self) -> list[tuple[float, str]]:
        """Each line with its distance from the centre, down being positive."""
        middle = (len(self.lines) - 1) / 2
        return [((index - middle) * self.line_height, line) for index, line in enumerate(self.lines)]


@dataclass
class Neighbourhood:
    center: Node
    nodes: list[Node]  # the centre, then ring by ring in drawing (and list) order
    edges: list[Edge]
    hops: int
    left_out: int
    label: CenterLabel
    width: float  # the view box, fitted to what is drawn
    height: float
    node_radius = NODE_RADIUS

    def ring(self, hop: int) -> list[Node]:
        return [n for n in self.nodes if n.hop == hop]

    @property
    def display_width(self) -> int:
        return round(self.width * DISPLAY_SCALE)

    @property
    def display_height(self) -> int:
        return round(self.height * DISPLAY_SCALE)


def _walk(session: Session, center_id: int, hops: int) -> tuple[dict[int, int], set[tuple[int, int, str]], int]:
    """Breadth-first over links in both directions: {id: hop}, edges, and how many were left out."""
    hop_of = {center_id: 0}
    edges: set[tuple[int, int, str]] = set()
    frontier, left_out = {center_id}, set()
    for hop in range(1, hops + 1):
        rows = session.execute(
            select(RelatedLink.from_id, RelatedLink.to_id, RelatedLink.kind)
            .where(or_(RelatedLink.from_id.in_(frontier), RelatedLink.to_id.in_(frontier)))
        ).all()
        found = set()
        for source, target, kind in sorted(rows):
            edges.add((source, target, kind))
            for node in (source, target):
                if node in hop_of or node in found:
                    continue
                if len(hop_of) + len(found) < MAX_NODES:
                    found.add(node)
                else:
                    left_out.add(node)
        for node in found:
            hop_of[node] = hop
        frontier = found
    kept = {(s, t, k) for s, t, k in edges if s in hop_of and t in hop_of}
    return hop_of, kept, len(left_out - set(hop_of))


def center_label(text: str) -> CenterLabel:
    """The centre's name in at most three short lines, and the box that holds it."""
    lines = textwrap.wrap(text, CENTER_CHARS, break_long_words=True) or [""]
    if len(lines) > 3:
        lines = lines[:3]
        cut = lines[2] if len(lines[2]) < CENTER_CHARS else lines[2][:CENTER_CHARS - 1]
        lines[2] = cut.rstrip() + "…"
    width = max(len(line) for line in lines) * BOLD_EM * CENTER_FONT + 2 * CENTER_PAD[0]
    height = len(lines) * CENTER_LINE + 2 * CENTER_PAD[1]
    return CenterLabel(tuple(lines), round(width, 1), float(height))


def _radius_for(angles: list[float], least: float) -> float:
    """The smallest ring radius, at least `least`, on which no two neighbours at these
    angles come closer than NODE_SPACING."""
    if len(angles) < 2:
        return least
    ordered = sorted(angles)
    gaps = [b - a for a, b in itertools.pairwise(ordered)] + [2 * math.pi - ordered[-1] + ordered[0]]
    return max(least, NODE_SPACING / (2 * math.sin(min(gaps) / 2)))


@functools.lru_cache(maxsize=2048)
def _layout(tree: tuple[tuple[int, tuple[int, ...]], ...], center: int, label: CenterLabel,
            ) -> tuple[dict[int, tuple[float, float]], float, float]:
    """A radial tree: ring one around the centre's box, each second-ring question in the
    slice of the ring-one question it was reached through. Returns positions in a view
    box fitted to the drawing, and its width and height."""
    weights = [max(1, len(children)) for _, children in tree]
    unit = 2 * math.pi / (sum(weights) or 1)
    start = -math.pi / 2  # numbering starts at the top and goes clockwise
    first_angles, second_angles = [], {}
    edge = start
    for index, ((_, children), weight) in enumerate(zip(tree, weights, strict=True)):
        middle = edge + weight * unit / 2
        # Halfway between the middle of its slice and an even share of the ring, so a
        # question with few followers is not crowded by its neighbours.
        even = start + (index + 0.5) * 2 * math.pi / len(tree)
        first_angles.append((middle + even) / 2)
        for k, child in enumerate(children):
            second_angles[child] = edge + (k + 0.5) * unit
        edge += weight * unit
    clear_of_label = math.hypot(label.width / 2, label.height / 2) + NODE_RADIUS + 8
    first_radius = _radius_for(first_angles, clear_of_label)
    second_radius = _radius_for(list(second_angles.values()), first_radius + RING_GAP)

    positions = {center: (0.0, 0.0)}
    for (node, _), angle in zip(tree, first_angles, strict=True):
        positions[node] = (first_radius * math.cos(angle), first_radius * math.sin(angle))
    for node, angle in second_angles.items():
        positions[node] = (second_radius * math.cos(angle), second_radius * math.sin(angle))

    # Fit the view box to the circles and the centre's box: no empty bands.
    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    left = min(min(xs) - NODE_RADIUS, -label.width / 2) - PADDING
    right = max(max(xs) + NODE_RADIUS, label.width / 2) + PADDING
    top = min(min(ys) - NODE_RADIUS, -label.height / 2) - PADDING
    bottom = max(max(ys) + NODE_RADIUS, label.height / 2) + PADDING
    fitted = {node: (round(x - left, 1), round(y - top, 1)) for node, (x, y) in positions.items()}
    return fitted, round(right - left, 1), round(bottom - top, 1)


def _tree(center: int, rings: tuple[tuple[int, ...], ...], edges: set[tuple[int, int, str]],
          ) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """Each ring-one question with the ring-two questions first reached through it
    (breadth first from the centre, neighbours in ring order)."""
    # A breadth-first walk over at most MAX_NODES questions: networkx did it before, and
    # importing it cost every worker 11 MB (issue 18).
    neighbours: defaultdict[int, set[int]] = defaultdict(set)
    for source, target, _kind in edges:
        neighbours[source].add(target)
        neighbours[target].add(source)
    order = {node: index for ring in rings for index, node in enumerate(ring)}
    parent: dict[int, int] = {}
    waiting = deque([center])
    while waiting:
        node = waiting.popleft()
        for neighbour in sorted(neighbours[node] - {center} - parent.keys(), key=order.__getitem__):
            parent[neighbour] = node
            waiting.append(neighbour)
    second = rings[2] if len(rings) > 2 else ()
    return tuple((node, tuple(child for child in second if parent.get(child) == node)) for node in rings[1])


def neighbourhood(session: Session, center: Question, hops: int) -> Neighbourhood:
    hop_of, edges, left_out = _walk(session, center.id, hops)
    questions = {q.id: q for q in session.scalars(select(Question).where(Question.id.in_(hop_of)))}
    # Rings in a stable order (by question text), so the same neighbourhood draws the same.
    rings = tuple(
        tuple(sorted((i for i, h in hop_of.items() if h == hop), key=lambda i: questions[i].text.casefold()))
        for hop in range(hops + 1)
    )
    tree = _tree(center.id, rings, edges)
    label = center_label(center.text)
    positions, width, height = _layout(tree, center.id, label)
    # Drawing order, which numbers them: ring one clockwise from the top, then ring two,
    # each group of followers in the slice of the question it came through.
    ordered_ids = [center.id, *(node for node, _ in tree), *(child for _, children in tree for child in children)]
    nodes = {
        i: Node(i, questions[i].slug, questions[i].text, questions[i].answered, hop_of[i], *positions[i], number)
        for number, i in enumerate(ordered_ids)
    }
    reaching = {frozenset((center.id, node)) for node, _ in tree}
    reaching |= {frozenset((node, child)) for node, children in tree for child in children}
    drawn = sorted((Edge(nodes[s], nodes[t], kind == "suggested", frozenset((s, t)) in reaching)
                    for s, t, kind in sorted(edges)), key=lambda edge: edge.reaching)
    return Neighbourhood(nodes[center.id], [nodes[i] for i in ordered_ids], drawn, hops, left_out, label, width, height)
