"""Proofs built from stored perfect nodes agree with RFC 9162's recursive definitions, and verify."""

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credence.audit import merkle


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(8, "big")) for i in range(n)]


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, word for word."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(mth(leaves[:k]), mth(leaves[k:]))


def _nodes(leaves: list[bytes]) -> dict[merkle.Node, bytes]:
    nodes = {(0, i): leaf for i, leaf in enumerate(leaves)}
    compact = merkle.CompactRange()
    for leaf in leaves:
        nodes.update(compact.append(leaf))
    return nodes


@given(st.integers(min_value=0, max_value=70))
def test_the_compact_range_gives_the_recursive_root(n: int) -> None:
    leaves = _leaves(n)
    assert merkle.root(leaves) == mth(leaves)


@given(st.data())
def test_inclusion_proofs_from_nodes_verify(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=1, max_value=70))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    leaves = _leaves(size)
    nodes = _nodes(leaves)
    proof = [merkle.range_hash(a, b, nodes) for a, b in merkle.inclusion_ranges(index, size)]
    assert all(merkle.range_hash(a, b, nodes) == mth(leaves[a:b]) for a, b in merkle.inclusion_ranges(index, size))
    merkle.verify_inclusion(index, size, leaves[index], proof, mth(leaves))


@given(st.data())
def test_consistency_proofs_from_nodes_verify(data: st.DataObject) -> None:
    second = data.draw(st.integers(min_value=1, max_value=70))
    first = data.draw(st.integers(min_value=1, max_value=second))
    leaves = _leaves(second)
    nodes = _nodes(leaves)
    proof = [merkle.range_hash(a, b, nodes) for a, b in merkle.consistency_ranges(first, second)]
    merkle.verify_consistency(first, second, proof, mth(leaves[:first]), mth(leaves))


def test_a_rewritten_leaf_breaks_consistency() -> None:
    leaves = _leaves(20)
    forged = [*leaves[:3], merkle.leaf_hash(b"forged"), *leaves[4:]]
    nodes = _nodes(forged)
    proof = [merkle.range_hash(a, b, nodes) for a, b in merkle.consistency_ranges(10, 20)]
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(10, 20, proof, mth(leaves[:10]), mth(forged))
