"""The gate over HTTP: ``create_app(settings)`` builds the FastAPI application (``api.app``).

A face, like the CLI: it parses, calls the screening room and renders; it holds no domain logic
and never imports the ORM for a decision.
"""
