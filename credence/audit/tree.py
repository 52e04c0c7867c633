"""The Merkle tree in the store: leaf hashes in ``log_leaves``, perfect nodes in ``log_nodes``.

A range's hash is folded from the perfect nodes that cover it (``merkle.range_hash``), read in
one query per table; appending a leaf writes the nodes it completes, so nothing is ever
recomputed and nothing already written changes.
"""

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, and_, func, or_, select

from credence.audit import merkle
from credence.exc import NotFoundError
from credence.store import bulk
from credence.store.orm import LogLeaf, LogNode

CHUNK = 400  # (level, idx) pairs per IN list


def size(conn: Connection) -> int:
    """How many leaves the tree holds."""
    last = conn.execute(select(func.max(LogLeaf.idx))).scalar()
    return 0 if last is None else int(last) + 1


def nodes(conn: Connection, wanted: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    """The hashes of perfect nodes ``wanted`` (level 0 is a leaf)."""
    keys = set(wanted)
    leaves = [idx for level, idx in keys if level == 0]
    found: dict[merkle.Node, bytes] = {}
    for condition in bulk.matching(LogLeaf.idx, leaves, conn):
        found.update(
            ((0, int(i)), bytes(h)) for i, h in conn.execute(select(LogLeaf.idx, LogLeaf.hash).where(condition))
        )
    upper = sorted(k for k in keys if k[0] > 0)
    for start in range(0, len(upper), CHUNK):
        by_level: dict[int, list[int]] = {}
        for level, idx in upper[start : start + CHUNK]:
            by_level.setdefault(level, []).append(idx)
        # one indexed lookup per level: SQLite scans the whole table for a row-value IN list
        where = or_(*(and_(LogNode.level == level, LogNode.idx.in_(idxs)) for level, idxs in by_level.items()))
        rows = conn.execute(select(LogNode.level, LogNode.idx, LogNode.hash).where(where))
        found.update(((int(level), int(i)), bytes(h)) for level, i, h in rows)
    missing = keys - found.keys()
    if missing:
        raise NotFoundError(f"the log's store lacks {len(missing)} tree nodes, e.g. {min(missing)}")
    return found


def hashes(conn: Connection, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """MTH of each range, in order (what a proof is made of)."""
    found = nodes(conn, merkle.nodes_for(ranges))
    return [merkle.range_hash(start, end, found) for start, end in ranges]


def compact(conn: Connection, at: int) -> merkle.CompactRange:
    """The right edge of the tree of ``at`` leaves, to append to or take the root of."""
    edge = merkle.edge(at)
    found = nodes(conn, edge)
    return merkle.CompactRange(at, [found[node] for node in edge])


def root(conn: Connection, at: int) -> bytes:
    """MTH(D[at]) from the stored nodes."""
    return compact(conn, at).root()


def write_nodes(conn: Connection, made: Sequence[tuple[merkle.Node, bytes]]) -> None:
    bulk.insert_rows(conn, LogNode, ("level", "idx", "hash"), [(level, idx, h) for (level, idx), h in made])
