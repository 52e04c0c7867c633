"""The canonical data model: pure types and checks, no I/O."""
