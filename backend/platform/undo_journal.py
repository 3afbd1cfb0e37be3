"""An undo journal for the indexer's derived rows, so that a reorg can take back what orphaned blocks changed.

While a `Journal` is attached to a session, every flush of the watched classes files, under the journal's current
block, how to take each change back: the old values of the columns an update changed (only those: columns other
processes change meanwhile, such as a vote's relay status, are left as they are), the whole row of a delete, the key
of an insert. `undo_after(block)` applies the inverses of everything filed above `block`, newest first, which leaves
the watched rows as they stood after `block`.

It works on flushes rather than on each domain's own rules, so nothing the indexer derives can be forgotten: a new
derived table only needs to be among the watched classes. Writes that bypass the ORM (Core UPDATE/DELETE) are not
seen, so the indexer keeps its writes to watched tables in the ORM.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, event, insert, inspect, select, update
from sqlalchemy.orm import Mapper, Session

from backend.platform.models import UndoEntry
from backend.platform.orm import Base


def _encode(value):
    if isinstance(value, enum.Enum):
        return {"$enum": value.name}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, (dict, list)):
        return {"$json": value}
    return value


def _decode(mapper: Mapper, key: str, value):
    if not isinstance(value, dict):
        return value
    if "$enum" in value:
        return mapper.columns[key].type.enum_class[value["$enum"]]
    if "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if "$bytes" in value:
        return bytes.fromhex(value["$bytes"])
    if "$decimal" in value:
        return Decimal(value["$decimal"])
    return value["$json"]


def _mapper_of(table_name: str) -> Mapper:
    for mapper in Base.registry.mappers:
        if mapper.local_table.name == table_name:
            return mapper
    raise LookupError(table_name)


def _key(mapper: Mapper, state) -> dict:
    return {column.key: _encode(value) for column, value in zip(mapper.primary_key, mapper.primary_key_from_instance(
        state.obj()))}


class Journal:
    """Files the undo of the watched classes' changes made through `session` under `block` (set per range)."""

    def __init__(self, session: Session, watched: Iterable[type]):
        self.session = session
        self.watched = tuple(watched)
        self.block: int | None = None  # None: nothing is filed (ranges far below the head cannot be reorganised)
        event.listen(session, "after_flush", self._after_flush)

    def close(self) -> None:
        event.remove(self.session, "after_flush", self._after_flush)

    def _after_flush(self, session: Session, _context) -> None:
        if self.block is None:
            return
        rows = []
        for obj in session.new:
            if isinstance(obj, self.watched):
                state = inspect(obj)
                rows.append(self._row("insert", state.mapper, _key(state.mapper, state), None))
        for obj in session.dirty:
            if isinstance(obj, self.watched):
                state = inspect(obj)
                old = {}
                for attr in state.mapper.column_attrs:
                    history = state.attrs[attr.key].history
                    if history.has_changes() and history.deleted:
                        old[attr.key] = _encode(history.deleted[0])
                if old:
                    rows.append(self._row("update", state.mapper, _key(state.mapper, state), old))
        for obj in session.deleted:
            if isinstance(obj, self.watched):
                state = inspect(obj)
                whole = {attr.key: _encode(state.dict[attr.key]) for attr in state.mapper.column_attrs
                         if attr.key in state.dict}
                rows.append(self._row("delete", state.mapper, _key(state.mapper, state), whole))
        if rows:
            session.connection().execute(insert(UndoEntry.__table__), rows)

    def _row(self, change: str, mapper: Mapper, key: dict, before: dict | None) -> dict:
        return {"block_number": self.block, "table_name": mapper.local_table.name, "change": change, "key": key,
                "before": before}


def undo_after(session: Session, block: int) -> int:
    """Takes back every change filed above `block`, newest first; the number of changes taken back."""
    entries = session.scalars(select(UndoEntry).where(UndoEntry.block_number > block)
                              .order_by(UndoEntry.id.desc())).all()
    session.flush()
    for entry in entries:
        mapper = _mapper_of(entry.table_name)
        table = mapper.local_table
        where = [mapper.columns[k] == _decode(mapper, k, v) for k, v in entry.key.items()]
        values = {k: _decode(mapper, k, v) for k, v in (entry.before or {}).items()}
        if entry.change == "insert":
            session.execute(delete(table).where(*where))
        elif entry.change == "update":
            session.execute(update(table).where(*where).values(
                {mapper.columns[k].name: v for k, v in values.items()}))
        else:
            session.execute(insert(table).values({mapper.columns[k].name: v for k, v in values.items()}))
    session.execute(delete(UndoEntry).where(UndoEntry.block_number > block))
    session.expire_all()  # the rows loaded before are stale now
    return len(entries)


def forget_below(session: Session, block: int) -> None:
    """Entries of blocks below `block` are past any reorg the indexer handles."""
    session.execute(delete(UndoEntry).where(UndoEntry.block_number < block))
