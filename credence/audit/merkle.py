"""RFC 9162 §2.1 Merkle trees, pure: hashes, proofs and their verification. No I/O.

Written from the RFC's text (§2.1.1 hashing, §2.1.3 inclusion, §2.1.4 consistency); the
Certificate Transparency vectors in ``tests/unit/audit`` pin it to transparency-dev/merkle.

A tree over ``n`` leaves is made of *perfect* subtrees: node ``(level, k)`` covers leaves
``[k * 2**level, (k + 1) * 2**level)``. Every range a proof names starts on a boundary of its own
size's power of two, so its hash is the fold of a few perfect nodes (``perfect_parts``): the
store keeps those nodes, and a proof over a million leaves reads about forty of them.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
Node = tuple[int, int]  # (level, index at that level)


class ProofError(ValueError):
    """A proof that does not prove what it claims (wrong size, wrong hashes, wrong roots)."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of leaf hashes, in memory."""
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    return compact.root()


class CompactRange:
    """The right edge of a growing tree: one perfect subtree per set bit of its size, so
    appending a leaf costs on average one node hash and the root of any size is at hand."""

    __slots__ = ("size", "stack")

    def __init__(self, size: int = 0, stack: Sequence[bytes] = ()) -> None:
        self.size = size
        self.stack = list(stack)  # hashes of the perfect subtrees, largest (leftmost) first
        if len(self.stack) != size.bit_count():
            raise ProofError(f"a tree of {size} leaves has {size.bit_count()} edge subtrees, not {len(self.stack)}")

    def append(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        """Add one leaf hash; returns the perfect nodes above level 0 it completes, lowest first."""
        made: list[tuple[Node, bytes]] = []
        index = self.size
        value = leaf
        level = 0
        while index & 1:  # each trailing one bit is a perfect subtree of the same size to merge with
            value = node_hash(self.stack.pop(), value)
            level += 1
            index >>= 1
            made.append(((level, index), value))
        self.stack.append(value)
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        value = self.stack[-1]
        for left in reversed(self.stack[:-1]):
            value = node_hash(left, value)
        return value


def edge(size: int) -> list[Node]:
    """The perfect nodes of a tree's right edge (``CompactRange.stack``), largest first."""
    return perfect_parts(0, size)


def perfect_parts(start: int, end: int) -> list[Node]:
    """The perfect nodes that cover ``[start, end)``, left to right; ``start`` must be a multiple
    of the largest power of two not above ``end - start`` (every range a proof names is)."""
    parts: list[Node] = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):  # only aligned subtrees are stored
            level -= 1
        parts.append((level, start >> level))
        start += 1 << level
    return parts


def range_hash(start: int, end: int, nodes: Mapping[Node, bytes]) -> bytes:
    """MTH(D[start:end]) from the perfect nodes that cover it (right-heavy, as RFC 9162 splits)."""
    parts = [nodes[part] for part in perfect_parts(start, end)]
    value = parts[-1]
    for left in reversed(parts[:-1]):
        value = node_hash(left, value)
    return value


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes make PATH(index, D[size]) (RFC 9162 §2.1.3.1), bottom up."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    found: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            found.append((start + k, end))
            end = start + k
        else:
            found.append((start, start + k))
            start += k
    found.reverse()
    return found


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The ranges whose hashes make PROOF(first, D[second]) (RFC 9162 §2.1.4.1)."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from {first} to {second}")
    found: list[tuple[int, int]] = []
    m, start, end, whole = first, 0, second, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                found.append((start, end))
            break
        k = _split(n)
        if m <= k:
            found.append((start + k, end))
            end = start + k
        else:
            found.append((start, start + k))
            start, m, whole = start + k, m - k, False
    found.reverse()
    return found


def nodes_for(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    """Every perfect node a list of ranges needs: what to read from the store in one query."""
    return {part for start, end in ranges for part in perfect_parts(start, end)}


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> None:
    """RFC 9162 §2.1.3.2; raises ProofError unless ``proof`` shows ``leaf`` at ``index``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    if len(leaf) != HASH_SIZE:
        raise ProofError(f"a leaf hash has {HASH_SIZE} bytes, not {len(leaf)}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    if r != root_hash:
        raise ProofError("the inclusion proof leads to another root")


def verify_consistency(first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes) -> None:
    """RFC 9162 §2.1.4.2; raises ProofError unless the tree of ``second`` extends that of ``first``.

    A tree of size 0 is consistent with every tree, so a proof from it proves nothing and is
    refused (as transparency-dev/merkle does): a witness's first checkpoint is taken as it is."""
    if second < first:
        raise ProofError(f"the second tree ({second}) is smaller than the first ({first})")
    if first == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if first == second:
        if proof:
            raise ProofError("two trees of one size need an empty proof")
        if first_root != second_root:
            raise ProofError("two trees of one size with different roots")
        return
    if not proof:
        raise ProofError("an empty consistency proof between trees of different sizes")
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first tree is itself a node of the second
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the tree is deep")
    if fr != first_root:
        raise ProofError("the consistency proof does not lead to the first root")
    if sr != second_root:
        raise ProofError("the consistency proof does not lead to the second root")
