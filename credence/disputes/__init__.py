"""Disputes: a subject's challenge of a record about them, its evidence, its deadline and its
answer, kept in the store (``disputes``, ``dispute_evidence``). This room keeps the rows and
says how an open dispute bears on a record's effect; the flows that file and decide, and write
the correction record, are ``dueprocess.disputes``."""
