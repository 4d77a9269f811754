"""Records of the index's SQLite file, read when asked for rather than all at load.

A server holding every chunk and sentence as Python objects pays for them once per worker: on an index of
a million sentences that is most of a worker's memory, where the file itself is shared in the page cache.
Answers read a few passages' rows each, so they are read on demand and the recent ones kept.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

R = TypeVar("R")
# Rows, and ranges of rows (a passage's sentences), kept once read.
RECORDS_CACHE = 4096
# Rows read at a time when all are.
_PAGE = 10_000


def connect(path: Path) -> sqlite3.Connection:
    """A read-only connection; ``immutable``: a published build never changes, so SQLite takes no locks."""
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)


class StoredRecords(Sequence[R], Generic[R]):
    """The rows of ``table``, each parsed by ``parse``, by their integer ``key``: ``0 … len-1`` when used
    as a sequence, any key with ``get``.

    One connection, opened here and shared by every thread under a lock (a read takes microseconds): it
    keeps the file open, so a server still answering from an index whose build a newer one replaced (and
    deleted) reads on until it reloads, as it does from the mapped vectors.
    """

    def __init__(self, path: Path, table: str, parse: Callable[[tuple[Any, ...]], R], key: str = "row") -> None:
        self.path = path
        self.table = table
        self.key = key
        self._parse = parse
        self._connection = connect(path)
        self._lock = threading.Lock()
        self._length: int = self._query(f"SELECT count(*) FROM {table}")[0][0]
        self._range = lru_cache(maxsize=RECORDS_CACHE)(self._read_range)

    def _query(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, item: int) -> R: ...

    @overload
    def __getitem__(self, item: slice) -> list[R]: ...

    def __getitem__(self, item: int | slice) -> R | list[R]:
        if isinstance(item, slice):
            start, stop, step = item.indices(self._length)
            if step != 1:
                return [self[row] for row in range(start, stop, step)]
            return list(self._range(start, max(stop, start)))
        found = self.get(item + self._length if item < 0 else item)
        if found is None:
            raise IndexError(f"{self.table} row {item} out of range")
        return found

    def get(self, key: int) -> R | None:
        """The record whose key is ``key``, or None when there is none."""
        found = self._range(key, key + 1)
        return found[0] if found else None

    def __iter__(self) -> Iterator[R]:
        """Every row in order, a page at a time (building from a previous index reads it whole, once)."""
        for start in range(0, self._length, _PAGE):
            yield from self._read_range(start, start + _PAGE)

    def column(self, name: str) -> list[Any]:
        """One column of every row, in order, without making the records."""
        return [value for (value,) in self._query(f"SELECT {name} FROM {self.table} ORDER BY {self.key}")]

    def _read_range(self, start: int, stop: int) -> tuple[R, ...]:
        query = f"SELECT * FROM {self.table} WHERE {self.key} >= ? AND {self.key} < ? ORDER BY {self.key}"
        return tuple(self._parse(row) for row in self._query(query, (start, stop)))
