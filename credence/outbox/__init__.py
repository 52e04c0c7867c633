"""The outbox: notices to subjects, written in the transaction of the change they tell of, and
the claims a worker takes to deliver them. Below every room that changes what a subject is told
about (ingest, lists, pipeline), so each can write its notices where it writes its events."""

from credence.outbox.kinds import NoticeKind
from credence.outbox.write import Notice, enqueue, revive

__all__ = ["Notice", "NoticeKind", "enqueue", "revive"]
