"""Lists in pages: reading `?page=`, one `Page` for every pager, and cutting a query into pages."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PAGE = 100_000


def page_number() -> int:
    raw = request.args.get("page", "1").strip()
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        abort(400, description="The page number must be a whole number from 1 upwards.")
    return int(raw)


@dataclass(frozen=True)
class Page:
    """One page of a list and where it sits among the others (templates/_pager.html).

    A list that was not counted (`total` None: search shows its hits before it counts
    them) knows only whether another page follows, from one item more than it shows."""

    items: list
    number: int  # from 1
    size: int
    total: int | None = None
    more: bool = False  # read only when `total` is None
    approximate: bool = False  # the total is an estimate

    @property
    def count(self) -> int | None:
        """How many pages there are, if the list was counted."""
        return None if self.total is None else max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.more if self.count is None else self.number < self.count


def page_of(total: int, number: int, size: int, fetch: Callable[[int, int], list]) -> Page | None:
    """Page `number` of a list of `total` items, which `fetch(limit, offset)` reads; None
    past the last page. The first page always exists, empty or not."""
    if number > 1 and (number - 1) * size >= total:
        return None
    return Page(list(fetch(size, (number - 1) * size)), number, size, total)


def paginate(session: Session, statement: Select, number: int, size: int, total: int | None = None) -> Page | None:
    """Page `number` of what `statement` selects in its order, counted (unless the caller
    keeps the `total`); None past the last page. A statement of one column or entity gives
    its values, others their rows."""
    if total is None:
        total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0

    def fetch(limit: int, offset: int) -> list:
        rows = session.execute(statement.limit(limit).offset(offset))
        return list(rows.scalars() if len(statement.column_descriptions) == 1 else rows)

    return page_of(total, number, size, fetch)


def capped_count(session: Session, statement: Select, cap: int) -> tuple[int, bool]:
    """How many rows `statement` has, reading at most `cap` + 1 of them in its order:
    (count, more than `cap`; then the count is `cap`)."""
    n = session.scalar(select(func.count()).select_from(statement.limit(cap + 1).subquery())) or 0
    return (cap, True) if n > cap else (n, False)


def paginate_capped(session: Session, statement: Select, number: int, size: int, cap: int) -> Page | None:
    """As `paginate`, but counting at most `cap` + 1 rows: past the cap the page is not
    counted (`total` None) and knows only whether another page follows. For lists that
    may hold most of a large table, where an exact count read every row."""
    counted, more = capped_count(session, statement, cap)
    if not more:
        return paginate(session, statement, number, size, total=counted)
    rows = list(session.scalars(statement.limit(size + 1).offset((number - 1) * size)))
    if number > 1 and not rows:
        return None
    return Page(rows[:size], number, size, None, more=len(rows) > size)
