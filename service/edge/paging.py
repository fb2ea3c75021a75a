"""A page of a query's rows, counted and cut in SQL: used by the API and the pages alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class Page(Generic[Row]):
    """One page of rows, the number of rows in all, this page's number and how many pages."""

    rows: list[Row]
    total: int
    number: int
    pages: int


def count(session: Session, query: Select[Any]) -> int:
    """Count the rows a query selects."""
    total: int = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return total


def page_of(session: Session, query: Select[Any], number: int, size: int, *order: Any) -> Page[Any]:
    """Return page `number` (1 and up; past the last: the last) of a query in `order`."""
    total = count(session, query)
    pages = max(1, -(-total // size))
    number = min(max(number, 1), pages)
    rows = session.scalars(query.order_by(*order).offset((number - 1) * size).limit(size))
    return Page(list(rows), total, number, pages)
