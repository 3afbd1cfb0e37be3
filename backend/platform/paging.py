"""Lists a page at a time: a list route answers `limit` rows from `offset` on, and how many there are in all in the
X-Total-Count header (backend/platform/http.py `paged`), so that no request makes the server read, or a member's phone
receive, every row of a table that anyone can make grow.

A service's list is a `Paged`: a plain list of the page's rows (callers that only iterate or compare it see no
difference) that also knows the total.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

T = TypeVar("T")
U = TypeVar("U")


class Paged(list[T], Generic[T]):
    def __init__(self, rows: Iterable[T], total: int):
        super().__init__(rows)
        self.total = total

    def map(self, convert: Callable[[T], U]) -> Paged[U]:
        """The same page, each row converted (e.g. to its public schema)."""
        return Paged((convert(row) for row in self), self.total)


def page_of(session: Session, query: Select, *, limit: int, offset: int) -> Paged:
    """The rows of `query` (ordered, one entity per row) from `offset`, at most `limit`, and the count of them all."""
    return Paged(session.scalars(query.limit(limit).offset(offset)).all(), _count(session, query))


def page_of_rows(session: Session, query: Select, *, limit: int, offset: int) -> Paged:
    """The same for a query of several columns or entities a row (tuples)."""
    return Paged(session.execute(query.limit(limit).offset(offset)).all(), _count(session, query))


def _count(session: Session, query: Select) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
