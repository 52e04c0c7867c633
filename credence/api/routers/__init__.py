"""The gate's routes, one module per concern."""
