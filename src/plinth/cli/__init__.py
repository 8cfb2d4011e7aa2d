"""The ``plinth`` command (Typer + Rich)."""
