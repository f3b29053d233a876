"""The whole related-question graph in networkx, for what needs all of it: PageRank
hubs, clusters, orphans and shortest chains. Built once per process and rebuilt only
when the links or questions change (a cheap version check per use)."""
from __future__ import annotations

import functools
import heapq
import threading
import time
import weakref
from dataclasses import dataclass, field

import networkx as nx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.answers.models import ANSWERED, Question, RelatedLink


RECHECK_SECONDS = 5.0  # how stale the whole-graph view may be, to spare the version query


@dataclass
class Network:
    version: tuple
    checked: float
    graph: nx.DiGraph
    rank: dict[int, float] = field(default_factory=dict)
    # Answers computed from this version of the graph (hubs, orphans), kept with it.
    memo: dict = field(default_factory=dict)

    @functools.cached_property
    def undirected(self) -> nx.Graph:
        return self.graph.to_undirected()


_lock = threading.Lock()
# One per engine (an app's database), dropped with it.
_cached: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _version(session: Session) -> tuple:
    links = session.execute(select(func.count(RelatedLink.id), func.max(RelatedLink.id))).one()
    questions = session.execute(select(func.count(Question.id), func.max(Question.updated_at))).one()
    return (*links, *questions)


def network(session: Session) -> Network:
    """The current graph: nodes carry slug, text, status and category; edges carry kind."""
    key = session.get_bind()
    cached = _cached.get(key)
    if cached and time.monotonic() - cached.checked < RECHECK_SECONDS:
        return cached
    version = _version(session)  # two aggregate queries: ~30 ms at 100,000 questions
    with _lock:
        cached = _cached.get(key)
        if cached and cached.version == version:
            cached.checked = time.monotonic()
            return cached
        graph = nx.DiGraph()
        for qid, slug, text, status, category in session.execute(
            select(Question.id, Question.slug, Question.text, Question.status, Question.category_id)
        ):
            graph.add_node(qid, slug=slug, text=text, answered=status == ANSWERED, category=category)
        for source, target, kind in session.execute(select(RelatedLink.from_id, RelatedLink.to_id, RelatedLink.kind)):
            graph.add_edge(source, target, kind=kind)
        rank = nx.pagerank(graph) if len(graph) else {}
        _cached[key] = Network(version, time.monotonic(), graph, rank)
        return _cached[key]


def hubs(net: Network, limit: int = 10, category: int | None = None) -> list[int]:
    """The most central answered questions (PageRank), optionally within a category."""
    key = ("hubs", limit, category)
    if key not in net.memo:
        nodes = [n for n, data in net.graph.nodes(data=True)
                 if data["answered"] and (category is None or data["category"] == category)]
        net.memo[key] = heapq.nsmallest(limit, nodes, key=lambda n: (-net.rank.get(n, 0), net.graph.nodes[n]["text"]))
    return net.memo[key]


def orphans(net: Network) -> list[int]:
    """Answered questions that no other question links to."""
    return sorted((n for n, data in net.graph.nodes(data=True) if data["answered"] and net.graph.in_degree(n) == 0),
                  key=lambda n: net.graph.nodes[n]["text"])


def chain(net: Network, source: int, target: int) -> list[int] | None:
    """The shortest chain of related questions between two, following links either way."""
    try:
        return nx.shortest_path(net.undirected, source, target)
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return None
