"""The append-only event log. Every change writes its entry in the same transaction.

Entries are canonical JSON so that a later issue can make them the leaves of an RFC 9162
Merkle tree with signed checkpoints without rewriting them.
"""
