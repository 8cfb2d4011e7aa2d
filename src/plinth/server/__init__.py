"""The HTTP server: a thin FastAPI skin over the services."""
