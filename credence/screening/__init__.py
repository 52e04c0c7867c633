"""The point of service: may subject X do action Y now? Exact ID only, never a fuzzy name."""
