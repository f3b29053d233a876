"""The neighbourhood of a question: who links to whom within one or two hops, laid out
as rings around it (networkx shell layout, cached), for the explorer's drawing and list."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import networkx as nx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from webapp.answers.models import Question, RelatedLink

MAX_NODES = 40  # beyond this a drawing is a hairball; the list says how many were left out
SIZE = 800  # the SVG's view box is SIZE x SIZE
HOPS = (1, 2)


@dataclass(frozen=True)
class Node:
    id: int
    slug: str
    text: str
    answered: bool
    hop: int
    x: float
    y: float


@dataclass(frozen=True)
class Edge:
    source: Node
    target: Node
    suggested: bool


@dataclass
class Neighbourhood:
    center: Node
    nodes: list[Node]
    edges: list[Edge]
    hops: int
    left_out: int

    def ring(self, hop: int) -> list[Node]:
        return [n for n in self.nodes if n.hop == hop]


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


@functools.lru_cache(maxsize=2048)
def _layout(rings: tuple[tuple[int, ...], ...]) -> dict[int, tuple[float, float]]:
    """Positions in the view box: the centre, then one ring per hop."""
    graph = nx.Graph()
    graph.add_nodes_from(node for ring in rings for node in ring)
    shells = [list(ring) for ring in rings if ring]
    positions = nx.shell_layout(graph, nlist=shells, scale=1.0) if len(graph) > 1 else {rings[0][0]: (0.0, 0.0)}
    # Stretch the outer ring to the edge of the drawing, whatever radius networkx chose.
    reach = max((float(x) ** 2 + float(y) ** 2) ** 0.5 for x, y in positions.values()) or 1.0
    margin = SIZE * 0.2  # room for the labels
    half = (SIZE - 2 * margin) / 2 / reach
    return {node: (round(SIZE / 2 + half * float(x), 1), round(SIZE / 2 + half * float(y), 1))
            for node, (x, y) in positions.items()}


def neighbourhood(session: Session, center: Question, hops: int) -> Neighbourhood:
    hop_of, edges, left_out = _walk(session, center.id, hops)
    questions = {q.id: q for q in session.scalars(select(Question).where(Question.id.in_(hop_of)))}
    # Rings in a stable order (by question text), so the same neighbourhood draws the same.
    rings = tuple(
        tuple(sorted((i for i, h in hop_of.items() if h == hop), key=lambda i: questions[i].text.casefold()))
        for hop in range(hops + 1)
    )
    positions = _layout(rings)
    nodes = {
        i: Node(i, questions[i].slug, questions[i].text, questions[i].answered, hop_of[i], *positions[i])
        for i in hop_of
    }
    ordered = [nodes[i] for ring in rings for i in ring]
    drawn = [Edge(nodes[s], nodes[t], kind == "suggested") for s, t, kind in sorted(edges)]
    return Neighbourhood(nodes[center.id], ordered, drawn, hops, left_out)
